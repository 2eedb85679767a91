"""ActionSensitiveContrastiveLoss: sensitive-point selection, background
sampling, value against a hand computation and a plain-loop InfoNCE, and
the graph-safe empty cases."""
import math

import pytest
import torch
import torch.nn as nn
from mmaction.registry import MODELS

from asl_mmaction.models.losses.contrastive_loss import (argmax_per_segment,
                                                         sample_background)


def build(in_channels=4, **kwargs):
    cfg = dict(type='ActionSensitiveContrastiveLoss', in_channels=in_channels)
    cfg.update(kwargs)
    return MODELS.build(cfg)


def identity_projection(loss_fn):
    """Make the projection head the identity on non-negative features."""
    with torch.no_grad():
        for layer in loss_fn.proj:
            if isinstance(layer, nn.Linear):
                layer.weight.copy_(torch.eye(layer.weight.shape[0]))
                layer.bias.zero_()


def test_argmax_per_segment_ties_and_missing():
    values = torch.tensor([0.1, 0.9, 0.9, 0.5, 0.7, 0.2])
    ids = torch.tensor([0, 0, 0, -1, 2, 2])
    # ties go to the lowest index; segment 1 has no point -> N = 6
    assert argmax_per_segment(values, ids, 3).tolist() == [1, 6, 4]


def test_background_sampling_is_seeded_and_stays_in_background():
    torch.manual_seed(123)
    mask = torch.rand(3, 50) > 0.5
    mask[2] = False  # a video without background
    gen = lambda: torch.Generator().manual_seed(7)  # noqa: E731
    a = sample_background(mask, 10, gen())
    b = sample_background(mask, 10, gen())
    assert torch.equal(a, b)
    assert mask.reshape(-1)[a].all()
    per_video = torch.bincount(a // 50, minlength=3)
    assert per_video.tolist() == [10, 10, 0]
    # the global generator works the same way
    torch.manual_seed(1)
    c = sample_background(mask, 10)
    torch.manual_seed(1)
    assert torch.equal(c, sample_background(mask, 10))
    # fewer background points than asked: all of them
    few = torch.zeros(1, 50, dtype=torch.bool)
    few[0, [3, 8]] = True
    assert sorted(sample_background(few, 10).tolist()) == [3, 8]


def test_single_action_against_background_by_hand():
    loss_fn = build(in_channels=2, proj_channels=2, temperature=0.1,
                    loss_weight=0.1)
    identity_projection(loss_fn)
    feats = torch.tensor([[[1.0, 0.0], [1.0, 0.0], [1.0, 0.0],
                           [1.0, 1.0], [0.0, 0.0]]])
    ids = torch.tensor([[0, 0, 0, -1, -1]])
    sens = torch.tensor([[0.9, 0.1, 0.2, 0.0, 0.0]])
    bg = torch.tensor([[False, False, False, True, False]])
    loss = loss_fn(feats, ids, sens, sens, sens, torch.tensor([3]), bg)
    # every anchor is (1, 0); its 2 positives have s = 1 / 0.1, the one
    # negative s = cos(45 deg) / 0.1
    expected = 0.1 * math.log1p(math.exp(10 * (math.sqrt(0.5) - 1)))
    assert loss.item() == pytest.approx(expected, rel=1e-5)


def loop_infonce(loss_fn, feats, ids, sens_maps, labels, bg_mask, tau):
    """Independent reference with explicit loops (all background used)."""
    b, p, _ = feats.shape
    anchors = []  # (embedding, label)
    for s in range(labels.numel()):
        for sens in sens_maps:
            best, best_val = None, -math.inf
            for i in range(b):
                for j in range(p):
                    if ids[i, j] == s and sens[i, j] > best_val:
                        best, best_val = (i, j), sens[i, j].item()
            if best is not None:
                anchors.append((loss_fn.embed(feats[best][None])[0],
                                labels[s].item()))
    backgrounds = [loss_fn.embed(feats[i, j][None])[0]
                   for i in range(b) for j in range(p) if bg_mask[i, j]]
    per_anchor = []
    for a, (za, la) in enumerate(anchors):
        negs = [za @ zn / tau for n, (zn, ln) in enumerate(anchors)
                if ln != la] + [za @ zb / tau for zb in backgrounds]
        poss = [za @ zp / tau for n, (zp, lp) in enumerate(anchors)
                if lp == la and n != a]
        if not poss or not negs:
            continue
        terms = []
        for sp in poss:
            denom = torch.exp(sp) + sum(torch.exp(sn) for sn in negs)
            terms.append(-torch.log(torch.exp(sp) / denom))
        per_anchor.append(sum(terms) / len(terms))
    return sum(per_anchor) / len(per_anchor)


def test_matches_plain_loop_infonce():
    torch.manual_seed(0)
    b, p, d = 2, 12, 6
    loss_fn = build(in_channels=d, proj_channels=5, temperature=0.1,
                    loss_weight=0.1, num_background=p)
    feats = torch.randn(b, p, d, requires_grad=True)
    ids = torch.full((b, p), -1, dtype=torch.long)
    ids[0, 1:4] = 0
    ids[0, 6:9] = 1
    ids[1, 2:6] = 2
    ids[1, 8:10] = 3
    labels = torch.tensor([0, 1, 0, 2])  # actions 0 and 2 share a class
    sens_maps = [torch.rand(b, p) * (ids >= 0) for _ in range(3)]
    bg = ids < 0
    bg[1, 11] = False  # a padded point
    loss = loss_fn(feats, ids, *sens_maps, labels, bg)
    expected = 0.1 * loop_infonce(loss_fn, feats, ids, sens_maps, labels,
                                  bg, 0.1)
    assert loss.item() == pytest.approx(expected.item(), rel=1e-5)
    loss.backward()
    assert feats.grad.abs().sum() > 0
    # only selected points receive gradient
    assert feats.grad[1, 11].abs().sum() == 0


def assert_connected_zero(loss_fn, loss, feats):
    assert loss.item() == 0.0 and loss.requires_grad
    loss.backward()
    assert feats.grad is not None
    for param in loss_fn.parameters():
        assert param.grad is not None


@pytest.mark.parametrize('case', ['no_positive', 'one_action_no_bg',
                                  'one_class_no_bg', 'no_segments'])
def test_empty_cases_are_zero_and_graph_safe(case):
    loss_fn = build()
    feats = torch.randn(2, 8, 4, requires_grad=True)
    ids = torch.full((2, 8), -1, dtype=torch.long)
    labels = torch.tensor([0, 0])
    bg = torch.zeros(2, 8, dtype=torch.bool)
    if case == 'no_positive':
        bg[:, 5:] = True
    elif case == 'one_action_no_bg':
        ids[0, 2:5] = 0
        labels = torch.tensor([1])
    elif case == 'one_class_no_bg':
        ids[0, 2:5] = 0
        ids[1, 1:3] = 1
    else:
        labels = torch.zeros(0, dtype=torch.long)
    sens = torch.rand(2, 8) * (ids >= 0)
    loss = loss_fn(feats, ids, sens, sens, sens, labels, bg)
    assert_connected_zero(loss_fn, loss, feats)


def test_bad_inputs_raise():
    loss_fn = build()
    feats = torch.randn(1, 5, 4)
    ids = torch.zeros(1, 5, dtype=torch.long)
    sens = torch.ones(1, 5)
    bg = torch.zeros(1, 5, dtype=torch.bool)
    with pytest.raises(ValueError, match='point_feats'):
        loss_fn(torch.randn(1, 5, 3), ids, sens, sens, sens,
                torch.tensor([0]), bg)
    with pytest.raises(ValueError, match='sens_end'):
        loss_fn(feats, ids, sens, sens, sens[:, :4], torch.tensor([0]), bg)
    with pytest.raises(ValueError, match='segment id 2'):
        loss_fn(feats, ids + 2, sens, sens, sens, torch.tensor([0]), bg)
