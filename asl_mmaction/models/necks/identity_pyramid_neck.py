"""ActionFormer's ``identity`` neck: a LayerNorm per pyramid level."""
from typing import Optional, Sequence, Union

import torch.nn as nn
from mmaction.registry import MODELS
from mmengine.model import BaseModule

from ..layers import ChannelLayerNorm
from ._checks import check_pyramid


@MODELS.register_module()
class IdentityPyramidNeck(BaseModule):
    """Pass every level through, normalised by its own channel LayerNorm.

    Args:
        in_channels (int | Sequence[int]): Channels of each level (one int
            for all); each must equal ``out_channels``.
        out_channels (int): ``D``.
        num_levels (int): Number of levels. Defaults to 6.
        with_ln (bool): Apply the LayerNorms. Defaults to True.
    """

    def __init__(self, in_channels: Union[int, Sequence[int]],
                 out_channels: int, num_levels: int = 6,
                 with_ln: bool = True,
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        if isinstance(in_channels, int):
            in_channels = [in_channels] * num_levels
        if len(in_channels) != num_levels:
            raise ValueError(f'IdentityPyramidNeck: {len(in_channels)} '
                             f'in_channels for num_levels={num_levels}')
        if any(c != out_channels for c in in_channels):
            raise ValueError(f'IdentityPyramidNeck: every level must already '
                             f'have out_channels={out_channels}, got '
                             f'{list(in_channels)}; use FPN1d to project')
        self.in_channels = list(in_channels)
        self.norms = nn.ModuleList(
            ChannelLayerNorm(out_channels) if with_ln else nn.Identity()
            for _ in range(num_levels))

    def forward(self, feats, masks):
        """``(feats, masks)`` -> ``(normalised feats, masks)``.

        Padded steps are set back to zero after the norm (which would leave
        its bias there), so the head's convs see the same zeros at padding
        as at a sequence end, whatever the padded length.
        """
        check_pyramid(type(self).__name__, feats, masks, self.in_channels)
        out = tuple(norm(feat) * mask.to(feat.dtype)
                    for norm, feat, mask in zip(self.norms, feats, masks))
        return out, tuple(masks)
