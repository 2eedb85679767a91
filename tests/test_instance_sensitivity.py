"""InstanceSensitivityEvaluator: per-level qualities and their MSE loss."""
import pytest
import torch
from mmaction.registry import MODELS


def build(**kwargs):
    cfg = dict(type='InstanceSensitivityEvaluator', in_channels=8,
               feat_channels=16)
    cfg.update(kwargs)
    return MODELS.build(cfg)


def pyramid(batch=2, lengths=(16, 8), channels=8, valid=(16, 5)):
    torch.manual_seed(0)
    feats = tuple(torch.randn(batch, channels, t) for t in lengths)
    masks = []
    for t, v in zip(lengths, valid):
        m = torch.zeros(batch, 1, t, dtype=torch.bool)
        m[..., :v] = True
        masks.append(m)
    return feats, tuple(masks)


@pytest.mark.parametrize('num_convs,with_ln', [(1, True), (2, False),
                                                (0, True)])
def test_forward_shapes_and_range(num_convs, with_ln):
    ev = build(num_convs=num_convs, with_ln=with_ln)
    feats, masks = pyramid()
    out = ev(feats, masks)
    assert [tuple(o.shape) for o in out] == [(2, 16, 2), (2, 8, 2)]
    for o in out:
        assert ((o >= 0) & (o <= 1)).all()
    # padded steps see nothing: the masked output conv gives sigmoid(0)
    assert torch.allclose(out[1][:, 5:], torch.full_like(out[1][:, 5:], 0.5))
    # one branch shared over levels: a level alone gives the same output
    assert torch.allclose(ev(feats[1:], masks[1:])[0], out[1])


def test_loss_value_by_hand():
    ev = build(loss_weight=2.0)
    pred = torch.tensor([[0.5, 0.2], [1.0, 0.0]], requires_grad=True)
    cls_t = torch.tensor([0.0, 1.0])
    loc_t = torch.tensor([0.2, 0.5])
    # squared errors 0.25 + 0 + 0 + 0.25, over M = 2 points, times 2
    loss = ev.loss(pred, torch.stack([cls_t, loc_t], dim=1))
    assert loss.item() == pytest.approx(0.5)
    loss.backward()
    expected = 2.0 * 2 * (pred.detach() - torch.stack([cls_t, loc_t], 1)) / 2
    assert torch.allclose(pred.grad, expected)


def test_targets_get_no_gradient():
    ev = build()
    feats, masks = pyramid()
    pred = torch.cat(ev(feats, masks), dim=1)[0, :4]  # [4, 2]
    target = torch.rand(4, 2, requires_grad=True)
    ev.loss(pred, target).backward()
    assert target.grad is None
    assert ev.conv_out.conv.weight.grad.abs().sum() > 0


def test_empty_loss_is_zero_and_graph_safe():
    ev = build()
    feats, masks = pyramid()
    pred = torch.cat(ev(feats, masks), dim=1)[0, :0]  # M = 0
    loss = ev.loss(pred, torch.zeros(0, 2))
    assert loss.item() == 0.0 and loss.requires_grad
    loss.backward()
    for p in ev.parameters():
        assert p.grad is not None and p.grad.abs().sum() == 0


def test_bad_inputs_raise():
    ev = build()
    feats, masks = pyramid(channels=4)
    with pytest.raises(ValueError, match='level 0'):
        ev(feats, masks)
    with pytest.raises(ValueError, match='expected \\[M, 2\\] both'):
        ev.loss(torch.zeros(3, 2), torch.zeros(2, 2))
