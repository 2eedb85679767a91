"""Max-pool down-sampling that ignores padded steps."""
import torch
import torch.nn.functional as F

from .masked_conv import downsample_mask


def masked_max_pool1d(x: torch.Tensor, mask: torch.Tensor,
                      stride: int) -> torch.Tensor:
    """ActionFormer's pooled shortcut (kernel ``stride + 1``, padding
    ``(stride + 1) // 2``) with padded steps left out of every max.

    Padded steps hold zeros, which would win the max of a window of
    negative values at the end of a sequence; filling them with ``-inf``
    gives every valid output the value it has when the sequence is not
    padded at all (the pool's own padding is ``-inf`` too).

    Args:
        x (Tensor): ``[B, C, T]``.
        mask (BoolTensor): ``[B, 1, T]``.
        stride (int): Down-sampling factor (> 1).

    Returns:
        Tensor: ``[B, C, T // stride]``, zero at invalid output steps.
    """
    filled = x.masked_fill(~mask, float('-inf'))
    out = F.max_pool1d(filled, stride + 1, stride=stride,
                       padding=(stride + 1) // 2)
    out_mask = downsample_mask(mask, stride)
    # an output step is valid iff its centre input step is, so its window
    # holds a finite value; invalid ones may be -inf and become 0
    return out[..., :out_mask.shape[-1]].masked_fill(~out_mask, 0.0)
