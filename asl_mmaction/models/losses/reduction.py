"""Shared reduction of element-wise losses."""
from typing import Optional

from torch import Tensor


def reduce_loss(loss: Tensor, reduction: str,
                avg_factor: Optional[float] = None) -> Tensor:
    """``'none'``, ``'sum'`` or ``'mean'``; ``avg_factor`` replaces the
    divisor (``'mean'``) or divides the sum (``'sum'``)."""
    if reduction == 'none':
        if avg_factor is not None:
            raise ValueError('avg_factor needs reduction "sum" or "mean"')
        return loss
    if reduction not in ('sum', 'mean'):
        raise ValueError(f'unknown reduction "{reduction}": use none, sum '
                         'or mean')
    if avg_factor is not None:
        return loss.sum() / avg_factor
    return loss.sum() if reduction == 'sum' else loss.mean()
