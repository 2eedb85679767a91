"""VideoMultiLabelLoss: value by hand, agreement with the released formula,
padding and the single-class case."""
import math

import pytest
import torch
from mmaction.registry import MODELS


def build(**kwargs):
    loss = MODELS.build(dict(type='VideoMultiLabelLoss', **kwargs))
    return lambda logits, valid, labels, avg_factor=1.0: loss.video_bce(
        logits, valid, labels, avg_factor)


def released_formula(logits, labels, normalizer):
    """The authors' al_loss on unpadded inputs, written out plainly."""
    score = logits.softmax(-1).max(dim=1).values  # [B, K]
    loss = -labels * score.log() - (1 - labels) * (1 - score).log()
    return loss.sum() / normalizer


def test_value_by_hand_and_padding_ignored():
    loss_fn = build(loss_weight=0.2)
    logits = torch.tensor([[[0.0, 0.0],  # softmax (0.5, 0.5)
                            [math.log(3.0), 0.0],  # (0.75, 0.25)
                            [-10.0, 10.0]]])  # padded: must not count
    valid = torch.tensor([[True, True, False]])
    labels = torch.tensor([[1.0, 0.0]])
    # class 0 scores 0.75 (present), class 1 scores 0.5 (absent)
    expected = 0.2 * (-math.log(0.75) - math.log(0.5))
    assert loss_fn(logits, valid, labels).item() == pytest.approx(expected,
                                                                  rel=1e-5)


def test_matches_the_released_formula_without_padding():
    torch.manual_seed(0)
    logits = torch.randn(3, 7, 5)
    labels = (torch.rand(3, 5) > 0.5).float()
    valid = torch.ones(3, 7, dtype=torch.bool)
    ours = build(loss_weight=1.0)(logits, valid, labels, avg_factor=12.5)
    assert ours.item() == pytest.approx(
        released_formula(logits, labels, 12.5).item(), rel=1e-5)


def test_reads_the_head_targets():
    from types import SimpleNamespace
    torch.manual_seed(1)
    logits = torch.randn(2, 5, 3)
    targets = SimpleNamespace(valid=torch.ones(2, 5, dtype=torch.bool),
                              video_labels=torch.tensor([[1., 0, 1],
                                                         [0, 1, 0]]))
    loss = MODELS.build(dict(type='VideoMultiLabelLoss', loss_weight=1.0))
    assert loss(logits, targets, 4.0).item() == pytest.approx(
        released_formula(logits, targets.video_labels, 4.0).item(),
        rel=1e-5)


def test_gradient_and_single_class():
    logits = torch.randn(2, 4, 3, requires_grad=True)
    valid = torch.ones(2, 4, dtype=torch.bool)
    valid[1, 2:] = False
    build()(logits, valid, torch.tensor([[1., 0, 0], [0, 1, 1]])).backward()
    assert torch.isfinite(logits.grad).all()
    assert logits.grad[1, 2:].abs().sum() == 0  # padded points untouched
    one = torch.randn(2, 4, 1, requires_grad=True)
    zero = build()(one, valid, torch.ones(2, 1))
    assert zero.item() == 0.0 and zero.requires_grad


def test_bad_shapes_raise():
    with pytest.raises(ValueError, match='video_labels'):
        build()(torch.zeros(2, 4, 3), torch.ones(2, 4, dtype=torch.bool),
                torch.zeros(2, 4))
