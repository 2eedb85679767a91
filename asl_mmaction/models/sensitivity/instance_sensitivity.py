"""ASL's instance-level sensitivity: a light conv branch that predicts, for
every point, how well the detector currently classifies it (confidence of
the ground-truth class) and localizes it (tIoU of the segment it decodes).

The head adds the (detached) predictions to the class-level weights of the
positive points, so points the model already handles well, or badly, are
weighted by their own quality rather than only by their class's Gaussian.
The branch is trained by MSE against the qualities the head measures; the
targets are detached there, and once more here.
"""
from typing import List, Optional, Sequence

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch import Tensor
from mmaction.registry import MODELS

from ..layers.channel_norm import ChannelLayerNorm
from ..layers.masked_conv import MaskedConv1d


@MODELS.register_module()
class InstanceSensitivityEvaluator(nn.Module):
    """Masked 1-D conv tower shared over the pyramid levels, then a conv to
    two sigmoid outputs ``(cls_quality, loc_quality)``.

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
        if num_convs < 0:
            raise ValueError(f'num_convs must be >= 0, got {num_convs}')
        self.in_channels = in_channels
        self.loss_weight = loss_weight
        self.convs = nn.ModuleList()
        self.norms = nn.ModuleList()
        channels = in_channels
        for _ in range(num_convs):
            self.convs.append(MaskedConv1d(channels, feat_channels,
                                           kernel_size, bias=not with_ln))
            self.norms.append(ChannelLayerNorm(feat_channels) if with_ln
                              else nn.Identity())
            channels = feat_channels
        self.conv_out = MaskedConv1d(channels, 2, kernel_size)

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
            for conv, norm in zip(self.convs, self.norms):
                x = F.relu(norm(conv(x, mask)[0]))
            x = self.conv_out(x, mask)[0]
            outs.append(x.sigmoid().transpose(1, 2))
        return outs

    def loss(self, pred: Tensor, cls_target: Tensor, loc_target: Tensor,
             avg_factor: Optional[float] = None) -> Tensor:
        """MSE of the qualities of the ``M`` positive points.

        Args:
            pred (Tensor): ``[M, 2]`` predictions.
            cls_target (Tensor): ``[M]`` GT-class sigmoid confidence.
            loc_target (Tensor): ``[M]`` tIoU of the decoded segment.
            avg_factor (float, optional): Divides the sum of squared errors
                (summed over both qualities) instead of ``M``.

        Returns:
            Tensor: scalar, times ``loss_weight``; a zero still connected
            to ``pred`` when ``M == 0``.
        """
        m = pred.shape[0]
        if pred.dim() != 2 or pred.shape[1] != 2 or \
                cls_target.shape != (m,) or loc_target.shape != (m,):
            raise ValueError(
                f'InstanceSensitivityEvaluator.loss: pred {tuple(pred.shape)}'
                f', cls_target {tuple(cls_target.shape)}, loc_target '
                f'{tuple(loc_target.shape)}; expected [M, 2], [M], [M]')
        if m == 0 and avg_factor is None:
            return pred.sum() * 0.0
        target = torch.stack([cls_target, loc_target], dim=1).detach()
        sq_err = (pred.float() - target.float()).pow(2).sum()
        divisor = m if avg_factor is None else avg_factor
        return self.loss_weight * sq_err / divisor
