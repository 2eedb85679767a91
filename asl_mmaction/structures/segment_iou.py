"""Temporal IoU of 1-D segments, in torch: the one implementation the head,
the losses and the NMS share (mmcv-lite ships no ops).

Every function divides by ``max(union, EPS)``, so two zero-length segments
have IoU 0 instead of 0 / 0 and gradients stay finite. The metric
(``evaluation/functional``) keeps its own NumPy IoU on purpose: it must
reproduce the official benchmark scripts bit for bit.
"""
import torch
from torch import Tensor

# Floor of the union, in the segments' own unit (steps or seconds).
EPS = 1e-6


def segment_iou_1d(a: Tensor, b: Tensor) -> Tensor:
    """Pairwise temporal IoU.

    Args:
        a (Tensor): ``[N, 2]`` segments ``(start, end)``.
        b (Tensor): ``[M, 2]`` segments.

    Returns:
        Tensor: ``[N, M]`` IoU in ``[0, 1]``.
    """
    if a.dim() != 2 or a.shape[-1] != 2 or b.dim() != 2 or b.shape[-1] != 2:
        raise ValueError('segment_iou_1d expects [N, 2] and [M, 2] segments, '
                         f'got {tuple(a.shape)} and {tuple(b.shape)}')
    return aligned_segment_iou(a[:, None, :], b[None, :, :])


def aligned_segment_iou(a: Tensor, b: Tensor) -> Tensor:
    """IoU of segments that broadcast against each other.

    Args:
        a (Tensor): ``[..., 2]`` segments.
        b (Tensor): ``[..., 2]`` segments, broadcastable with ``a``.

    Returns:
        Tensor: IoU with the broadcast shape of ``a[..., 0]`` and
        ``b[..., 0]``.
    """
    inter = (torch.minimum(a[..., 1], b[..., 1]) -
             torch.maximum(a[..., 0], b[..., 0])).clamp(min=0)
    union = (a[..., 1] - a[..., 0]) + (b[..., 1] - b[..., 0]) - inter
    return inter / union.clamp(min=EPS)


def offsets_iou(pred: Tensor, target: Tensor) -> Tensor:
    """IoU of ``[t - left, t + right]`` segments around the same point.

    Same value as :func:`aligned_segment_iou` on those segments; ``t``
    cancels, so the offsets suffice.

    Args:
        pred (Tensor): ``[..., 2]`` non-negative ``(left, right)``.
        target (Tensor): ``[..., 2]`` non-negative ``(left, right)``.

    Returns:
        Tensor: ``[...]`` in ``[0, 1]``.
    """
    inter = torch.minimum(pred, target).sum(dim=-1)
    union = pred.sum(dim=-1) + target.sum(dim=-1) - inter
    return inter / union.clamp(min=EPS)
