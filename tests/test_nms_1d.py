"""1-D NMS family: hand-worked cases, the loop reference, the previous
(padded-rounds) implementation, batch invariance and host syncs."""
import math

import pytest
import torch

import asl_mmaction.post_processing.nms_1d as nms_module
from asl_mmaction.post_processing import (batched_nms_1d, count_host_syncs,
                                          intersecting_pairs,
                                          intersecting_pairs_between,
                                          vote_boundaries)
from asl_mmaction.structures import segment_iou_1d
from oracles import nms_1d_padded_rounds, nms_1d_reference


def _t(x, dtype=torch.float32):
    return torch.tensor(x, dtype=dtype)


def _one(segs, scores, labels, **kw):
    (out, ) = batched_nms_1d([_t(segs)], [_t(scores)],
                             [_t(labels, torch.long)], **kw)
    return out


@pytest.fixture(params=[True, False], ids=['cpu_way', 'device_way'])
def either_way(request, monkeypatch):
    """Run with the CPU way of the rounds and with the other devices' way
    (fixed-size arrays, few host syncs), forced on CPU."""
    monkeypatch.setattr(nms_module, 'per_round_sync',
                        lambda device: request.param)
    return request.param


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


def test_score_ties_keep_input_order(either_way):
    segs, _, labels = _one([[0, 1], [5, 6], [10, 11]], [0.5, 0.5, 0.5],
                           [2, 0, 1], method='hard')
    # Equal scores (different classes) come out in input order.
    assert labels.tolist() == [2, 0, 1]
    assert segs[:, 0].tolist() == [0, 5, 10]
    # Equal scores in one group: the earlier one is selected first and
    # decays the later one.
    _, scores, _ = _one([[0, 10], [0, 10]], [0.5, 0.5], [0, 0],
                        method='soft_gaussian', sigma=0.5)
    assert scores.tolist() == pytest.approx([0.5, 0.5 * math.exp(-2)])


def test_voting_weighs_score_times_iou(either_way):
    # A = [0, 10] (0.6), B = [1, 11] (0.3), C = [4, 14] (0.2). Hard NMS at
    # 0.5: IoU(A, B) = 9 / 11 removes B, IoU(A, C) = 6 / 14 keeps C.
    # ActionFormer's seg_voting (its unused score_offset aside): a kept
    # segment becomes the mean of the candidates with IoU >= 0.5 with it,
    # itself included, weighted by input score * IoU.
    segs, scores, _ = _one([[0, 10], [1, 11], [4, 14]], [0.6, 0.3, 0.2],
                           [0, 0, 0], method='hard', iou_threshold=0.5,
                           class_agnostic=True, voting_threshold=0.5)
    assert scores.tolist() == pytest.approx([0.6, 0.2])
    # A: A (IoU 1) and B (9 / 11) vote; C (6 / 14) does not.
    w_a, w_b = 0.6, 0.3 * 9 / 11
    assert segs[0].tolist() == pytest.approx(
        [w_b * 1 / (w_a + w_b), (w_a * 10 + w_b * 11) / (w_a + w_b)],
        rel=1e-6)
    # C: C (IoU 1) and B (7 / 13) vote; A does not.
    w_c, w_b = 0.2, 0.3 * 7 / 13
    assert segs[1].tolist() == pytest.approx(
        [(w_c * 4 + w_b * 1) / (w_c + w_b),
         (w_c * 14 + w_b * 11) / (w_c + w_b)], rel=1e-6)
    # Per-class NMS ignores voting, as ActionFormer does.
    segs, _, _ = _one([[0, 10], [1, 11]], [0.75, 0.25], [0, 0],
                      method='hard', iou_threshold=0.5, voting_threshold=0.5)
    assert segs.tolist()[0] == [0, 10]


def test_vote_boundaries_keeps_unweighted_and_checks_threshold():
    kept = torch.tensor([[0., 10.], [50., 50.]])  # zero length: IoU 0
    video = torch.zeros(2, dtype=torch.long)
    out = vote_boundaries(kept, video, kept, torch.ones(2), video, 0.5)
    assert out.tolist() == kept.tolist()
    with pytest.raises(ValueError, match='voting_threshold'):
        vote_boundaries(kept, video, kept, torch.ones(2), video, 0)


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


def _detector_like(seed, num_videos, per_video, num_classes, span=120.0):
    """Candidates clustered around actions, labels Zipf-distributed, as a
    dense head leaves them (a small version of ``bench/bench_nms.py``)."""
    g = torch.Generator().manual_seed(seed)
    class_p = 1.0 / torch.arange(1, num_classes + 1).float()
    segs, scores, labels = [], [], []
    for _ in range(num_videos):
        centres = torch.rand(12, generator=g) * span
        widths = torch.rand(12, generator=g) * 10 + 1
        action = torch.randint(0, 12, (per_video, ), generator=g)
        jitter = torch.randn(per_video, 2, generator=g) * 0.3
        mid = centres[action] + jitter[:, 0] * widths[action]
        half = widths[action] * (1 + jitter[:, 1]).clamp(min=0.2) / 2
        segs.append(torch.stack([mid - half, mid + half], 1))
        scores.append(torch.rand(per_video, generator=g)**2)
        labels.append(torch.multinomial(class_p, per_video, True,
                                        generator=g))
    return segs, scores, labels


def _assert_same(fast, slow, segments=True):
    assert len(fast) == len(slow)
    for (fs, fc, fl), (rs, rc, rl) in zip(fast, slow):
        assert torch.equal(fl, rl)
        assert torch.allclose(fc, rc, rtol=1e-5, atol=1e-7)
        if segments:
            assert torch.allclose(fs, rs, rtol=1e-5, atol=1e-4)
        assert torch.all(fc[:-1] >= fc[1:])  # sorted best first


@pytest.mark.parametrize('method', ['soft_gaussian', 'linear', 'hard'])
@pytest.mark.parametrize('class_agnostic', [False, True])
def test_matches_loop_reference(method, class_agnostic, either_way):
    segs, scores, labels = _random_videos(
        seed=7 + class_agnostic, sizes=[0, 1, 40, 150, 300], num_classes=6)
    kw = dict(method=method, iou_threshold=0.3, sigma=0.5, min_score=0.01,
              max_per_video=120, class_agnostic=class_agnostic,
              voting_threshold=0.75)
    fast = batched_nms_1d(segs, scores, labels, **kw)
    slow = nms_1d_reference(segs, scores, labels, **kw)
    assert len(fast) == 5
    _assert_same(fast, slow)


@pytest.mark.parametrize('case', ['float64', 'min_score_0', 'cap_binds'])
def test_matches_loop_reference_edge_cases(case, either_way):
    segs, scores, labels = _detector_like(3, 3, 250, 5)
    kw = dict(method='soft_gaussian', iou_threshold=0.1, sigma=0.4,
              min_score=0.001, max_per_video=2000)
    if case == 'float64':  # other key and coordinate paths
        segs = [s.double() for s in segs]
        scores = [s.double() for s in scores]
    elif case == 'min_score_0':  # zero scores stay, exact duplicates tie
        scores = [s.masked_fill(s < 0.05, 0.0) for s in scores]
        segs[0][1], scores[0][1], labels[0][1] = segs[0][0], scores[0][0], \
            labels[0][0]
        kw['min_score'] = 0.0
    else:  # the video cap prunes candidates during the rounds
        kw['max_per_video'] = 25
    fast = batched_nms_1d(segs, scores, labels, **kw)
    _assert_same(fast, nms_1d_reference(segs, scores, labels, **kw))
    assert fast[0][1].dtype == scores[0].dtype


@pytest.mark.parametrize('method', ['soft_gaussian', 'linear', 'hard'])
@pytest.mark.parametrize('class_agnostic', [False, True])
def test_matches_previous_implementation(method, class_agnostic,
                                         either_way):
    """Same output as the padded-rounds implementation it replaced
    (voting aside: its rule changed to ActionFormer's)."""
    segs, scores, labels = _detector_like(11, 4, 600, 8)
    kw = dict(method=method, iou_threshold=0.1, sigma=0.9, min_score=0.001,
              max_per_video=300, class_agnostic=class_agnostic)
    _assert_same(batched_nms_1d(segs, scores, labels, **kw),
                 nms_1d_padded_rounds(segs, scores, labels, **kw))


def test_hard_with_zero_threshold_keeps_one_per_group(either_way):
    # iou >= 0 holds for every pair: the best of each class suppresses all.
    segs, scores, labels = _one([[0, 1], [5, 6], [2, 3], [8, 9]],
                                [0.5, 0.9, 0.7, 0.2], [0, 0, 1, 1],
                                method='hard', iou_threshold=0.0)
    assert scores.tolist() == pytest.approx([0.9, 0.7])
    assert labels.tolist() == [0, 1]


def test_huge_label_ids(either_way):
    # Group ids are renumbered when video x class would not fit the keys.
    segs, scores, labels = _one([[0, 10], [1, 11], [0, 10]], [0.9, 0.8, 0.7],
                                [3, 3, 2**40], method='hard',
                                iou_threshold=0.5)
    assert labels.tolist() == [3, 2**40]
    assert scores.tolist() == pytest.approx([0.9, 0.7])


def test_video_output_does_not_depend_on_its_batch():
    segs, scores, labels = _detector_like(5, 4, 500, 6)
    kw = dict(method='soft_gaussian', sigma=0.4, max_per_video=200)
    together = batched_nms_1d(segs, scores, labels, **kw)
    for v in range(4):
        (alone, ) = batched_nms_1d(segs[v:v + 1], scores[v:v + 1],
                                   labels[v:v + 1], **kw)
        for a, b in zip(alone, together[v]):
            assert torch.equal(a, b)  # bit for bit


def test_host_syncs_do_not_grow_with_selections(monkeypatch):
    """The other devices' way reads the device a few times per batch (the
    rounds only after 1, 2, 4, ... of them), however many are selected;
    counted here on CPU through the one function that reads values."""
    monkeypatch.setattr(nms_module, 'per_round_sync', lambda device: False)
    segs, scores, labels = _detector_like(2, 4, 600, 4)
    rounds = []
    select = nms_module.select_in_rounds

    def counting(*args, **kwargs):
        out = select(*args, **kwargs)
        rounds.append(out[2])
        return out

    monkeypatch.setattr(nms_module, 'select_in_rounds', counting)
    with count_host_syncs() as syncs:
        out = batched_nms_1d(segs, scores, labels, method='soft_gaussian',
                             sigma=0.9, class_agnostic=True,
                             voting_threshold=0.75)
    selected = sum(len(o[1]) for o in out)
    (num_rounds, ) = rounds
    assert selected > 10 * num_rounds  # many selections per round
    checks = syncs.count('selection round')
    assert checks == math.ceil(math.log2(num_rounds)) + 1
    # Input stats, pair count, the checks, output counts, voting pairs.
    assert len(syncs) == checks + 4, syncs
    # On CPU the rounds read the device every round instead (free there).
    monkeypatch.setattr(nms_module, 'per_round_sync', lambda device: True)
    with count_host_syncs() as syncs:
        batched_nms_1d(segs, scores, labels, method='soft_gaussian',
                       sigma=0.9, class_agnostic=True, voting_threshold=0.75)
    assert syncs.count('selection round') == rounds[-1]


def test_intersecting_pairs_against_brute_force():
    g = torch.Generator().manual_seed(0)
    for trial in range(60):
        n, q = 30, 12
        dtype = torch.float64 if trial % 2 else torch.float32
        # Integer coordinates: many equal starts / ends, zero lengths.
        start = torch.randint(-5, 10, (n, ), generator=g).to(dtype)
        segs = torch.stack(
            [start, start + torch.randint(0, 5, (n, ), generator=g)], 1)
        group = torch.randint(0, 3, (n, ), generator=g)
        first, second = intersecting_pairs(segs, group)
        got = {(min(a, b), max(a, b))
               for a, b in zip(first.tolist(), second.tolist())}
        assert len(got) == first.numel()  # each pair once
        inter = (torch.minimum(segs[:, None, 1], segs[None, :, 1]) -
                 torch.maximum(segs[:, None, 0], segs[None, :, 0]))
        same = group[:, None] == group[None, :]
        must = {(a, b) for a, b in torch.nonzero(
            (inter > 0) & same).tolist() if a < b}
        may = {(a, b) for a, b in torch.nonzero(
            (inter >= 0) & same).tolist() if a < b}
        assert must <= got <= may
        qs = torch.randint(-5, 10, (q, ), generator=g).to(dtype)
        queries = torch.stack(
            [qs, qs + torch.randint(0, 5, (q, ), generator=g)], 1)
        q_group = torch.randint(0, 3, (q, ), generator=g)
        qi, si = intersecting_pairs_between(queries, q_group, segs, group)
        got = list(zip(qi.tolist(), si.tolist()))
        assert len(set(got)) == len(got)
        inter = (torch.minimum(queries[:, None, 1], segs[None, :, 1]) -
                 torch.maximum(queries[:, None, 0], segs[None, :, 0]))
        same = q_group[:, None] == group[None, :]
        must = set(map(tuple, torch.nonzero((inter > 0) & same).tolist()))
        may = set(map(tuple, torch.nonzero((inter >= 0) & same).tolist()))
        assert must <= set(got) <= may
