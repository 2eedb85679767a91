"""ActionFormer's 1-D feature pyramid network neck."""
from typing import Optional, Sequence

import torch.nn as nn
import torch.nn.functional as F
from mmaction.registry import MODELS
from mmengine.model import BaseModule

from ..layers import ChannelLayerNorm, MaskedConv1d
from ._checks import check_pyramid


@MODELS.register_module()
class FPN1d(BaseModule):
    """Lateral 1x1 convs, top-down nearest up-sampling + add, then a 3x1
    depthwise conv and a LayerNorm per level (all convs without bias, as
    in ActionFormer).

    Args:
        in_channels (Sequence[int]): Channels of every backbone level.
        out_channels (int): ``D`` of every output level.
        num_levels (int, optional): Output levels, taken from
            ``start_level`` on. Defaults to all remaining levels.
        start_level (int): First backbone level used. Defaults to 0.
        with_ln (bool): LayerNorm on each output. Defaults to True.
    """

    def __init__(self, in_channels: Sequence[int], out_channels: int,
                 num_levels: Optional[int] = None, start_level: int = 0,
                 with_ln: bool = True,
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        if isinstance(in_channels, int):
            raise ValueError('FPN1d: in_channels must list every level')
        if num_levels is None:
            num_levels = len(in_channels) - start_level
        if start_level < 0 or num_levels < 1 or \
                start_level + num_levels > len(in_channels):
            raise ValueError(f'FPN1d: levels [{start_level}, '
                             f'{start_level + num_levels}) are not inside '
                             f'the {len(in_channels)} input levels')
        self.in_channels = list(in_channels)
        self.start_level = start_level
        self.num_levels = num_levels
        used = self.in_channels[start_level:start_level + num_levels]
        self.lateral_convs = nn.ModuleList(
            MaskedConv1d(c, out_channels, 1, bias=False) for c in used)
        # Depthwise: the lateral conv already mixed channels.
        self.fpn_convs = nn.ModuleList(
            MaskedConv1d(out_channels, out_channels, 3, groups=out_channels,
                         bias=False) for _ in used)
        self.norms = nn.ModuleList(
            ChannelLayerNorm(out_channels) if with_ln else nn.Identity()
            for _ in used)

    def forward(self, feats, masks):
        """Fuse coarse levels into fine ones.

        Args:
            feats (Sequence[Tensor]): ``[B, C_l, T_l]`` per backbone level.
            masks (Sequence[BoolTensor]): ``[B, 1, T_l]`` per level.

        Returns:
            tuple: ``num_levels`` features ``[B, D, T_l]`` (zero at padded
            steps) and their masks, from ``start_level`` on.
        """
        check_pyramid(type(self).__name__, feats, masks, self.in_channels)
        stop = self.start_level + self.num_levels
        masks = tuple(masks[self.start_level:stop])
        laterals = [conv(feat, mask)[0] for conv, feat, mask in zip(
            self.lateral_convs, feats[self.start_level:stop], masks)]
        for level in range(len(laterals) - 1, 0, -1):
            finer = laterals[level - 1]
            laterals[level - 1] = finer + F.interpolate(
                laterals[level], size=finer.shape[-1], mode='nearest')
        outs = []
        for conv, norm, lateral, mask in zip(self.fpn_convs, self.norms,
                                             laterals, masks):
            out, _ = conv(lateral, mask)
            # Re-mask after the norm, which writes its bias into padding.
            outs.append(norm(out) * mask.to(out.dtype))
        return tuple(outs), masks
