"""Sigmoid focal loss for dense multi-label classification (RetinaNet)."""
from typing import Optional

import torch.nn as nn
import torch.nn.functional as F
from torch import Tensor
from mmaction.registry import MODELS

from .reduction import reduce_loss


def sigmoid_focal_loss(logits: Tensor, targets: Tensor, alpha: float = 0.25,
                       gamma: float = 2.0) -> Tensor:
    """Element-wise focal loss.

    Args:
        logits (Tensor): ``[M, K]`` raw scores.
        targets (Tensor): ``[M, K]`` in ``[0, 1]`` (soft targets allowed,
            e.g. after label smoothing).
        alpha (float): Weight of the positive term; negative disables it.
        gamma (float): Focusing exponent.

    Returns:
        Tensor: ``[M, K]`` float32 losses.
    """
    logits, targets = logits.float(), targets.float()
    prob = logits.sigmoid()
    ce = F.binary_cross_entropy_with_logits(logits, targets, reduction='none')
    # probability given to the target, so easy points (p_t -> 1) fade out
    p_t = prob * targets + (1 - prob) * (1 - targets)
    loss = ce * (1 - p_t)**gamma
    if alpha >= 0:
        loss = loss * (alpha * targets + (1 - alpha) * (1 - targets))
    return loss


@MODELS.register_module()
class SigmoidFocalLoss(nn.Module):
    """Focal loss on per-class sigmoids.

    Computed in float32 whatever the input dtype, so it is safe under
    autocast.

    Args:
        alpha (float): Positive-term weight. Defaults to 0.25.
        gamma (float): Focusing exponent. Defaults to 2.0.
        reduction (str): ``'none'``, ``'mean'`` or ``'sum'``.
        loss_weight (float): Multiplier of the result.
    """

    def __init__(self, alpha: float = 0.25, gamma: float = 2.0,
                 reduction: str = 'sum', loss_weight: float = 1.0) -> None:
        super().__init__()
        self.alpha = alpha
        self.gamma = gamma
        self.reduction = reduction
        self.loss_weight = loss_weight

    def forward(self, logits: Tensor, targets: Tensor,
                weight: Optional[Tensor] = None,
                avg_factor: Optional[float] = None) -> Tensor:
        """
        Args:
            logits (Tensor): ``[M, K]``.
            targets (Tensor): ``[M, K]``.
            weight (Tensor, optional): ``[M]`` (one weight per row) or
                ``[M, K]``.
            avg_factor (float, optional): Divides the sum instead of the
                element count (``reduction='mean'``) or nothing (``'sum'``).

        Returns:
            Tensor: scalar, or ``[M, K]`` with ``reduction='none'``.
        """
        if logits.shape != targets.shape:
            raise ValueError(f'logits {tuple(logits.shape)} and targets '
                             f'{tuple(targets.shape)} differ in shape')
        loss = sigmoid_focal_loss(logits, targets, self.alpha, self.gamma)
        if weight is not None:
            weight = weight.float()
            if weight.dim() == 1:
                weight = weight[:, None]
            loss = loss * weight
        return self.loss_weight * reduce_loss(loss, self.reduction,
                                              avg_factor)
