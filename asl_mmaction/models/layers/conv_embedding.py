"""The convolutional input embedding shared by the 1-D backbones."""
import torch
import torch.nn as nn
from mmaction.registry import MODELS
from mmengine.model import BaseModule

from .channel_norm import ChannelLayerNorm
from .masked_conv import MaskedConv1d


@MODELS.register_module()
class ConvEmbedding1d(BaseModule):
    """``num_convs`` x (masked conv -> [channel LN] -> ReLU), stride 1.

    Projects clip features to ``embed_channels`` and mixes neighbouring
    steps before the backbone's stem.

    Args:
        in_channels (int): Input feature channels.
        embed_channels (int): Output channels.
        num_convs (int): Number of conv layers (>= 1).
        kernel_size (int): Odd kernel size. Defaults to 3.
        with_ln (bool): LayerNorm after each conv (the conv then has no
            bias, LN's own bias takes its place). Defaults to True.
    """

    def __init__(self, in_channels: int, embed_channels: int,
                 num_convs: int, kernel_size: int = 3, with_ln: bool = True,
                 init_cfg=None) -> None:
        super().__init__(init_cfg=init_cfg)
        if num_convs < 1:
            raise ValueError(f'ConvEmbedding1d needs num_convs >= 1, got '
                             f'{num_convs}')
        self.convs = nn.ModuleList(
            MaskedConv1d(in_channels if i == 0 else embed_channels,
                         embed_channels, kernel_size, bias=not with_ln)
            for i in range(num_convs))
        self.norms = nn.ModuleList(
            ChannelLayerNorm(embed_channels) if with_ln else nn.Identity()
            for _ in range(num_convs))
        self.act = nn.ReLU()

    def forward(self, x: torch.Tensor, mask: torch.Tensor):
        """``[B, C_in, T], [B, 1, T] -> [B, D, T], [B, 1, T]``.

        LN turns zero (padded) steps into its bias, so the output is
        re-masked to keep padded steps at zero for the next layers.
        """
        valid = mask.to(x.dtype)
        for conv, norm in zip(self.convs, self.norms):
            x, mask = conv(x, mask)
            x = self.act(norm(x)) * valid
        return x, mask
