"""ResNet-style basic block over masked ``[B, C, T]`` sequences."""
from typing import Optional

import torch
import torch.nn as nn
from mmaction.registry import MODELS
from mmengine.model import BaseModule

from .masked_conv import MaskedConv1d


@MODELS.register_module()
class ConvBlock1d(BaseModule):
    """``relu(x' + conv(relu(conv(x))))``, ActionFormer's ``ConvBlock``.

    The first conv may down-sample; the shortcut then is a strided 1x1
    masked conv (as in ResNet).

    Args:
        channels (int): Input channels ``C``.
        kernel_size (int): Odd kernel size. Defaults to 3.
        stride (int): Down-sampling factor of the block. Defaults to 1.
        expansion (int): Hidden width over ``C``. Defaults to 2.
        out_channels (int, optional): Defaults to ``C``.
    """

    def __init__(self, channels: int, kernel_size: int = 3, stride: int = 1,
                 expansion: int = 2, out_channels: Optional[int] = None,
                 init_cfg=None) -> None:
        super().__init__(init_cfg=init_cfg)
        out_channels = out_channels or channels
        hidden = channels * expansion
        self.conv1 = MaskedConv1d(channels, hidden, kernel_size, stride)
        self.conv2 = MaskedConv1d(hidden, out_channels, kernel_size)
        if stride > 1 or out_channels != channels:
            self.shortcut = MaskedConv1d(channels, out_channels, 1, stride)
        else:
            self.shortcut = None
        self.act = nn.ReLU()

    def forward(self, x: torch.Tensor, mask: torch.Tensor):
        """``[B, C, T], [B, 1, T] -> [B, C_out, T / stride], mask``; zero at
        invalid steps."""
        out, out_mask = self.conv1(x, mask)
        out, out_mask = self.conv2(self.act(out), out_mask)
        identity = x if self.shortcut is None else self.shortcut(x, mask)[0]
        return self.act(out + identity), out_mask
