"""Label assignment on hand-worked cases, and fast == plain reference."""
import pytest
import torch

from asl_mmaction.models.task_modules import PointGenerator1D, assign_targets
from oracles import assign_targets_loop

BOTH = pytest.mark.parametrize('assign', [assign_targets, assign_targets_loop],
                               ids=['vectorised', 'loop'])


def one_level(length=16, lo=0, hi=100):
    return PointGenerator1D(strides=(1, ), regress_ranges=((lo, hi), ))(
        [length])


def batch(*videos):
    """videos: lists of (start, end, label) -> padded [B, N] tensors."""
    num = max(len(v) for v in videos)
    segs = torch.zeros(len(videos), num, 2)
    labels = torch.zeros(len(videos), num, dtype=torch.long)
    valid = torch.zeros(len(videos), num, dtype=torch.bool)
    for b, video in enumerate(videos):
        for n, (start, end, label) in enumerate(video):
            segs[b, n] = torch.tensor([start, end])
            labels[b, n] = label
            valid[b, n] = True
    return segs, labels, valid


def positives(pos_mask, points, b=0):
    return points[pos_mask[b], 0].tolist()


@BOTH
def test_centre_sampling(assign):
    points = one_level()
    segs, labels, valid = batch([(0, 12, 2)])
    cls_t, reg_t, pos, gt = assign(points, segs, labels, valid, 3)
    # centre 6, radius 1.5 strides: open interval (4.5, 7.5)
    assert positives(pos, points) == [5, 6, 7]
    assert cls_t[0, pos[0]].tolist() == [[0, 0, 1]] * 3
    assert reg_t[0, 5].tolist() == [5, 7]
    assert gt[0].tolist() == [-1] * 5 + [0] * 3 + [-1] * 8
    # a huge radius is clipped to the segment (its ends excluded)
    _, _, pos, _ = assign(points, segs, labels, valid, 3,
                          center_sample_radius=100)
    assert positives(pos, points) == list(range(1, 12))


@BOTH
def test_regression_range_and_stride_normalisation(assign):
    gen = PointGenerator1D(strides=(1, 2), regress_ranges=((0, 4), (4, 8)))
    points = gen([16, 8])
    segs, labels, valid = batch([(0, 12, 0)])
    _, reg_t, pos, _ = assign(points, segs, labels, valid, 1)
    # level 0 centre points 5, 6, 7 reach 7, 6, 7 steps: beyond (0, 4).
    # level 1 (radius 3, region (3, 9)): t = 4, 6, 8 reach 8, 6, 8 steps.
    assert pos[0, :16].sum() == 0
    assert positives(pos, points) == [4, 6, 8]
    level1 = torch.arange(16, 24)
    assert reg_t[0, level1[2]].tolist() == [2.0, 4.0]  # (4, 8) / stride 2
    assert reg_t[0, level1[3]].tolist() == [3.0, 3.0]


@BOTH
def test_shortest_segment_wins(assign):
    points = one_level()
    segs, labels, valid = batch([(0, 12, 0), (4, 8, 1)])
    cls_t, reg_t, pos, gt = assign(points, segs, labels, valid, 2,
                                   center_sample_radius=100)
    assert cls_t[0, 6].tolist() == [0, 1] and gt[0, 6] == 1
    assert reg_t[0, 6].tolist() == [2, 2]
    assert cls_t[0, 2].tolist() == [1, 0] and gt[0, 2] == 0
    assert reg_t[0, 2].tolist() == [2, 10]


@BOTH
def test_equal_lengths_give_multi_label(assign):
    points = one_level()
    segs, labels, valid = batch([(4, 8, 1), (5, 9.0005, 2), (5, 9.01, 0)])
    cls_t, reg_t, pos, gt = assign(points, segs, labels, valid, 3,
                                   center_sample_radius=100)
    # t=6, 7: inside all three; 4.0005 ties with 4 (1e-3), 4.01 does not
    assert cls_t[0, 6].tolist() == [0, 1, 1]
    assert cls_t[0, 7].tolist() == [0, 1, 1]
    assert gt[0, 6] == 0 and reg_t[0, 6].tolist() == [2, 2]
    # t=5 is on the boundary of the other two: only the first segment
    assert cls_t[0, 5].tolist() == [0, 1, 0]
    # t=8 is outside the first (open interval): the 4.0005 one wins
    assert cls_t[0, 8].tolist() == [0, 0, 1] and gt[0, 8] == 1


@BOTH
def test_padding_and_empty_videos_are_ignored(assign):
    points = one_level()
    segs, labels, valid = batch([(0, 12, 0), (4, 8, 1)], [(2, 6, 1)], [])
    valid[0, 1] = False  # would win at t=6 if it were real
    cls_t, reg_t, pos, gt = assign(points, segs, labels, valid, 2,
                                   center_sample_radius=100)
    assert cls_t[0, 6].tolist() == [1, 0] and gt[0, 6] == 0
    assert positives(pos, points, 1) == [3, 4, 5]
    assert not pos[2].any() and (gt[2] == -1).all()
    assert cls_t[2].sum() == 0 and reg_t[2].abs().sum() == 0


@BOTH
def test_batch_without_any_segment(assign):
    points = one_level()
    segs, labels, valid = (torch.zeros(2, 0, 2),
                           torch.zeros(2, 0, dtype=torch.long),
                           torch.zeros(2, 0, dtype=torch.bool))
    cls_t, reg_t, pos, gt = assign(points, segs, labels, valid, 4)
    assert cls_t.shape == (2, 16, 4) and reg_t.shape == (2, 16, 2)
    assert not pos.any() and (gt == -1).all()


def random_batch(gen, batch_size, max_gt, num_classes, length):
    segs = torch.zeros(batch_size, max_gt, 2)
    labels = torch.randint(num_classes, (batch_size, max_gt))
    valid = torch.zeros(batch_size, max_gt, dtype=torch.bool)
    for b in range(batch_size):
        n = int(torch.randint(0, max_gt + 1, (1, ), generator=gen))
        start = torch.rand(n, generator=gen) * length * 0.9
        dur = torch.rand(n, generator=gen).pow(3) * length * 0.5 + 0.01
        segs[b, :n, 0], segs[b, :n, 1] = start, start + dur
        valid[b, :n] = True
        if n >= 2:  # duplicated durations: exercise the multi-label tie
            segs[b, 1, 1] = segs[b, 1, 0] + dur[0]
        if n >= 3:  # integer boundaries land exactly on points
            segs[b, 2] = segs[b, 2].round()
            segs[b, 2, 1] += 1
    return segs, labels, valid


@pytest.mark.parametrize('radius', [1.5, 0.5, 2.7])
def test_vectorised_equals_reference_on_random_batches(radius):
    gen = torch.Generator().manual_seed(0)
    points = PointGenerator1D(
        strides=(1, 2, 4, 8),
        regress_ranges=((0, 4), (4, 8), (8, 16), (16, 1e4)))([64, 32, 16, 8])
    num_pos = 0
    for _ in range(20):
        segs, labels, valid = random_batch(gen, 3, 6, 5, 64)
        fast = assign_targets(points, segs, labels, valid, 5, radius)
        slow = assign_targets_loop(points, segs, labels, valid, 5, radius)
        for a, b in zip(fast, slow):
            assert torch.equal(a, b)
        num_pos += int(fast[2].sum())
    assert num_pos > 100  # the comparison is not vacuous


def test_segments_beyond_the_sequence_claim_nothing_outside_it():
    points = one_level(length=8)
    segs, labels, valid = batch([(-6, -1, 0), (10, 20, 1), (5, 11, 1)])
    cls_t, _, pos, gt = assign_targets(points, segs, labels, valid, 2,
                                       center_sample_radius=3)
    # only the segment overlapping [0, 8) has points, at t = 6 and 7
    assert positives(pos, points) == [6, 7]
    assert gt[0, 6:].tolist() == [2, 2]


def test_bad_shapes_raise():
    points = one_level()
    with pytest.raises(ValueError, match='gt_segments must be'):
        assign_targets(points, torch.zeros(2, 3), torch.zeros(2, 3).long(),
                       torch.zeros(2, 3).bool(), 2)
    with pytest.raises(ValueError, match='points must be'):
        assign_targets(points[:, :3], torch.zeros(1, 1, 2),
                       torch.zeros(1, 1).long(), torch.ones(1, 1).bool(), 2)
