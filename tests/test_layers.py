"""Tests of the shared 1-D layers (asl_mmaction.models.layers)."""
import math

import pytest
import torch
import torch.nn as nn
from mmaction.registry import MODELS

from asl_mmaction.models.layers import (AffineDropPath, ChannelLayerNorm,
                                        ConvBlock1d, LocalMaskedMHA,
                                        MaskedConv1d, MaskedConvTower1d,
                                        Scale, StreamProjection1d,
                                        TransformerBlock1d,
                                        local_window_attention,
                                        masked_max_pool1d, sinusoid_encoding)


def _mask(lengths, total):
    """``[B, 1, total]`` bool mask with the given valid lengths."""
    return (torch.arange(total)[None, :] < torch.tensor(lengths)[:, None]
            )[:, None, :]


def _reference_attention(q, k, v, key_mask, window_size):
    """Full T x T attention with a band mask |i-j| <= w//2 and a key mask;
    queries that see no valid key give 0."""
    length = q.shape[2]
    idx = torch.arange(length)
    allowed = key_mask[:, None, None, :].expand(-1, 1, length, -1)
    if window_size is not None:
        band = (idx[:, None] - idx[None, :]).abs() <= window_size // 2
        allowed = allowed & band
    scores = (q @ k.transpose(-2, -1)).masked_fill(~allowed, float('-inf'))
    probs = torch.nan_to_num(scores.softmax(-1), nan=0.0)
    return probs @ v


@pytest.mark.parametrize('length,window,lengths', [
    (36, 19, [36, 20]),   # T a multiple of the chunk
    (37, 19, [37, 5]),    # odd T, short valid part
    (23, 7, [23, 1]),     # a single valid step
    (10, 4, [10, 7]),     # even window -> half = 2
    (9, 31, [9, 4]),      # window longer than the sequence
    (16, 1, [16, 3]),     # window 1 attends to itself only
    (13, None, [13, 6]),  # global attention
])
def test_local_window_attention_matches_full_band_attention(
        length, window, lengths):
    torch.manual_seed(0)
    q, k, v = (torch.randn(2, 3, length, 8, dtype=torch.float64,
                           requires_grad=True) for _ in range(3))
    key_mask = _mask(lengths, length)[:, 0]
    key_mask[0, 2] = False  # a hole inside the valid part too
    out = local_window_attention(q, k, v, key_mask, window)
    ref = _reference_attention(q, k, v, key_mask, window)
    assert out.shape == (2, 3, length, 8)
    # Only queries that see a valid key are defined by the reference.
    assert torch.allclose(out, ref, atol=1e-5)
    # Gradients agree too, and nothing turns NaN in the backward pass.
    weight = torch.randn_like(out)
    grads = torch.autograd.grad((out * weight).sum(), (q, k, v))
    ref_grads = torch.autograd.grad((ref * weight).sum(), (q, k, v))
    for grad, ref_grad in zip(grads, ref_grads):
        assert torch.isfinite(grad).all()
        assert torch.allclose(grad, ref_grad, atol=1e-5)


def test_local_window_attention_float32_and_empty_rows():
    torch.manual_seed(1)
    q, k, v = (torch.randn(1, 2, 50, 4) for _ in range(3))
    key_mask = _mask([30], 50)[:, 0]
    out = local_window_attention(q, k, v, key_mask, 9)
    ref = _reference_attention(q, k, v, key_mask, 9)
    assert torch.allclose(out, ref, atol=1e-5)
    # Queries 35.. see only padded keys (window half = 4): exactly zero.
    assert out[..., 35:, :].abs().max() == 0
    # And the padded values cannot leak into valid queries.
    v2 = v.clone()
    v2[..., 30:, :] = 1e3
    out2 = local_window_attention(q, k, v2, key_mask, 9)
    assert torch.equal(out[..., :30, :], out2[..., :30, :])


def _module_reference(mha, x, mask):
    """LocalMaskedMHA recomputed with full-attention reference maths."""
    q, q_mask = mha.query_conv(x, mask)
    k, _ = mha.key_conv(x, mask)
    v, _ = mha.value_conv(x, mask)
    q = mha._heads(mha.query(mha.query_norm(q))) * mha.scale
    k = mha._heads(mha.key(mha.key_norm(k)))
    v = mha._heads(mha.value(mha.value_norm(v)))
    out = _reference_attention(q, k, v, q_mask[:, 0], mha.window_size)
    out = out.transpose(2, 3).reshape(x.shape[0], x.shape[1], -1)
    return mha.proj(out) * q_mask


@pytest.mark.parametrize('stride,length,lengths', [
    (1, 40, [40, 27]), (2, 40, [40, 27]), (2, 38, [33, 1])])
def test_local_masked_mha(stride, length, lengths):
    torch.manual_seed(2)
    mha = LocalMaskedMHA(16, num_heads=4, window_size=5, stride=stride)
    mha.eval()
    mask = _mask(lengths, length)
    x = torch.randn(2, 16, length) * mask
    out, out_mask = mha(x, mask)
    assert out.shape == (2, 16, length // stride)
    assert out_mask.shape == (2, 1, length // stride)
    # Nearest down-sampling keeps ceil(L / stride) valid steps.
    expected = [math.ceil(n / stride) for n in lengths]
    assert out_mask.sum(dim=(1, 2)).tolist() == expected
    assert (out * ~out_mask).abs().max() == 0
    assert torch.allclose(out, _module_reference(mha, x, mask), atol=1e-5)


def test_local_masked_mha_rejects_bad_config():
    with pytest.raises(ValueError, match='divisible by num_heads'):
        LocalMaskedMHA(10, num_heads=4)
    with pytest.raises(ValueError, match='stride'):
        LocalMaskedMHA(8, num_heads=2, stride=3)
    assert LocalMaskedMHA(8, 2, window_size=-1).window_size is None


def test_masked_conv1d():
    conv = MaskedConv1d(3, 5, 3, stride=2)
    assert conv.conv.bias.abs().sum() == 0  # bias starts at zero
    mask = _mask([5, 8], 8)
    out, out_mask = conv(torch.randn(2, 3, 8), mask)
    assert out.shape == (2, 5, 4)
    # Step i of the output copies the mask at input step 2i.
    assert out_mask[:, 0].tolist() == [[True, True, True, False],
                                       [True] * 4]
    assert out[0, :, 3].abs().max() == 0
    with pytest.raises(ValueError, match='not divisible by the stride 2'):
        conv(torch.randn(1, 3, 7), _mask([7], 7))
    with pytest.raises(ValueError, match='odd kernel_size'):
        MaskedConv1d(3, 5, 4)


def test_channel_layer_norm_matches_torch_layer_norm():
    torch.manual_seed(3)
    norm = ChannelLayerNorm(6)
    nn.init.normal_(norm.weight)
    nn.init.normal_(norm.bias)
    ref = nn.LayerNorm(6)
    ref.weight.data.copy_(norm.weight.view(-1))
    ref.bias.data.copy_(norm.bias.view(-1))
    x = torch.randn(2, 6, 11) * 3 + 1
    assert torch.allclose(norm(x), ref(x.transpose(1, 2)).transpose(1, 2),
                          atol=1e-5)
    assert ChannelLayerNorm(6, affine=False).weight is None
    with pytest.raises(ValueError, match=r'expects \[B, 6, T\]'):
        norm(torch.randn(2, 5, 11))


def test_transformer_block1d():
    torch.manual_seed(4)
    block = TransformerBlock1d(16, 4, window_size=5, stride=2,
                               path_drop=0.3)
    mask = _mask([20, 13], 24)
    x = torch.randn(2, 16, 24) * mask
    block.eval()
    out, out_mask = block(x, mask)
    assert out.shape == (2, 16, 12)
    assert out_mask.sum(dim=(1, 2)).tolist() == [10, 7]
    assert (out * ~out_mask).abs().max() == 0
    assert torch.equal(out, block(x, mask)[0])  # eval is deterministic
    # With both residual branches silenced the block is the max-pool
    # shortcut (kernel 3, stride 2) of each video's unpadded steps, aligned
    # with the output mask: padded zeros never win a max.
    for drop in (block.drop_path_attn, block.drop_path_mlp):
        drop.scale.data.zero_()
    out, out_mask = block(x, mask)
    for b, length in enumerate([20, 13]):
        pooled = nn.functional.max_pool1d(x[b:b + 1, :, :length], 3,
                                          stride=2, padding=1)
        assert torch.equal(out[b:b + 1, :, :pooled.shape[-1]], pooled)
    # Training with drop path zeroes whole samples of a branch at random.
    block.train()
    block.drop_path_attn.scale.data.fill_(1.0)
    outs = {tuple(block(x, mask)[0].flatten().tolist()) for _ in range(8)}
    assert len(outs) > 1


def test_transformer_block1d_without_drop_path_uses_identity():
    block = TransformerBlock1d(8, 2, window_size=3, path_drop=0.0)
    assert isinstance(block.drop_path_attn, nn.Identity)
    mask = _mask([9], 12)
    x = torch.randn(1, 8, 12) * mask
    out, out_mask = block(x, mask)
    assert out.shape == x.shape and torch.equal(out_mask, mask)
    assert out[..., 9:].abs().max() == 0


def test_conv_block1d():
    torch.manual_seed(5)
    block = ConvBlock1d(8, stride=2)
    mask = _mask([11, 16], 16)
    x = torch.relu(torch.randn(2, 8, 16)) * mask
    out, out_mask = block(x, mask)
    assert out.shape == (2, 8, 8) and out.min() >= 0
    assert out_mask.sum(dim=(1, 2)).tolist() == [6, 8]
    assert out[0, :, 6:].abs().max() == 0
    # Stride 1: identity shortcut; with a silent residual x (>= 0) passes.
    block1 = ConvBlock1d(8)
    assert block1.shortcut is None
    for conv in (block1.conv1.conv, block1.conv2.conv):
        nn.init.zeros_(conv.weight)
    assert torch.equal(block1(x, mask)[0], x)


def test_conv_tower_masks_after_every_norm():
    tower = MaskedConvTower1d(5, 12, num_convs=2, with_ln=True)
    assert tower.convs[0].conv.bias is None  # LN supplies the bias
    with torch.no_grad():  # a trained-like LN: its bias would fill padding
        for norm in tower.norms:
            norm.bias.uniform_(0.5, 1.0)
    mask = _mask([7], 10)
    x = torch.randn(1, 5, 10)
    out = tower(x, mask)
    assert out.shape == (1, 12, 10)
    assert out[..., 7:].abs().max() == 0 and out.min() >= 0
    # the valid steps do not see how much padding follows
    short = tower(x[..., :8], _mask([7], 8))
    assert torch.allclose(out[..., :7], short[..., :7], atol=1e-6)
    assert isinstance(MaskedConvTower1d(5, 12, 1, with_ln=False).norms[0],
                      nn.Identity)
    identity = MaskedConvTower1d(5, 12, 0)
    assert identity.out_channels == 5 and torch.equal(identity(x, mask),
                                                      x * mask)


def test_stream_projection_projects_each_stream_on_its_own():
    proj = StreamProjection1d([3, 2], [4, 1])
    assert proj.out_channels == 5
    x = torch.randn(2, 5, 6)
    mask = _mask([6, 4], 6)
    out = proj(x, mask)
    assert out.shape == (2, 5, 6) and out[1, :, 4:].abs().max() == 0
    # changing the second stream leaves the first stream's output alone
    y = x.clone()
    y[:, 3:] += 1.0
    assert torch.equal(proj(y, mask)[:, :4], out[:, :4])
    with pytest.raises(ValueError, match='one output width per stream'):
        StreamProjection1d([3, 2], [4])


def test_masked_max_pool_ignores_padding():
    x = -torch.rand(1, 3, 8) - 1.0  # all negative: a padded 0 would win
    mask = _mask([5], 8)
    out = masked_max_pool1d(x * mask, mask, 2)
    ref = torch.nn.functional.max_pool1d(x[..., :5], 3, 2, 1)  # unpadded
    assert out.shape == (1, 3, 4)
    assert torch.equal(out[..., :3], ref)
    assert out[..., 3:].abs().max() == 0  # invalid output steps are 0


def test_scale_and_affine_drop_path():
    scale = Scale(2.5)
    x = torch.randn(3, 4)
    y = scale(x)
    assert torch.allclose(y, 2.5 * x)
    y.sum().backward()
    assert torch.allclose(scale.scale.grad, x.sum())

    drop = AffineDropPath(4, drop_prob=0.5, init_scale=1e-4)
    x = torch.randn(64, 4, 3)
    drop.eval()
    assert torch.allclose(drop(x), 1e-4 * x)
    drop.train()
    torch.manual_seed(6)
    out = drop(x)
    # Each sample is either dropped or rescaled by 1 / keep_prob.
    kept = (out.abs().sum(dim=(1, 2)) > 0)
    assert 0 < kept.sum() < 64
    assert torch.allclose(out[kept], 2e-4 * x[kept])


def test_sinusoid_encoding_values():
    table = sinusoid_encoding(50, 8)
    assert table.shape == (1, 8, 50)
    t = torch.arange(50, dtype=torch.float32)
    assert torch.allclose(table[0, 0], torch.sin(t), atol=1e-6)
    assert torch.allclose(table[0, 1], torch.cos(t), atol=1e-6)
    assert torch.allclose(table[0, 6], torch.sin(t / 10000 ** (6 / 8)),
                          atol=1e-6)
    assert torch.allclose(table[0, 7], torch.cos(t / 10000 ** (6 / 8)),
                          atol=1e-6)


def test_layers_are_registered():
    for cfg in [dict(type='MaskedConv1d', in_channels=2, out_channels=2,
                     kernel_size=3),
                dict(type='ChannelLayerNorm', num_channels=4),
                dict(type='LocalMaskedMHA', embed_channels=8, num_heads=2),
                dict(type='TransformerBlock1d', embed_channels=8,
                     num_heads=2),
                dict(type='ConvBlock1d', channels=4),
                dict(type='MaskedConvTower1d', in_channels=3,
                     out_channels=4, num_convs=1),
                dict(type='StreamProjection1d', in_channels=[2, 3],
                     out_channels=[1, 1]),
                dict(type='Scale'),
                dict(type='AffineDropPath', num_channels=4)]:
        assert type(MODELS.build(cfg)).__name__ == cfg['type']
