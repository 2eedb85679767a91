"""Temporal IoU between 1-D segments, in torch (mmcv-lite ships no ops)."""
import torch
from torch import Tensor

# Keeps the IoU of two zero-length segments at 0 instead of 0 / 0.
_EPS = 1e-6


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
    return inter / union.clamp(min=_EPS)
