"""Tests of IdentityPyramidNeck and FPN1d."""
import pytest
import torch
from mmaction.registry import MODELS

from asl_mmaction.models.layers import ChannelLayerNorm


def _mask(lengths, total):
    return (torch.arange(total)[None, :] < torch.tensor(lengths)[:, None]
            )[:, None, :]


def _pyramid(channels, length=32, lengths=(32, 19), seed=0):
    """Masked random features, one level per entry of ``channels``."""
    torch.manual_seed(seed)
    feats, masks = [], []
    for level, c in enumerate(channels):
        steps = length // 2 ** level
        mask = _mask([-(-n // 2 ** level) for n in lengths], steps)
        feats.append(torch.randn(len(lengths), c, steps) * mask)
        masks.append(mask)
    return tuple(feats), tuple(masks)


def _randomise_norms(neck):
    for module in neck.modules():
        if isinstance(module, ChannelLayerNorm):
            torch.nn.init.normal_(module.weight)
            torch.nn.init.normal_(module.bias)


def test_identity_neck_normalises_each_level():
    neck = MODELS.build(dict(type='IdentityPyramidNeck', in_channels=8,
                             out_channels=8, num_levels=4))
    _randomise_norms(neck)
    feats, masks = _pyramid([8] * 4)
    out, out_masks = neck(feats, masks)
    assert len(out) == 4 and out_masks == masks
    for level, (o, f, m) in enumerate(zip(out, feats, masks)):
        assert torch.allclose(o, neck.norms[level](f) * m)
        assert (o * ~m).abs().max() == 0  # LN bias not left in padding
    plain = MODELS.build(dict(type='IdentityPyramidNeck', in_channels=[8] * 4,
                              out_channels=8, num_levels=4, with_ln=False))
    assert all(torch.equal(o, f) for o, f in zip(plain(feats, masks)[0],
                                                  feats))


def test_identity_neck_rejects_mismatches():
    with pytest.raises(ValueError, match='out_channels=8.*FPN1d'):
        MODELS.build(dict(type='IdentityPyramidNeck', in_channels=[8, 4],
                          out_channels=8, num_levels=2))
    with pytest.raises(ValueError, match='3 in_channels for num_levels=2'):
        MODELS.build(dict(type='IdentityPyramidNeck', in_channels=[8] * 3,
                          out_channels=8, num_levels=2))
    neck = MODELS.build(dict(type='IdentityPyramidNeck', in_channels=8,
                             out_channels=8, num_levels=3))
    feats, masks = _pyramid([8] * 2)
    with pytest.raises(ValueError, match='IdentityPyramidNeck: expected 3'):
        neck(feats, masks)


def test_fpn_shapes_masks_and_start_level():
    channels = [8, 12, 16, 16]
    feats, masks = _pyramid(channels, length=32, lengths=(32, 11))
    neck = MODELS.build(dict(type='FPN1d', in_channels=channels,
                             out_channels=6, num_levels=2, start_level=1))
    _randomise_norms(neck)
    out, out_masks = neck(feats, masks)
    assert [tuple(o.shape) for o in out] == [(2, 6, 16), (2, 6, 8)]
    assert out_masks == masks[1:3]
    for o, m in zip(out, out_masks):
        assert (o * ~m).abs().max() == 0
    assert len(MODELS.build(dict(type='FPN1d', in_channels=channels,
                                 out_channels=6)).lateral_convs) == 4


def test_fpn_matches_hand_computed_top_down_sum():
    # Identity laterals and output convs, no LN: level l is the sum of
    # itself and every coarser level, each up-sampled by repetition.
    neck = MODELS.build(dict(type='FPN1d', in_channels=[4, 4, 4],
                             out_channels=4, with_ln=False))
    for conv in neck.lateral_convs:
        conv.conv.weight.data.copy_(torch.eye(4)[:, :, None])
    for conv in neck.fpn_convs:
        conv.conv.weight.data.zero_()
        conv.conv.weight.data[:, 0, 1] = 1.0
    feats, masks = _pyramid([4, 4, 4], length=16, lengths=(16, 9))
    out, _ = neck(feats, masks)
    up1 = feats[1].repeat_interleave(2, dim=-1)
    up2 = feats[2].repeat_interleave(4, dim=-1)
    assert torch.allclose(out[2], feats[2])
    up2_to_1 = feats[2].repeat_interleave(2, dim=-1)
    assert torch.allclose(out[1], (feats[1] + up2_to_1) * masks[1])
    assert torch.allclose(out[0], (feats[0] + up1 + up2) * masks[0])


def test_fpn_information_flows_top_down_only():
    channels = [8, 8, 8]
    neck = MODELS.build(dict(type='FPN1d', in_channels=channels,
                             out_channels=8))
    feats, masks = _pyramid(channels)
    base, _ = neck(feats, masks)
    changed_coarse = feats[:2] + (feats[2] + masks[2],)
    out, _ = neck(changed_coarse, masks)
    assert not torch.allclose(out[0], base[0])  # fine levels see coarse
    changed_fine = (feats[0] + masks[0],) + feats[1:]
    out, _ = neck(changed_fine, masks)
    assert torch.equal(out[1], base[1]) and torch.equal(out[2], base[2])


def test_fpn_gradients_and_bad_config():
    channels = [8, 8]
    neck = MODELS.build(dict(type='FPN1d', in_channels=channels,
                             out_channels=4))
    feats, masks = _pyramid(channels)
    out, _ = neck(feats, masks)
    sum(o.pow(2).sum() for o in out).backward()
    for name, param in neck.named_parameters():
        assert param.grad is not None and param.grad.abs().sum() > 0, name
    with pytest.raises(ValueError, match='not inside'):
        MODELS.build(dict(type='FPN1d', in_channels=channels,
                          out_channels=4, num_levels=2, start_level=1))
    with pytest.raises(ValueError, match='list every level'):
        MODELS.build(dict(type='FPN1d', in_channels=8, out_channels=4))
    with pytest.raises(ValueError, match=r'level 1 expected \[B, 8, T\]'):
        neck((feats[0], feats[1][:, :4]), masks)
