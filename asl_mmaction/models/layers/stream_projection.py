"""ActionFormer's multi-feature input: one 1x1 projection per feature
stream, then concatenation."""
from typing import Sequence

import torch
import torch.nn as nn
from mmaction.registry import MODELS
from mmengine.model import BaseModule

from .masked_conv import MaskedConv1d


@MODELS.register_module()
class StreamProjection1d(BaseModule):
    """Split the channels into streams, project each by its own masked 1x1
    conv, concatenate.

    With several feature types (e.g. SlowFast 2304 + Omnivore 1536 + EgoVLP
    256 on Ego4D) each stream gets its own width before the streams are
    mixed, so a wide stream cannot drown a narrow one.

    Args:
        in_channels (Sequence[int]): Channels of each stream, in the order
            they are concatenated in the input.
        out_channels (Sequence[int]): Projected width of each stream.
    """

    def __init__(self, in_channels: Sequence[int],
                 out_channels: Sequence[int], init_cfg=None) -> None:
        super().__init__(init_cfg=init_cfg)
        if len(in_channels) != len(out_channels) or not in_channels:
            raise ValueError(f'StreamProjection1d: one output width per '
                             f'stream, got in_channels {list(in_channels)} '
                             f'and out_channels {list(out_channels)}')
        self.in_channels = [int(c) for c in in_channels]
        self.out_channels = sum(int(c) for c in out_channels)
        self.projs = nn.ModuleList(
            MaskedConv1d(c_in, c_out, 1)
            for c_in, c_out in zip(in_channels, out_channels))

    def forward(self, x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """``[B, sum(in_channels), T] -> [B, sum(out_channels), T]``."""
        streams = x.split(self.in_channels, dim=1)
        return torch.cat([proj(s, mask)[0]
                          for proj, s in zip(self.projs, streams)], dim=1)
