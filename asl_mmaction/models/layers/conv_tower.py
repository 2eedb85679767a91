"""The one conv -> norm -> activation tower of the package: ActionFormer's
input embedding, its classification / regression head towers and ASL's
instance-sensitivity branch all are this stack."""
import torch
import torch.nn as nn
from mmaction.registry import MODELS
from mmengine.model import BaseModule

from .channel_norm import ChannelLayerNorm
from .masked_conv import MaskedConv1d


@MODELS.register_module()
class MaskedConvTower1d(BaseModule):
    """``num_convs`` x (masked conv -> [channel LN] -> ReLU), stride 1.

    The output is zero at padded steps after every layer. LayerNorm turns a
    zero (padded) step into its bias and ReLU keeps it, so without the
    re-masking the next conv would read it at the last valid steps and a
    video's outputs would change with the padding of its batch.

    Args:
        in_channels (int): Input channels.
        out_channels (int): Channels of every layer.
        num_convs (int): Number of conv layers; 0 is the identity.
        kernel_size (int): Odd kernel size. Defaults to 3.
        with_ln (bool): LayerNorm after each conv (the conv then has no
            bias: LN's own bias takes its place). Defaults to True.
    """

    def __init__(self, in_channels: int, out_channels: int, num_convs: int,
                 kernel_size: int = 3, with_ln: bool = True,
                 init_cfg=None) -> None:
        super().__init__(init_cfg=init_cfg)
        if num_convs < 0:
            raise ValueError(f'MaskedConvTower1d needs num_convs >= 0, got '
                             f'{num_convs}')
        self.out_channels = out_channels if num_convs else in_channels
        self.convs = nn.ModuleList(
            MaskedConv1d(in_channels if i == 0 else out_channels,
                         out_channels, kernel_size, bias=not with_ln)
            for i in range(num_convs))
        self.norms = nn.ModuleList(
            ChannelLayerNorm(out_channels) if with_ln else nn.Identity()
            for _ in range(num_convs))
        self.act = nn.ReLU()

    def forward(self, x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """``[B, C_in, T], [B, 1, T] -> [B, C_out, T]``, zero where
        ``mask`` is False."""
        valid = mask.to(x.dtype)
        if not self.convs:
            return x * valid
        for conv, norm in zip(self.convs, self.norms):
            x, _ = conv(x, mask)
            x = self.act(norm(x)) * valid
        return x
