"""LayerNorm over the channel axis of ``[B, C, T]`` sequences."""
import torch
import torch.nn as nn
from mmaction.registry import MODELS
from mmengine.model import BaseModule


@MODELS.register_module()
class ChannelLayerNorm(BaseModule):
    """Normalise each step over its ``C`` channels, with a per-channel affine.

    Same as ``nn.LayerNorm(C)`` applied to ``x.transpose(1, 2)`` but without
    the transposes.

    Args:
        num_channels (int): ``C``.
        eps (float): Added to the variance. Defaults to 1e-5.
        affine (bool): Learn a per-channel weight and bias. Defaults to True.
    """

    def __init__(self, num_channels: int, eps: float = 1e-5,
                 affine: bool = True, init_cfg=None) -> None:
        super().__init__(init_cfg=init_cfg)
        self.num_channels = num_channels
        self.eps = eps
        if affine:
            self.weight = nn.Parameter(torch.ones(1, num_channels, 1))
            self.bias = nn.Parameter(torch.zeros(1, num_channels, 1))
        else:
            self.register_parameter('weight', None)
            self.register_parameter('bias', None)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``[B, C, T] -> [B, C, T]``."""
        if x.dim() != 3 or x.shape[1] != self.num_channels:
            raise ValueError(f'ChannelLayerNorm expects '
                             f'[B, {self.num_channels}, T], got '
                             f'{tuple(x.shape)}')
        centred = x - x.mean(dim=1, keepdim=True)
        var = centred.pow(2).mean(dim=1, keepdim=True)
        out = centred * torch.rsqrt(var + self.eps)
        if self.weight is not None:
            out = out * self.weight + self.bias
        return out
