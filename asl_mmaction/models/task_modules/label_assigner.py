"""ActionFormer's label assignment, vectorised over videos and segments.

A point ``t`` (stride ``s``) is a positive for a ground-truth segment
``[a, b]`` when

1. it lies in the centre region ``[c - r*s, c + r*s]`` clipped to
   ``[a, b]``, with ``c`` the segment centre and ``r`` the radius, and
2. its farther boundary ``max(t - a, b - t)`` lies in the point's regress
   range.

Among the segments that qualify, the shortest wins; segments whose length
ties with it (within ``1e-3`` steps) add their class too (multi-label).
Regression targets are the winner's ``(t - a, b - t)`` divided by ``s``.
"""
import math
from typing import Tuple

import torch
from torch import Tensor

# Lengths within this many steps of the shortest count as a tie.
TIE_TOLERANCE = 1e-3


def assign_targets(points: Tensor, gt_segments: Tensor, gt_labels: Tensor,
                   gt_valid: Tensor, num_classes: int,
                   center_sample_radius: float = 1.5
                   ) -> Tuple[Tensor, Tensor, Tensor, Tensor]:
    """Targets of every point of a batch, without Python loops.

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
        gt_segments (Tensor): ``[B, N, 2]`` ``(start, end)`` in steps,
            padded to the largest ``N`` of the batch.
        gt_labels (Tensor): ``[B, N]`` long class ids.
        gt_valid (BoolTensor): ``[B, N]``, False on padding.
        num_classes (int): ``K``.
        center_sample_radius (float): ``r`` in strides.

    Returns:
        tuple:
        - cls_targets (Tensor): ``[B, P, K]`` float multi-hot.
        - reg_targets (Tensor): ``[B, P, 2]`` ``(left, right)`` distances
          to the winning segment in strides (0 at negatives).
        - pos_mask (BoolTensor): ``[B, P]``.
        - assigned_gt (LongTensor): ``[B, P]`` index of the winning segment
          in its video, -1 at negatives.
    """
    _check_inputs(points, gt_segments, gt_labels, gt_valid)
    B, N = gt_labels.shape
    P = points.shape[0]
    cls_targets = points.new_zeros(B * P, num_classes)
    if N == 0:  # no video of the batch has a segment
        return (cls_targets.view(B, P, num_classes),
                points.new_zeros(B, P, 2),
                points.new_zeros(B, P, dtype=torch.bool),
                points.new_full((B, P), -1, dtype=torch.long))
    segs = gt_segments.to(points.dtype)
    video, seg, point = _candidate_pairs(points, segs, gt_valid,
                                         center_sample_radius)
    # shortest candidate segment of each point (flat index b * P + p)
    key = video * P + point
    length = segs[video, seg, 1] - segs[video, seg, 0]
    inf = points.new_full((B * P, ), float('inf'))
    min_len = inf.scatter_reduce(0, key, length, 'amin')
    # winner: the first segment among those exactly as short
    shortest = length == min_len[key]
    winner = torch.full((B * P, ), N, dtype=torch.long, device=points.device)
    winner = winner.scatter_reduce(0, key[shortest], seg[shortest], 'amin')
    # every segment as short as the winner adds its class
    tie = length <= min_len[key] + TIE_TOLERANCE
    cls_targets[key[tie], gt_labels[video[tie], seg[tie]]] = 1.0

    pos_mask = torch.isfinite(min_len).view(B, P)
    winner = winner.view(B, P).masked_fill(~pos_mask, 0)
    won = segs.gather(1, winner[..., None].expand(B, P, 2))  # [B, P, 2]
    t, stride = points[:, 0], points[:, 3]
    reg_targets = torch.stack((t - won[..., 0], won[..., 1] - t), dim=-1)
    reg_targets = reg_targets / stride[:, None] * pos_mask[..., None]
    assigned_gt = winner.masked_fill(~pos_mask, -1)
    return (cls_targets.view(B, P, num_classes), reg_targets, pos_mask,
            assigned_gt)


def _candidate_pairs(points: Tensor, segs: Tensor, gt_valid: Tensor,
                     radius: float) -> Tuple[Tensor, Tensor, Tensor]:
    """(video, segment, point) triples where the point may take the segment.

    Returns:
        tuple: three ``[C]`` long tensors (video, segment, point index).
    """
    starts, lengths, strides = _level_layout(points)  # [L] each
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


def _level_layout(points: Tensor) -> Tuple[Tensor, Tensor, Tensor]:
    """First index, length and stride of each level (levels restart at
    ``t = 0``)."""
    t = points[:, 0]
    restart = torch.ones_like(t, dtype=torch.bool)
    restart[1:] = t[1:] <= t[:-1]
    starts = torch.nonzero(restart).squeeze(1)
    ends = torch.cat([starts[1:], starts.new_tensor([len(t)])])
    return starts, ends - starts, points[starts, 3]


def _check_inputs(points, gt_segments, gt_labels, gt_valid) -> None:
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
