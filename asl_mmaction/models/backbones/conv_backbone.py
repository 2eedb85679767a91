"""ActionFormer's all-convolutional pyramid backbone."""
from typing import Optional, Sequence, Union

import torch
import torch.nn as nn
from mmaction.registry import MODELS
from mmengine.model import BaseModule

from ..layers import ConvBlock1d
from .common import (InputEmbedding1d, check_backbone_inputs,
                     stem_then_branches)


@MODELS.register_module()
class ConvBackbone(BaseModule):
    """Conv embedding -> stride-1 conv blocks -> down-sampling conv blocks.

    Same pyramid as :class:`ConvTransformerBackbone` with ResNet-style
    :class:`ConvBlock1d` in place of the transformer blocks.

    Args:
        in_channels (int | Sequence[int]): Input feature channels, or the
            width of each concatenated feature stream.
        embed_channels (int): Width ``D`` of every level. Defaults to 512.
        embed_kernel_size (int): Kernel of the embedding convs. Defaults
            to 3.
        embed_with_ln (bool): LayerNorm in the embedding. Defaults to True.
        arch (tuple): (embedding convs, stem blocks, branch blocks); the
            output has ``arch[2] + 1`` levels. Defaults to (2, 2, 5).
        scale_factor (int): Down-sampling per branch block. Defaults to 2.
        stream_channels (Sequence[int], optional): Project each input
            stream to this width first (see ``InputEmbedding1d``).
    """

    def __init__(self, in_channels: Union[int, Sequence[int]],
                 embed_channels: int = 512, embed_kernel_size: int = 3,
                 embed_with_ln: bool = True,
                 arch: Sequence[int] = (2, 2, 5), scale_factor: int = 2,
                 stream_channels: Optional[Sequence[int]] = None,
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        if len(arch) != 3:
            raise ValueError(f'ConvBackbone: arch needs 3 entries (embed '
                             f'convs, stem, branch), got {arch}')
        self.scale_factor = scale_factor
        self.num_levels = arch[2] + 1
        self.embed = InputEmbedding1d(in_channels, embed_channels, arch[0],
                                      embed_kernel_size, embed_with_ln,
                                      stream_channels)
        self.in_channels = self.embed.in_channels
        self.stem = nn.ModuleList(
            ConvBlock1d(embed_channels, 3, 1) for _ in range(arch[1]))
        self.branch = nn.ModuleList(
            ConvBlock1d(embed_channels, 3, scale_factor)
            for _ in range(arch[2]))

    @property
    def divisor(self) -> int:
        """Total down-sampling: input lengths must be multiples of it."""
        return self.scale_factor ** (self.num_levels - 1)

    def forward(self, x: torch.Tensor, mask: torch.Tensor):
        """``x [B, C, T]``, ``mask [B, 1, T]`` -> ``(feats, masks)``, level
        ``l`` of shape ``[B, D, T / s**l]`` / ``[B, 1, T / s**l]``."""
        check_backbone_inputs(type(self).__name__, x, mask, self.in_channels,
                              self.divisor)
        x = self.embed(x, mask)
        return stem_then_branches(x, mask, self.stem, self.branch)
