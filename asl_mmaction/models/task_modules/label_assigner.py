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
from typing import Tuple

import torch
import torch.nn.functional as F
from torch import Tensor

# Lengths within this many steps of the shortest count as a tie.
TIE_TOLERANCE = 1e-3


def assign_targets(points: Tensor, gt_segments: Tensor, gt_labels: Tensor,
                   gt_valid: Tensor, num_classes: int,
                   center_sample_radius: float = 1.5
                   ) -> Tuple[Tensor, Tensor, Tensor, Tensor]:
    """Targets of every point of a batch, without Python loops.

    Args:
        points (Tensor): ``[P, 4]`` ``(t, range_lo, range_hi, stride)``.
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
    if N == 0:  # no video of the batch has a segment
        return (points.new_zeros(B, P, num_classes),
                points.new_zeros(B, P, 2),
                points.new_zeros(B, P, dtype=torch.bool),
                points.new_full((B, P), -1, dtype=torch.long))
    segs = gt_segments.to(points.dtype)
    t, lo, hi, stride = (points[None, :, i, None] for i in range(4))  # 1P1
    start, end = segs[:, None, :, 0], segs[:, None, :, 1]  # [B, 1, N]
    left, right = t - start, end - t  # [B, P, N]

    center = 0.5 * (start + end)
    radius = center_sample_radius * stride
    in_center = torch.minimum(t - torch.maximum(center - radius, start),
                              torch.minimum(center + radius, end) - t) > 0
    far = torch.maximum(left, right)
    in_range = (far >= lo) & (far <= hi)
    candidate = in_center & in_range & gt_valid[:, None, :]

    lengths = (end - start).expand(B, P, N)
    lengths = lengths.masked_fill(~candidate, float('inf'))
    min_len, winner = lengths.min(dim=2)  # [B, P]
    pos_mask = torch.isfinite(min_len)
    ties = (lengths <= min_len[..., None] + TIE_TOLERANCE) & candidate

    one_hot = F.one_hot(gt_labels.clamp(min=0), num_classes).to(points.dtype)
    cls_targets = torch.bmm(ties.to(points.dtype), one_hot).clamp_(max=1.0)

    reg = torch.stack((left, right), dim=-1)  # [B, P, N, 2]
    reg = reg.gather(2, winner[..., None, None].expand(B, P, 1, 2))[:, :, 0]
    reg_targets = reg / points[None, :, 3, None] * pos_mask[..., None]
    assigned_gt = winner.masked_fill(~pos_mask, -1)
    return cls_targets, reg_targets, pos_mask, assigned_gt


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
