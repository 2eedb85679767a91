"""Targets of the dense head, built in one stage: ActionFormer's label
assignment, vectorised over videos and segments, plus what ASL's losses
need (segment ids, the points inside every segment, background points,
video labels).

Assignment rule (ActionFormer's). A point ``t`` (stride ``s``) is a
positive for a ground-truth segment ``[a, b]`` when

1. it lies in the centre region ``[c - r*s, c + r*s]`` clipped to
   ``[a, b]`` (strictly inside), with ``c`` the segment centre and ``r``
   the radius, and
2. its farther boundary ``max(t - a, b - t)`` lies in the point's regress
   range.

Among the segments that qualify, the shortest wins; segments whose length
ties with it (within ``1e-3`` steps) add their class too (multi-label).
Regression targets are the winner's ``(t - a, b - t)`` divided by ``s``.

All times are in feature steps of the padded input sequence; regression
targets are in strides of the point's level.
"""
import math
from dataclasses import dataclass
from typing import Optional, Sequence, Tuple

import torch
import torch.nn.functional as F
from torch import Tensor

# Lengths within this many steps of the shortest count as a tie.
TIE_TOLERANCE = 1e-3


@dataclass
class SegmentPoints:
    """``Q`` (point, ground-truth segment) pairs, flattened over the batch.

    Attributes:
        video (LongTensor): ``[Q]`` video of the pair.
        point (LongTensor): ``[Q]`` index into the ``P`` points.
        segment (LongTensor): ``[Q]`` segment id, unique over the batch
            (index into ``DenseTargets.segment_labels``).
        label (LongTensor): ``[Q]`` class of the segment.
        position (Tensor): ``[Q]`` ``(t - centre) / length``: -0.5 at the
            segment's start, 0 at its centre, +0.5 at its end.
        stride (Tensor): ``[Q]`` stride of the point's level (steps).
        length (Tensor): ``[Q]`` segment length (steps).
    """
    video: Tensor
    point: Tensor
    segment: Tensor
    label: Tensor
    position: Tensor
    stride: Tensor
    length: Tensor

    def __len__(self) -> int:
        return self.point.numel()

    def flat_index(self, num_points: int) -> Tensor:
        """``[Q]`` index into ``[B * P]`` flattened per-point tensors."""
        return self.video * num_points + self.point


@dataclass
class DenseTargets:
    """Everything the dense losses need for ``B`` videos and ``P`` points.

    Attributes:
        points (Tensor): ``[P, 4]`` ``(t, range_lo, range_hi, stride)``.
        valid (BoolTensor): ``[B, P]`` points at unpadded steps.
        pos_mask (BoolTensor): ``[B, P]`` positive (and valid) points; ``M``
            of them, in row-major order wherever ``[M]`` tensors appear.
        cls_targets (Tensor): ``[B, P, K]`` multi-hot class targets.
        reg_targets (Tensor): ``[B, P, 2]`` ``(left, right)`` distances to
            the assigned segment, in strides (0 at negatives).
        assigned_gt (LongTensor): ``[B, P]`` index of the assigned segment
            in its video, -1 at negatives.
        segment_ids (LongTensor): ``[B, P]`` batch-unique id of the assigned
            segment, -1 at negatives.
        gt_segments (Tensor): ``[B, N, 2]`` padded ground truth (steps).
        gt_labels (LongTensor): ``[B, N]``.
        gt_valid (BoolTensor): ``[B, N]`` real (non-padding) segments.
        segment_labels (LongTensor): ``[S]`` class of every segment of the
            batch, video after video (``S = gt_valid.sum()``).
        background (BoolTensor): ``[B, P]`` valid points outside every
            segment.
        video_labels (Tensor): ``[B, K]`` multi-hot classes of each video.
        positives (SegmentPoints): the ``M`` positive points with their
            assigned segment.
        inside (SegmentPoints): every valid point strictly inside a
            segment, at every level, paired with each segment holding it.
        cls_weight (Tensor): ``[M]`` weight of each positive point's focal
            loss row (1 without class-level sensitivity).
        loc_weight (Tensor): ``[M]`` weight of its DIoU loss.
        sensitivity (Tensor, optional): ``[Q]`` x 3 class-level sensitivity
            ``(cls, start, end)`` of the ``inside`` pairs (non-negative);
            None when class-level sensitivity is off.
    """
    points: Tensor
    valid: Tensor
    pos_mask: Tensor
    cls_targets: Tensor
    reg_targets: Tensor
    assigned_gt: Tensor
    segment_ids: Tensor
    gt_segments: Tensor
    gt_labels: Tensor
    gt_valid: Tensor
    segment_labels: Tensor
    background: Tensor
    video_labels: Tensor
    positives: SegmentPoints
    inside: SegmentPoints
    cls_weight: Tensor
    loc_weight: Tensor
    sensitivity: Optional[Tensor] = None

    @property
    def num_pos(self) -> int:
        return self.positives.point.numel()


# ------------------------------------------------------------ ground truth
def pad_gt_instances(data_samples: Sequence, num_classes: int,
                     device: torch.device) -> Tuple[Tensor, Tensor, Tensor]:
    """Stack each video's ``gt_instances`` into padded batch tensors.

    Real segments come first in each row, padding after them, so
    ``segments[valid]`` lists the batch's segments video after video.

    Args:
        data_samples (Sequence[TADDataSample]):
            ``gt_instances.segments_in_steps`` ``[N_i, 2]`` and
            ``gt_instances.labels`` ``[N_i]``.
        num_classes (int): Labels must lie in ``[0, num_classes)``.
        device (torch.device): Device of the outputs.

    Returns:
        tuple: ``segments [B, N, 2]`` float32, ``labels [B, N]`` long,
        ``valid [B, N]`` bool, with ``N = max(N_i)``.
    """
    segs, labels = [], []
    for sample in data_samples:
        name = sample.metainfo.get('video_name', '<unnamed video>')
        if 'gt_instances' not in sample:
            raise ValueError(f'video {name}: data sample has no '
                             'gt_instances, which training needs')
        seg = torch.as_tensor(sample.gt_instances.segments_in_steps,
                              dtype=torch.float32).reshape(-1, 2)
        lab = torch.as_tensor(sample.gt_instances.labels,
                              dtype=torch.long).reshape(-1)
        _check_video_gt(name, seg, lab, num_classes)
        segs.append(seg)
        labels.append(lab)
    num_gt = max([len(lab) for lab in labels], default=0)
    batch = len(labels)
    out_segs = torch.zeros(batch, num_gt, 2, device=device)
    out_labels = torch.zeros(batch, num_gt, dtype=torch.long, device=device)
    valid = torch.zeros(batch, num_gt, dtype=torch.bool, device=device)
    for b, (seg, lab) in enumerate(zip(segs, labels)):
        out_segs[b, :len(lab)] = seg.to(device)
        out_labels[b, :len(lab)] = lab.to(device)
        valid[b, :len(lab)] = True
    return out_segs, out_labels, valid


def _check_video_gt(name: str, seg: Tensor, lab: Tensor,
                    num_classes: int) -> None:
    if len(seg) != len(lab):
        raise ValueError(f'video {name}: {len(seg)} gt segments but '
                         f'{len(lab)} labels')
    if len(lab) == 0:
        return
    if not torch.isfinite(seg).all() or (seg[:, 1] < seg[:, 0]).any():
        raise ValueError(f'video {name}: gt segments must be finite with '
                         f'end >= start, got {seg.tolist()}')
    if lab.min() < 0 or lab.max() >= num_classes:
        raise ValueError(f'video {name}: gt labels must be in [0, '
                         f'{num_classes}), got {lab.tolist()}')


# -------------------------------------------------------------- assignment
def assign_targets(points: Tensor, gt_segments: Tensor, gt_labels: Tensor,
                   gt_valid: Tensor, num_classes: int,
                   center_sample_radius: float = 1.5
                   ) -> Tuple[Tensor, Tensor, Tensor, Tensor]:
    """ActionFormer's targets of every point of a batch, without loops.

    Only the few points of each segment's centre window can be claimed by
    it (``2 r + 1`` per level at most), so rather than testing all
    ``B x P x N`` (point, segment) pairs, the candidate pairs are listed
    per segment and level and the shortest segment per point is found with
    scatter reductions. Cost and memory grow with ``B x N x levels``, not
    with the sequence length.

    Args:
        points (Tensor): ``[P, 4]`` ``(t, range_lo, range_hi, stride)`` as
            ``PointGenerator1D`` lays them out: level after level, level
            ``l`` at ``t = i * stride_l`` for ``i = 0 .. T_l - 1``.
        gt_segments (Tensor): ``[B, N, 2]`` ``(start, end)`` in steps.
        gt_labels (Tensor): ``[B, N]`` long class ids.
        gt_valid (BoolTensor): ``[B, N]``, False on padding.
        num_classes (int): ``K``.
        center_sample_radius (float): ``r`` in strides.

    Returns:
        tuple: ``cls_targets [B, P, K]`` float multi-hot, ``reg_targets
        [B, P, 2]`` in strides (0 at negatives), ``pos_mask [B, P]`` and
        ``assigned_gt [B, P]`` (index of the winning segment in its video,
        -1 at negatives).
    """
    _check_assign_inputs(points, gt_segments, gt_labels, gt_valid)
    batch, num_gt = gt_labels.shape
    num_points = points.shape[0]
    cls_targets = points.new_zeros(batch * num_points, num_classes)
    if num_gt == 0:  # no video of the batch has a segment
        return (cls_targets.view(batch, num_points, num_classes),
                points.new_zeros(batch, num_points, 2),
                points.new_zeros(batch, num_points, dtype=torch.bool),
                points.new_full((batch, num_points), -1, dtype=torch.long))
    segs = gt_segments.to(points.dtype)
    video, seg, point = _candidate_pairs(points, segs, gt_valid,
                                         center_sample_radius)
    # shortest candidate segment of each point (flat index b * P + p)
    key = video * num_points + point
    length = segs[video, seg, 1] - segs[video, seg, 0]
    inf = points.new_full((batch * num_points, ), float('inf'))
    min_len = inf.scatter_reduce(0, key, length, 'amin')
    # winner: the first segment among those exactly as short
    shortest = length == min_len[key]
    winner = torch.full((batch * num_points, ), num_gt, dtype=torch.long,
                        device=points.device)
    winner = winner.scatter_reduce(0, key[shortest], seg[shortest], 'amin')
    # every segment as short as the winner adds its class
    tie = length <= min_len[key] + TIE_TOLERANCE
    cls_targets[key[tie], gt_labels[video[tie], seg[tie]]] = 1.0

    pos_mask = torch.isfinite(min_len).view(batch, num_points)
    winner = winner.view(batch, num_points).masked_fill(~pos_mask, 0)
    won = segs.gather(1, winner[..., None].expand(batch, num_points, 2))
    t, stride = points[:, 0], points[:, 3]
    reg_targets = torch.stack((t - won[..., 0], won[..., 1] - t), dim=-1)
    reg_targets = reg_targets / stride[:, None] * pos_mask[..., None]
    assigned_gt = winner.masked_fill(~pos_mask, -1)
    return (cls_targets.view(batch, num_points, num_classes), reg_targets,
            pos_mask, assigned_gt)


def _candidate_pairs(points: Tensor, segs: Tensor, gt_valid: Tensor,
                     radius: float) -> Tuple[Tensor, Tensor, Tensor]:
    """(video, segment, point) triples where the point may take the segment.

    Returns:
        tuple: three ``[C]`` long tensors (video, segment, point index).
    """
    starts, lengths, strides = level_layout(points)  # [L] each
    start, end = segs[..., 0, None, None], segs[..., 1, None, None]
    center = 0.5 * (start + end)  # [B, N, 1, 1]
    # window of point indices around the centre, one spare step each side
    # so float rounding can only add candidates, never lose one
    first = torch.floor(center[..., 0] / strides - radius)  # [B, N, L]
    width = math.ceil(2 * radius) + 2
    offsets = torch.arange(width, device=points.device)
    index = first.long()[..., None] + offsets  # [B, N, L, W]
    in_level = (index >= 0) & (index < lengths[:, None])
    point = starts[:, None] + torch.minimum(index.clamp(min=0),
                                            lengths[:, None] - 1)
    t, lo, hi, stride = points[point].unbind(dim=-1)  # [B, N, L, W]
    # the same tests as ActionFormer's dense formulation
    radius_steps = radius * stride
    in_center = torch.minimum(
        t - torch.maximum(center - radius_steps, start),
        torch.minimum(center + radius_steps, end) - t) > 0
    far = torch.maximum(t - start, end - t)
    ok = in_level & in_center & (far >= lo) & (far <= hi)
    ok &= gt_valid[..., None, None]
    video, seg, _, _ = torch.nonzero(ok, as_tuple=True)
    return video, seg, point[ok]


def level_layout(points: Tensor) -> Tuple[Tensor, Tensor, Tensor]:
    """First index, number of points and stride of each level (levels
    restart at ``t = 0``); three ``[L]`` tensors."""
    t = points[:, 0]
    restart = torch.ones_like(t, dtype=torch.bool)
    restart[1:] = t[1:] <= t[:-1]
    starts = torch.nonzero(restart).squeeze(1)
    ends = torch.cat([starts[1:], starts.new_tensor([len(t)])])
    return starts, ends - starts, points[starts, 3]


def _check_assign_inputs(points, gt_segments, gt_labels, gt_valid) -> None:
    if points.dim() != 2 or points.shape[1] != 4:
        raise ValueError(f'points must be [P, 4], got {tuple(points.shape)}')
    if gt_segments.dim() != 3 or gt_segments.shape[-1] != 2:
        raise ValueError('gt_segments must be [B, N, 2], got '
                         f'{tuple(gt_segments.shape)}')
    if gt_labels.shape != gt_segments.shape[:2] or \
            gt_valid.shape != gt_segments.shape[:2]:
        raise ValueError('gt_labels / gt_valid must be [B, N] like '
                         f'gt_segments {tuple(gt_segments.shape)}, got '
                         f'{tuple(gt_labels.shape)} / {tuple(gt_valid.shape)}')


# ------------------------------------------------------ ASL's extra targets
def batch_segment_ids(assigned_gt: Tensor, gt_valid: Tensor) -> Tensor:
    """``[B, P]`` video-local segment index -> batch-unique id (the index
    into ``segments[gt_valid]``), -1 kept."""
    per_video = gt_valid.sum(dim=1)
    first_id = per_video.cumsum(dim=0) - per_video  # [B]
    ids = assigned_gt + first_id[:, None]
    return ids.masked_fill(assigned_gt < 0, -1)


def points_inside_segments(points: Tensor, gt_segments: Tensor,
                           gt_labels: Tensor, gt_valid: Tensor,
                           valid: Tensor) -> SegmentPoints:
    """Every valid point strictly inside a segment, at every level.

    A segment ``[a, b]`` holds the points ``i * s`` of a level with
    ``a < i * s < b``, i.e. ``i`` from ``floor(a / s) + 1`` to
    ``ceil(b / s) - 1``; the pairs are enumerated without a dense
    ``B x P x N`` test.

    Args:
        points (Tensor): ``[P, 4]``.
        gt_segments (Tensor): ``[B, N, 2]`` steps.
        gt_labels (LongTensor): ``[B, N]``.
        gt_valid (BoolTensor): ``[B, N]``.
        valid (BoolTensor): ``[B, P]`` unpadded points.

    Returns:
        SegmentPoints: the ``Q`` pairs, segment by segment, level by level.
    """
    starts, lengths, strides = level_layout(points)
    segs = gt_segments.to(points.dtype)
    video, seg = torch.nonzero(gt_valid, as_tuple=True)  # [S]
    ids = torch.arange(video.numel(), device=points.device)
    start, end = segs[video, seg, 0, None], segs[video, seg, 1, None]
    first = (torch.floor(start / strides) + 1).clamp(min=0).long()  # [S, L]
    last = torch.minimum(torch.ceil(end / strides).long() - 1,
                         lengths - 1)
    count = (last - first + 1).clamp(min=0).reshape(-1)  # [S * L]
    pair_seg = torch.arange(ids.numel(), device=points.device
                            ).repeat_interleave(lengths.numel())
    pair_level = torch.arange(lengths.numel(), device=points.device
                              ).repeat(ids.numel())
    seg_of = pair_seg.repeat_interleave(count)  # [Q]
    level_of = pair_level.repeat_interleave(count)
    # offset of each pair inside its (segment, level) run
    run_start = torch.cumsum(count, 0) - count
    within = torch.arange(int(count.sum()), device=points.device) - \
        run_start.repeat_interleave(count)
    point = starts[level_of] + first.reshape(-1).repeat_interleave(count) \
        + within
    vid = video[seg_of]
    keep = valid[vid, point]
    point, vid, seg_of = point[keep], vid[keep], seg_of[keep]
    a, b = segs[vid, seg[seg_of], 0], segs[vid, seg[seg_of], 1]
    length = (b - a).clamp(min=1e-6)
    t = points[point, 0]
    return SegmentPoints(
        video=vid, point=point, segment=ids[seg_of],
        label=gt_labels[vid, seg[seg_of]],
        position=(t - 0.5 * (a + b)) / length, stride=points[point, 3],
        length=length)


def positive_points(points: Tensor, pos_mask: Tensor, segment_ids: Tensor,
                    assigned_gt: Tensor, gt_segments: Tensor,
                    gt_labels: Tensor) -> SegmentPoints:
    """The ``M`` positive points with their assigned segment, row-major."""
    video, point = torch.nonzero(pos_mask, as_tuple=True)
    local = assigned_gt[video, point]
    segs = gt_segments[video, local].to(points.dtype)
    length = (segs[:, 1] - segs[:, 0]).clamp(min=1e-6)
    return SegmentPoints(
        video=video, point=point, segment=segment_ids[video, point],
        label=gt_labels[video, local],
        position=(points[point, 0] - segs.mean(dim=1)) / length,
        stride=points[point, 3], length=length)


def background_points(points: Tensor, gt_segments: Tensor, gt_valid: Tensor,
                      valid: Tensor) -> Tensor:
    """``[B, P]`` valid points outside every ground-truth segment (ends
    included in the segment)."""
    t = points[None, :, 0, None]  # [1, P, 1]
    inside = (t >= gt_segments[:, None, :, 0]) & \
        (t <= gt_segments[:, None, :, 1])
    inside = (inside & gt_valid[:, None, :]).any(dim=2)
    return valid & ~inside


def video_multi_hot(labels: Tensor, gt_valid: Tensor,
                    num_classes: int) -> Tensor:
    """``[B, N]`` labels -> ``[B, K]`` float multi-hot of each video."""
    hot = F.one_hot(labels, num_classes) * gt_valid[..., None]
    return hot.sum(dim=1).clamp(max=1).float()


@torch.no_grad()
def build_dense_targets(points: Tensor, valid: Tensor, data_samples: Sequence,
                        num_classes: int, center_sample_radius: float
                        ) -> DenseTargets:
    """All targets of a batch (the sensitivity weights start at 1; the head
    fills them in with its class-sensitivity module).

    Args:
        points (Tensor): ``[P, 4]`` from ``PointGenerator1D``.
        valid (BoolTensor): ``[B, P]`` points at unpadded steps.
        data_samples (Sequence[TADDataSample]): ground truth in steps.
        num_classes (int): ``K``.
        center_sample_radius (float): in strides.
    """
    gt_segs, gt_labels, gt_valid = pad_gt_instances(
        data_samples, num_classes, points.device)
    cls_targets, reg_targets, pos, assigned = assign_targets(
        points, gt_segs, gt_labels, gt_valid, num_classes,
        center_sample_radius)
    pos = pos & valid
    assigned = assigned.masked_fill(~pos, -1)
    seg_ids = batch_segment_ids(assigned, gt_valid)
    positives = positive_points(points, pos, seg_ids, assigned, gt_segs,
                                gt_labels)
    ones = points.new_ones(positives.point.numel())
    return DenseTargets(
        points=points, valid=valid, pos_mask=pos, cls_targets=cls_targets,
        reg_targets=reg_targets, assigned_gt=assigned, segment_ids=seg_ids,
        gt_segments=gt_segs, gt_labels=gt_labels, gt_valid=gt_valid,
        segment_labels=gt_labels[gt_valid],
        background=background_points(points, gt_segs, gt_valid, valid),
        video_labels=video_multi_hot(gt_labels, gt_valid, num_classes),
        positives=positives,
        inside=points_inside_segments(points, gt_segs, gt_labels, gt_valid,
                                      valid),
        cls_weight=ones, loc_weight=ones)
