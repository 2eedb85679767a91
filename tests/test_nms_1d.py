"""1-D NMS family: hand-worked cases and the loop reference."""
import math

import pytest
import torch

from asl_mmaction.post_processing import batched_nms_1d
from asl_mmaction.structures import segment_iou_1d
from oracles import nms_1d_reference


def _t(x, dtype=torch.float32):
    return torch.tensor(x, dtype=dtype)


def _one(segs, scores, labels, **kw):
    (out, ) = batched_nms_1d([_t(segs)], [_t(scores)],
                             [_t(labels, torch.long)], **kw)
    return out


def _random_videos(seed, sizes, num_classes):
    g = torch.Generator().manual_seed(seed)
    segs, scores, labels = [], [], []
    for n in sizes:
        start = torch.rand(n, generator=g) * 60
        length = torch.rand(n, generator=g) * 15 + 0.1
        segs.append(torch.stack([start, start + length], 1))
        scores.append(torch.rand(n, generator=g))
        labels.append(torch.randint(0, num_classes, (n, ), generator=g))
    return segs, scores, labels


def test_segment_iou_1d_values():
    a = _t([[0, 10], [0, 0]])
    b = _t([[5, 15], [0, 10], [20, 30], [0, 0]])
    iou = segment_iou_1d(a, b)
    expected = _t([[5 / 15, 1, 0, 0], [0, 0, 0, 0]])
    assert torch.allclose(iou, expected)
    with pytest.raises(ValueError, match=r'\[N, 2\]'):
        segment_iou_1d(_t([0, 1]), b)


def test_hard_nms_per_class():
    # A and B overlap (IoU 0.8) in class 0; C overlaps A but is class 1.
    segs = [[0, 10], [0, 8], [1, 9], [20, 30]]
    segs_out, scores, labels = _one(segs, [0.9, 0.8, 0.7, 0.6], [0, 0, 1, 0],
                                    method='hard', iou_threshold=0.5)
    assert scores.tolist() == pytest.approx([0.9, 0.7, 0.6])
    assert labels.tolist() == [0, 1, 0]
    assert segs_out.tolist() == [[0, 10], [1, 9], [20, 30]]
    # Class-agnostic: C is suppressed by A as well.
    _, scores, labels = _one(segs, [0.9, 0.8, 0.7, 0.6], [0, 0, 1, 0],
                             method='hard', iou_threshold=0.5,
                             class_agnostic=True)
    assert labels.tolist() == [0, 0]
    assert scores.tolist() == pytest.approx([0.9, 0.6])


def test_soft_gaussian_decay_and_reordering():
    # B (IoU 0.8 with A) decays by exp(-0.64 / 0.5) and falls behind C.
    _, scores, _ = _one([[0, 10], [0, 8], [20, 30]], [0.9, 0.8, 0.5],
                        [0, 0, 0], method='soft_gaussian', sigma=0.5)
    assert scores.tolist() == pytest.approx(
        [0.9, 0.5, 0.8 * math.exp(-0.64 / 0.5)], rel=1e-6)


def test_linear_decay_only_above_threshold():
    # IoU(A, B) = 0.8 >= 0.5: B -> 0.8 * 0.2; IoU(A, C) = 2.5 / 17.5 < 0.5.
    _, scores, _ = _one([[0, 10], [0, 8], [7.5, 17.5]], [0.9, 0.8, 0.6],
                        [0, 0, 0], method='linear', iou_threshold=0.5)
    # C is picked next and leaves B alone (IoU 0.5 / 17.5).
    assert scores.tolist() == pytest.approx([0.9, 0.6, 0.16], rel=1e-6)


def test_min_score_and_max_per_video():
    segs = [[0, 10], [0, 9.9], [30, 40], [50, 60]]
    _, scores, _ = _one(segs, [0.9, 0.8, 0.0005, 0.5], [0, 0, 0, 0],
                        method='soft_gaussian', sigma=0.01, min_score=0.001)
    # 0.0005 is below min_score; B decays to ~0 and is dropped.
    assert scores.tolist() == pytest.approx([0.9, 0.5])
    _, scores, _ = _one(segs, [0.9, 0.8, 0.7, 0.5], [0, 1, 2, 3],
                        method='hard', max_per_video=2)
    assert scores.tolist() == pytest.approx([0.9, 0.8])


def test_score_ties_keep_input_order():
    segs, _, labels = _one([[0, 1], [5, 6], [10, 11]], [0.5, 0.5, 0.5],
                           [2, 0, 1], method='hard')
    # All in different classes: ties across groups come out class by class
    # (round 0 of every group), and equal scores keep that order.
    assert labels.tolist() == [0, 1, 2]
    assert segs[:, 0].tolist() == [5, 10, 0]


def test_voting_refines_boundaries():
    # Two close candidates; the kept one moves to their score-weighted mean.
    segs, scores, _ = _one([[0, 10], [1, 11]], [0.75, 0.25], [0, 0],
                           method='hard', iou_threshold=0.5,
                           class_agnostic=True, voting_threshold=0.5)
    assert scores.tolist() == pytest.approx([0.75])
    assert segs.tolist()[0] == pytest.approx([0.25, 10.25])
    # Per-class NMS ignores voting, as ActionFormer does.
    segs, _, _ = _one([[0, 10], [1, 11]], [0.75, 0.25], [0, 0],
                      method='hard', iou_threshold=0.5, voting_threshold=0.5)
    assert segs.tolist()[0] == [0, 10]


def test_empty_and_invalid_inputs():
    no_labels = torch.zeros(0, dtype=torch.long)
    out = batched_nms_1d([torch.zeros(0, 2), _t([[0, 1]])],
                         [torch.zeros(0), _t([0.0001])],
                         [no_labels, _t([0], torch.long)])
    assert [o[1].numel() for o in out] == [0, 0]
    assert batched_nms_1d([], [], []) == []
    with pytest.raises(ValueError, match='method'):
        batched_nms_1d([_t([[0, 1]])], [_t([1.])], [_t([0], torch.long)],
                       method='gaussian')
    with pytest.raises(ValueError, match='video 0'):
        batched_nms_1d([_t([[0, 1]])], [_t([1., 2.])], [_t([0], torch.long)])


@pytest.mark.parametrize('method', ['soft_gaussian', 'linear', 'hard'])
@pytest.mark.parametrize('class_agnostic', [False, True])
def test_matches_loop_reference(method, class_agnostic):
    segs, scores, labels = _random_videos(
        seed=7 + class_agnostic, sizes=[0, 1, 40, 150, 300], num_classes=6)
    kw = dict(method=method, iou_threshold=0.3, sigma=0.5, min_score=0.01,
              max_per_video=120, class_agnostic=class_agnostic,
              voting_threshold=0.75)
    fast = batched_nms_1d(segs, scores, labels, **kw)
    slow = nms_1d_reference(segs, scores, labels, **kw)
    assert len(fast) == len(slow) == 5
    for (fs, fc, fl), (rs, rc, rl) in zip(fast, slow):
        assert torch.equal(fl, rl)
        assert torch.allclose(fc, rc, rtol=1e-5, atol=1e-7)
        assert torch.allclose(fs, rs, rtol=1e-5, atol=1e-4)
        assert torch.all(fc[:-1] >= fc[1:])  # sorted best first
