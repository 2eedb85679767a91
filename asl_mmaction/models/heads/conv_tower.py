"""The shared conv towers of the dense head."""
import torch.nn as nn
from torch import Tensor

from ..layers import ChannelLayerNorm, MaskedConv1d


class MaskedConvTower(nn.Module):
    """``num_convs`` x (masked conv -> LayerNorm -> ReLU) on ``[B, C, T]``."""

    def __init__(self, in_channels: int, feat_channels: int, num_convs: int,
                 kernel_size: int, with_ln: bool) -> None:
        super().__init__()
        self.convs = nn.ModuleList()
        self.norms = nn.ModuleList()
        for i in range(num_convs):
            # LayerNorm's affine already adds a bias
            self.convs.append(MaskedConv1d(
                in_channels if i == 0 else feat_channels, feat_channels,
                kernel_size, bias=not with_ln))
            self.norms.append(ChannelLayerNorm(feat_channels)
                              if with_ln else nn.Identity())
        self.act = nn.ReLU(inplace=True)

    def forward(self, x: Tensor, mask: Tensor) -> Tensor:
        for conv, norm in zip(self.convs, self.norms):
            x, _ = conv(x, mask)
            x = self.act(norm(x))
        return x
