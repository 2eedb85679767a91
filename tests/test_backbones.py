"""Tests of ConvTransformerBackbone and ConvBackbone."""
import math

import pytest
import torch
from mmaction.registry import MODELS

SMALL_TRANSFORMER = dict(type='ConvTransformerBackbone', in_channels=12,
                         embed_channels=16, arch=(2, 1, 5), num_heads=4,
                         window_size=5, path_drop=0.1)
SMALL_CONV = dict(type='ConvBackbone', in_channels=12, embed_channels=16,
                  arch=(2, 1, 5))


def _mask(lengths, total):
    return (torch.arange(total)[None, :] < torch.tensor(lengths)[:, None]
            )[:, None, :]


def _build(cfg, **kwargs):
    torch.manual_seed(0)
    model = MODELS.build(dict(cfg, **kwargs))
    # Trained-looking norms and biases: at init they are 0, which would hide
    # anything leaking through them into padded steps.
    for name, param in model.named_parameters():
        if name.endswith('bias') or 'norm' in name or 'scale' in name:
            torch.nn.init.normal_(param, std=0.5)
    model.eval()
    return model


@pytest.mark.parametrize('cfg', [SMALL_TRANSFORMER, SMALL_CONV])
@pytest.mark.parametrize('length,lengths', [(32, [32, 1]), (64, [64, 45]),
                                            (96, [70, 96])])
def test_pyramid_shapes_and_masks(cfg, length, lengths):
    model = _build(cfg)
    mask = _mask(lengths, length)
    feats, masks = model(torch.randn(2, 12, length), mask)
    assert isinstance(feats, tuple) and len(feats) == len(masks) == 6
    for level, (feat, level_mask) in enumerate(zip(feats, masks)):
        steps = length // 2 ** level
        assert feat.shape == (2, 16, steps)
        assert level_mask.shape == (2, 1, steps)
        assert level_mask.dtype == torch.bool
        # Valid steps are a prefix of ceil(L / 2**l) steps.
        expected = _mask([math.ceil(n / 2 ** level) for n in lengths], steps)
        assert torch.equal(level_mask, expected)
        assert (feat * ~level_mask).abs().max() == 0


@pytest.mark.parametrize('cfg', [SMALL_TRANSFORMER, SMALL_CONV])
def test_padding_never_reaches_valid_outputs(cfg):
    model = _build(cfg, **({'with_abs_pe': True, 'max_seq_len': 128}
                           if 'num_heads' in cfg else {}))
    torch.manual_seed(1)
    valid = 45
    x = torch.randn(1, 12, 128)
    mask = _mask([valid], 64)
    feats, masks = model(x[..., :64], mask)
    # Garbage in the padding changes nothing.
    noisy = x[..., :64].clone()
    noisy[..., valid:] = torch.randn(1, 12, 64 - valid) * 100
    noisy_feats, _ = model(noisy, mask)
    # Nor does padding the same video to a longer length.
    long_feats, long_masks = model(x, _mask([valid], 128))
    for feat, noisy_feat, long_feat, level_mask in zip(
            feats, noisy_feats, long_feats, masks):
        steps = int(level_mask.sum())
        assert torch.allclose(feat[..., :steps], noisy_feat[..., :steps],
                              atol=1e-5)
        assert torch.allclose(feat[..., :steps], long_feat[..., :steps],
                              atol=1e-5)


@pytest.mark.parametrize('cfg', [SMALL_TRANSFORMER, SMALL_CONV])
def test_gradients_reach_every_parameter(cfg):
    model = _build(cfg)
    model.train()
    mask = _mask([64, 50], 64)
    feats, _ = model(torch.randn(2, 12, 64), mask)
    sum(feat.pow(2).sum() for feat in feats).backward()
    for name, param in model.named_parameters():
        assert param.grad is not None, name
        assert torch.isfinite(param.grad).all(), name
        assert param.grad.abs().sum() > 0, name


def test_eval_is_deterministic_and_train_uses_drop_path():
    model = _build(SMALL_TRANSFORMER)
    x, mask = torch.randn(2, 12, 64), _mask([64, 40], 64)
    first = model(x, mask)[0]
    second = model(x, mask)[0]
    assert all(torch.equal(a, b) for a, b in zip(first, second))
    model.train()
    torch.manual_seed(2)
    train_a = model(x, mask)[0][-1]
    train_b = model(x, mask)[0][-1]
    assert not torch.equal(train_a, train_b)


def test_abs_position_encoding():
    x, mask = torch.randn(1, 12, 64), _mask([60], 64)
    plain = _build(SMALL_TRANSFORMER)
    with_pe = _build(SMALL_TRANSFORMER, with_abs_pe=True, max_seq_len=64)
    # Same seed, same weights: only the encoding differs.
    assert plain.state_dict().keys() == with_pe.state_dict().keys()
    assert not torch.allclose(plain(x, mask)[0][0], with_pe(x, mask)[0][0])
    # Longer than max_seq_len: stretched at inference, refused in training.
    long_x, long_mask = torch.randn(1, 12, 96), _mask([96], 96)
    feats, _ = with_pe(long_x, long_mask)
    assert feats[0].shape == (1, 16, 96)
    with_pe.train()
    with pytest.raises(ValueError, match='exceeds max_seq_len 64'):
        with_pe(long_x, long_mask)


def test_per_level_window_sizes_and_global_attention():
    model = _build(SMALL_TRANSFORMER, window_size=(3, 5, 7, 9, -1, -1))
    assert model.stem[0].attn.window_size == 3
    assert [b.attn.window_size for b in model.branch] == [5, 7, 9, None,
                                                          None]
    feats, _ = model(torch.randn(1, 12, 64), _mask([64], 64))
    assert len(feats) == 6
    with pytest.raises(ValueError, match='6 entries'):
        _build(SMALL_TRANSFORMER, window_size=(3, 5))


@pytest.mark.parametrize('cfg', [SMALL_TRANSFORMER, SMALL_CONV])
def test_bad_inputs_are_named(cfg):
    model = _build(cfg)
    name = cfg['type']
    with pytest.raises(ValueError, match=f'{name}.*multiple of .* 32'):
        model(torch.randn(1, 12, 48), _mask([48], 48))
    with pytest.raises(ValueError, match=f'{name}.*bool mask'):
        model(torch.randn(1, 12, 64), torch.ones(1, 1, 64))
    with pytest.raises(ValueError, match=rf'{name}.*\[B, 12, T\]'):
        model(torch.randn(1, 10, 64), _mask([64], 64))
    with pytest.raises(ValueError, match='arch needs 3 entries'):
        _build(cfg, arch=(2, 2))


def _transformer_block_params(d):
    """Parameters of one TransformerBlock1d of width d (path drop on)."""
    norms = 5 * 2 * d                      # ln1, ln2, q/k/v norms
    depthwise = 3 * 3 * d                  # q/k/v depthwise convs, no bias
    projections = 4 * (d * d + d)          # q, k, v, out 1x1 convs
    mlp = d * 4 * d + 4 * d + 4 * d * d + d
    layer_scales = 2 * d
    return norms + depthwise + projections + mlp + layer_scales


def test_actionformer_sized_parameter_count():
    # ActionFormer's THUMOS14 backbone: 2304-d I3D features, 512 channels.
    model = MODELS.build(dict(type='ConvTransformerBackbone',
                              in_channels=2304))
    count = sum(p.numel() for p in model.parameters())
    embed = 2304 * 512 * 3 + 512 * 512 * 3 + 2 * 2 * 512
    assert count == embed + 7 * _transformer_block_params(512)
    assert 25e6 < count < 28e6
