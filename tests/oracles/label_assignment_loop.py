"""A deliberately plain reference of ``assign_targets``.

One video and one segment at a time, written to be obviously right rather
than fast. Tests compare the vectorised assigner with it; the benchmark
times both.
"""
import torch
from torch import Tensor

from asl_mmaction.models.task_modules.dense_targets import TIE_TOLERANCE


def assign_targets_loop(points: Tensor, gt_segments: Tensor,
                        gt_labels: Tensor, gt_valid: Tensor,
                        num_classes: int, center_sample_radius: float = 1.5):
    """Same arguments and results as
    :func:`~asl_mmaction.models.task_modules.assign_targets`."""
    B, P = gt_segments.shape[0], points.shape[0]
    cls_targets = points.new_zeros(B, P, num_classes)
    reg_targets = points.new_zeros(B, P, 2)
    assigned_gt = torch.full((B, P), -1, dtype=torch.long,
                             device=points.device)
    t, lo, hi, stride = points.unbind(dim=1)
    for b in range(B):
        best_len = torch.full((P, ), float('inf'), device=points.device)
        candidates = []  # (segment index, candidate mask [P])
        for n in range(gt_segments.shape[1]):
            if not bool(gt_valid[b, n]):
                continue
            # float32 tensor scalars, so rounding matches the fast version
            start, end = gt_segments[b, n].to(points.dtype).unbind()
            center = 0.5 * (start + end)
            region_lo = torch.maximum(center - center_sample_radius * stride,
                                      start)
            region_hi = torch.minimum(center + center_sample_radius * stride,
                                      end)
            inside = (t > region_lo) & (t < region_hi)
            far = torch.maximum(t - start, end - t)
            ok = inside & (far >= lo) & (far <= hi)
            candidates.append((n, ok))
            length = end - start
            # strict '<': the first of equally short segments stays winner
            better = ok & (length < best_len)
            best_len = torch.where(better, length, best_len)
            assigned_gt[b] = torch.where(better, n, assigned_gt[b])
        for n, ok in candidates:
            start, end = gt_segments[b, n].to(points.dtype).unbind()
            length = end - start
            tie = ok & (length <= best_len + TIE_TOLERANCE)
            cls_targets[b, tie, int(gt_labels[b, n])] = 1.0
        pos = assigned_gt[b] >= 0
        win = gt_segments[b, assigned_gt[b][pos]].to(points.dtype)
        reg_targets[b, pos, 0] = (t[pos] - win[:, 0]) / stride[pos]
        reg_targets[b, pos, 1] = (win[:, 1] - t[pos]) / stride[pos]
    return cls_targets, reg_targets, assigned_gt >= 0, assigned_gt
