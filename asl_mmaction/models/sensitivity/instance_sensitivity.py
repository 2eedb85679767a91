"""ASL's instance-level sensitivity: a light conv branch that predicts, for
every point, how well the detector currently classifies it (confidence of
the ground-truth class) and localizes it (tIoU of the segment it decodes).

The head adds the (detached) predictions to the class-level weights of the
positive points, so points the model already handles well, or badly, are
weighted by their own quality rather than only by their class's profile.
The branch is trained by MSE against the qualities the head measures; the
targets are detached there, and once more here.
"""
from typing import List, Sequence

import torch
from torch import Tensor
from mmaction.registry import MODELS

from ..heads.plugins import BaseInstanceSensitivity
from ..layers import MaskedConv1d, MaskedConvTower1d


@MODELS.register_module()
class InstanceSensitivityEvaluator(BaseInstanceSensitivity):
    """The package's conv tower shared over the pyramid levels, then a conv
    to two sigmoid outputs ``(cls_quality, loc_quality)``.

    Args:
        in_channels (int): Channels ``D`` of the pyramid features.
        feat_channels (int): Width of the tower. Defaults to 256.
        num_convs (int): Conv + (LayerNorm) + ReLU layers before the output
            conv. Defaults to 1: the branch only has to rank points, and the
            heavy lifting is in the shared pyramid.
        kernel_size (int): Odd kernel of every conv. Defaults to 3.
        with_ln (bool): Channel LayerNorm after each tower conv, as the
            ActionFormer heads. Defaults to True.
        loss_weight (float): Multiplier of :meth:`loss`. Defaults to 1.0.
    """

    def __init__(self, in_channels: int, feat_channels: int = 256,
                 num_convs: int = 1, kernel_size: int = 3,
                 with_ln: bool = True, loss_weight: float = 1.0) -> None:
        super().__init__()
        self.in_channels = in_channels
        self.loss_weight = loss_weight
        self.tower = MaskedConvTower1d(in_channels, feat_channels, num_convs,
                                       kernel_size, with_ln)
        self.conv_out = MaskedConv1d(self.tower.out_channels, 2, kernel_size)

    def forward(self, feats: Sequence[Tensor], masks: Sequence[Tensor]
                ) -> List[Tensor]:
        """Per-point qualities of every level.

        Args:
            feats (Sequence[Tensor]): ``[B, D, T_l]`` per level.
            masks (Sequence[BoolTensor]): ``[B, 1, T_l]`` per level.

        Returns:
            list[Tensor]: ``[B, T_l, 2]`` in ``[0, 1]`` per level
            (``[..., 0]`` classification, ``[..., 1]`` localization).
        """
        if len(feats) != len(masks):
            raise ValueError(f'InstanceSensitivityEvaluator: {len(feats)} '
                             f'feature levels but {len(masks)} masks')
        outs = []
        for level, (x, mask) in enumerate(zip(feats, masks)):
            if x.dim() != 3 or x.shape[1] != self.in_channels:
                raise ValueError(
                    f'InstanceSensitivityEvaluator: level {level} features '
                    f'{tuple(x.shape)}, expected [B, {self.in_channels}, T]')
            x, _ = self.conv_out(self.tower(x, mask), mask)
            outs.append(x.sigmoid().transpose(1, 2))
        return outs

    def loss(self, pred: Tensor, target: Tensor) -> Tensor:
        """Mean over the ``M`` positive points of the squared errors of both
        qualities (summed), times ``loss_weight``.

        Args:
            pred (Tensor): ``[M, 2]`` predictions.
            target (Tensor): ``[M, 2]`` measured GT-class confidence and
                tIoU of the decoded segment.

        Returns:
            Tensor: scalar; a zero still connected to ``pred`` when
            ``M == 0``.
        """
        if pred.dim() != 2 or pred.shape[1] != 2 or \
                target.shape != pred.shape:
            raise ValueError(
                f'InstanceSensitivityEvaluator.loss: pred {tuple(pred.shape)}'
                f', target {tuple(target.shape)}; expected [M, 2] both')
        if pred.shape[0] == 0:  # the mean of nothing would be NaN
            return pred.sum() * 0.0
        sq_err = (pred.float() - target.detach().float()).pow(2).sum()
        return self.loss_weight * sq_err / pred.shape[0]
