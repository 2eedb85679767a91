"""Distance-IoU loss for 1-D segments decoded from the same point."""
from typing import Optional

import torch
import torch.nn as nn
from torch import Tensor
from mmaction.registry import MODELS

from ...structures.segment_iou import EPS as IOU_EPS
from ...structures.segment_iou import offsets_iou
from .reduction import reduce_loss


def diou_loss_1d(pred_offsets: Tensor, target_offsets: Tensor) -> Tensor:
    """``1 - IoU + (centre distance / enclosing length)^2`` per row.

    Both segments are ``[t - left, t + right]`` around the same point, so
    offsets suffice and the loss is invariant to the point's stride.

    Args:
        pred_offsets (Tensor): ``[M, 2]`` non-negative ``(left, right)``.
        target_offsets (Tensor): ``[M, 2]`` non-negative.

    Returns:
        Tensor: ``[M]`` float32 losses in ``[0, 2)``.
    """
    pred, target = pred_offsets.float(), target_offsets.float()
    lp, rp = pred.unbind(dim=-1)
    lt, rt = target.unbind(dim=-1)
    enclosing = torch.maximum(lp, lt) + torch.maximum(rp, rt)
    # centre of [t - l, t + r] is t + (r - l) / 2; t cancels out
    centre_dist = 0.5 * ((rp - lp) - (rt - lt))
    return (1.0 - offsets_iou(pred, target) +
            (centre_dist / enclosing.clamp(min=IOU_EPS))**2)


@MODELS.register_module()
class DIoULoss1D(nn.Module):
    """DIoU loss on ``(left, right)`` offsets, in float32 under autocast.

    Args:
        reduction (str): ``'none'``, ``'mean'`` or ``'sum'``.
        loss_weight (float): Multiplier of the result. ``ASLHead`` reads a
            value <= 0 as "use ActionFormer's adaptive weight".
    """

    def __init__(self, reduction: str = 'sum',
                 loss_weight: float = 1.0) -> None:
        super().__init__()
        self.reduction = reduction
        self.loss_weight = loss_weight

    def forward(self, pred_offsets: Tensor, target_offsets: Tensor,
                weight: Optional[Tensor] = None,
                avg_factor: Optional[float] = None) -> Tensor:
        """
        Args:
            pred_offsets (Tensor): ``[M, 2]``.
            target_offsets (Tensor): ``[M, 2]``.
            weight (Tensor, optional): ``[M]``.
            avg_factor (float, optional): See ``SigmoidFocalLoss``.

        Returns:
            Tensor: scalar, or ``[M]`` with ``reduction='none'``.
        """
        if pred_offsets.shape != target_offsets.shape or \
                pred_offsets.shape[-1:] != (2, ):
            raise ValueError('expected [M, 2] offsets, got '
                             f'{tuple(pred_offsets.shape)} and '
                             f'{tuple(target_offsets.shape)}')
        loss = diou_loss_1d(pred_offsets, target_offsets)
        if weight is not None:
            loss = loss * weight.float()
        return self.loss_weight * reduce_loss(loss, self.reduction,
                                              avg_factor)
