"""ActionSensitiveContrastiveLoss: anchor sampling by the sensitivity,
background sampling, value against a hand computation and a plain-loop
InfoNCE, distinct anchors without class sensitivity, and the graph-safe
empty cases."""
import math
from types import SimpleNamespace

import pytest
import torch
import torch.nn as nn
from mmaction.registry import MODELS

from asl_mmaction.models.losses.contrastive_loss import (sample_background,
                                                         sample_per_segment)
from asl_mmaction.models.task_modules import SegmentPoints


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


def targets_of(ids, labels, background, sens_maps=None):
    """The part of ``DenseTargets`` the loss reads, from ``ids [B, P]``
    (segment of each point, -1 outside) and optional ``[B, P]`` maps of
    the (cls, start, end) sensitivity."""
    video, point = torch.nonzero(ids >= 0, as_tuple=True)
    seg = ids[video, point]
    # positions: evenly spread over each segment's points, start to end
    position = torch.zeros(len(seg))
    for s in seg.unique():
        members = seg == s
        n = int(members.sum())
        position[members] = (torch.arange(n) + 0.5) / n - 0.5
    inside = SegmentPoints(video=video, point=point, segment=seg,
                           label=labels[seg], position=position,
                           stride=torch.ones(len(seg)),
                           length=torch.ones(len(seg)))
    sens = None if sens_maps is None else torch.stack(
        [m[video, point] for m in sens_maps], dim=1)
    return SimpleNamespace(inside=inside, sensitivity=sens,
                           segment_labels=labels, background=background,
                           valid=torch.ones_like(ids, dtype=torch.bool))


def test_sampling_follows_the_weights_and_inf_takes_the_argmax():
    # 3000 segments of 3 entries with probabilities 0.6 / 0.3 / 0.1
    num = 3000
    weight = torch.tensor([0.6, 0.3, 0.1]).repeat(num).log()
    segment = torch.arange(num).repeat_interleave(3)
    gen = torch.Generator().manual_seed(0)
    picks = sample_per_segment(weight, segment, num, gen)
    freq = torch.bincount(picks % 3, minlength=3).float() / num
    assert torch.allclose(freq, torch.tensor([0.6, 0.3, 0.1]), atol=0.03)
    assert torch.equal(picks, sample_per_segment(
        weight, segment, num, torch.Generator().manual_seed(0)))
    # inf wins; a segment without entries gets Q
    log_w = torch.tensor([0.0, float('inf'), 0.0, -1.0])
    assert sample_per_segment(log_w, torch.tensor([0, 0, 2, 2]), 3
                              )[:2].tolist() == [1, 4]


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
                    loss_weight=0.1, anchor_power=float('inf'))
    identity_projection(loss_fn)
    feats = torch.tensor([[[1.0, 0.0], [1.0, 0.0], [1.0, 0.0],
                           [1.0, 1.0], [0.0, 0.0]]])
    ids = torch.tensor([[0, 0, 0, -1, -1]])
    # the cls / start / end anchors are points 0, 1 and 2
    maps = [torch.tensor([[0.9, 0.1, 0.2, 0.0, 0.0]]),
            torch.tensor([[0.1, 0.9, 0.2, 0.0, 0.0]]),
            torch.tensor([[0.1, 0.2, 0.9, 0.0, 0.0]])]
    bg = torch.tensor([[False, False, False, True, False]])
    loss = loss_fn(feats, targets_of(ids, torch.tensor([3]), bg, maps))
    # every anchor is (1, 0); its 2 positives have s = 1 / 0.1, the one
    # negative s = cos(45 deg) / 0.1
    expected = 0.1 * math.log1p(math.exp(10 * (math.sqrt(0.5) - 1)))
    assert loss.item() == pytest.approx(expected, rel=1e-5)
    # anchors on one point are no positives of each other: with all three
    # maps peaking at point 0 the only action has no positive left
    same = [maps[0]] * 3
    zero = loss_fn(feats, targets_of(ids, torch.tensor([3]), bg, same))
    assert zero.item() == 0.0


def loop_infonce(loss_fn, feats, ids, sens_maps, labels, bg_mask, tau):
    """Independent reference with explicit loops (argmax anchors, all
    background used)."""
    b, p, _ = feats.shape
    anchors = []  # (embedding, label, point)
    for s in range(labels.numel()):
        for sens in sens_maps:
            best, best_val = None, -math.inf
            for i in range(b):
                for j in range(p):
                    if ids[i, j] == s and sens[i, j] > best_val:
                        best, best_val = (i, j), sens[i, j].item()
            if best is not None:
                anchors.append((loss_fn.embed(feats[best][None])[0],
                                labels[s].item(), best))
    backgrounds = [loss_fn.embed(feats[i, j][None])[0]
                   for i in range(b) for j in range(p) if bg_mask[i, j]]
    per_anchor = []
    for za, la, pa in anchors:
        negs = [za @ zn / tau for zn, ln, _ in anchors
                if ln != la] + [za @ zb / tau for zb in backgrounds]
        poss = [za @ zp / tau for zp, lp, pp in anchors
                if lp == la and pp != pa]
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
                    loss_weight=0.1, num_background=p,
                    anchor_power=float('inf'))
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
    loss = loss_fn(feats, targets_of(ids, labels, bg, sens_maps))
    expected = 0.1 * loop_infonce(loss_fn, feats, ids, sens_maps, labels,
                                  bg, 0.1)
    assert loss.item() == pytest.approx(expected.item(), rel=1e-5)
    loss.backward()
    assert feats.grad.abs().sum() > 0
    # only selected points receive gradient
    assert feats.grad[1, 11].abs().sum() == 0


def test_without_class_sensitivity_anchors_are_distinct_points():
    """With class sensitivity off the anchors come from fixed centre /
    start / end profiles: three different points of a long action, so
    each has real positives, not copies of itself."""
    loss_fn = build(in_channels=3, num_background=4,
                    anchor_power=float('inf'))
    ids = torch.full((2, 20), -1, dtype=torch.long)
    ids[0, 2:12] = 0
    ids[1, 5:15] = 1
    targets = targets_of(ids, torch.tensor([4, 4]), ids < 0)
    log_w = loss_fn.anchor_log_weights(targets)
    picks = [sample_per_segment(log_w[:, j], targets.inside.segment, 2)
             for j in range(3)]
    points = torch.stack([targets.inside.point[p] for p in picks])  # [3, S]
    assert points[:, 0].tolist() == [6, 2, 11]  # centre, start, end
    assert points[:, 1].tolist() == [9, 5, 14]
    torch.manual_seed(0)
    feats = torch.randn(2, 20, 3, requires_grad=True)
    loss = loss_fn(feats, targets)
    assert loss.item() > 0
    loss.backward()
    assert feats.grad[0, [6, 2, 11]].abs().sum(dim=1).min() > 0


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
    loss = loss_fn(feats, targets_of(ids, labels, bg))
    assert_connected_zero(loss_fn, loss, feats)


def test_bad_inputs_raise():
    loss_fn = build()
    ids = torch.zeros(1, 5, dtype=torch.long)
    targets = targets_of(ids, torch.tensor([0]),
                         torch.zeros(1, 5, dtype=torch.bool))
    with pytest.raises(ValueError, match='point_feats'):
        loss_fn(torch.randn(1, 5, 3), targets)
    with pytest.raises(ValueError, match='anchor_power'):
        build(anchor_power=0.0)
