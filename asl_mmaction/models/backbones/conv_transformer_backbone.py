"""ActionFormer's convolution + local-transformer pyramid backbone."""
from typing import Optional, Sequence, Union

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmaction.registry import MODELS
from mmengine.model import BaseModule

from ..layers import TransformerBlock1d, scaled_sinusoid_encoding
from .common import (InputEmbedding1d, check_backbone_inputs,
                     stem_then_branches)


@MODELS.register_module()
class ConvTransformerBackbone(BaseModule):
    """Conv embedding -> stride-1 transformer stem -> down-sampling branch.

    Returns ``arch[2] + 1`` pyramid levels: the stem output (stride 1) and
    the output of each branch block (stride ``scale_factor ** l``).

    Args:
        in_channels (int | Sequence[int]): Input feature channels, or the
            width of each concatenated feature stream.
        embed_channels (int): Width ``D`` of every level. Defaults to 512.
        embed_kernel_size (int): Kernel of the embedding convs. Defaults
            to 3.
        embed_with_ln (bool): LayerNorm in the embedding. Defaults to True.
        arch (tuple): (embedding convs, stem blocks, branch blocks).
            Defaults to (2, 2, 5).
        num_heads (int): Attention heads. Defaults to 4.
        window_size (int | Sequence[int]): Local attention window, one for
            all blocks or one per level (``arch[2] + 1`` entries; entry 0 is
            the stem's); <= 0 means global attention. Defaults to 19.
        scale_factor (int): Down-sampling per branch block. Defaults to 2.
        with_abs_pe (bool): Add a sinusoidal position encoding after the
            embedding. Defaults to False.
        max_seq_len (int): Length of that encoding; longer inputs are only
            allowed at inference, where it is stretched by linear
            interpolation to the video's own length (rounded up to the
            coarsest stride, so the batch's padding does not matter).
            Defaults to 2304.
        attn_drop (float): Dropout on attention weights. Defaults to 0.
        proj_drop (float): Dropout after projections / in MLPs. Defaults
            to 0.
        path_drop (float): Stochastic depth rate. Defaults to 0.1.
        stream_channels (Sequence[int], optional): Project each input
            stream to this width first (see ``InputEmbedding1d``;
            ActionFormer's multi-feature Ego4D recipe).
    """

    def __init__(self, in_channels: Union[int, Sequence[int]],
                 embed_channels: int = 512,
                 embed_kernel_size: int = 3, embed_with_ln: bool = True,
                 arch: Sequence[int] = (2, 2, 5), num_heads: int = 4,
                 window_size: Union[int, Sequence[int]] = 19,
                 scale_factor: int = 2, with_abs_pe: bool = False,
                 max_seq_len: int = 2304, attn_drop: float = 0.0,
                 proj_drop: float = 0.0, path_drop: float = 0.1,
                 stream_channels: Optional[Sequence[int]] = None,
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        if len(arch) != 3:
            raise ValueError(f'ConvTransformerBackbone: arch needs 3 entries '
                             f'(embed convs, stem, branch), got {arch}')
        num_levels = arch[2] + 1
        if isinstance(window_size, int):
            window_size = [window_size] * num_levels
        if len(window_size) != num_levels:
            raise ValueError(f'ConvTransformerBackbone: window_size needs '
                             f'{num_levels} entries (arch[2] + 1), got '
                             f'{list(window_size)}')
        self.scale_factor = scale_factor
        self.num_levels = num_levels
        self.with_abs_pe = with_abs_pe
        self.max_seq_len = max_seq_len

        self.embed = InputEmbedding1d(in_channels, embed_channels, arch[0],
                                      embed_kernel_size, embed_with_ln,
                                      stream_channels)
        self.in_channels = self.embed.in_channels
        if with_abs_pe:
            # Not persistent: it is fixed, so checkpoints need not carry it.
            self.register_buffer(
                'pos_embed',
                scaled_sinusoid_encoding(max_seq_len, embed_channels),
                persistent=False)
        block = dict(embed_channels=embed_channels, num_heads=num_heads,
                     attn_drop=attn_drop, proj_drop=proj_drop,
                     path_drop=path_drop)
        self.stem = nn.ModuleList(
            TransformerBlock1d(window_size=window_size[0], stride=1, **block)
            for _ in range(arch[1]))
        self.branch = nn.ModuleList(
            TransformerBlock1d(window_size=window_size[1 + i],
                               stride=scale_factor, **block)
            for i in range(arch[2]))

    @property
    def divisor(self) -> int:
        """Total down-sampling: input lengths must be multiples of it."""
        return self.scale_factor ** (self.num_levels - 1)

    def _position_encoding(self, mask: torch.Tensor) -> torch.Tensor:
        """``[B or 1, D, T]`` encoding for a batch with validity ``mask``.

        Training inputs fit ``max_seq_len``. At inference a video longer
        than it gets the table stretched by linear interpolation (as
        ActionFormer does) to its own length rounded up to ``divisor``,
        i.e. the length it has when run alone, so its encoding does not
        depend on the other videos of the batch.
        """
        length = mask.shape[-1]
        if self.training and length > self.max_seq_len:
            raise ValueError(f'ConvTransformerBackbone: training input of '
                             f'length {length} exceeds max_seq_len '
                             f'{self.max_seq_len}')
        alone = torch.div(mask.sum(dim=(1, 2)) + self.divisor - 1,
                          self.divisor, rounding_mode='floor') * self.divisor
        if self.training or int(alone.max()) <= self.max_seq_len:
            if length <= self.max_seq_len:
                return self.pos_embed[:, :, :length]
            # only padding reaches past the table: those steps are masked
            return F.pad(self.pos_embed, (0, length - self.max_seq_len))
        rows = []
        for n in alone.tolist():
            table = self.pos_embed if n <= self.max_seq_len else \
                F.interpolate(self.pos_embed, size=n, mode='linear',
                              align_corners=False)
            rows.append(F.pad(table[:, :, :length],
                              (0, max(length - table.shape[-1], 0))))
        return torch.cat(rows, dim=0)

    def forward(self, x: torch.Tensor, mask: torch.Tensor):
        """Build the pyramid.

        Args:
            x (Tensor): ``[B, C, T]``, ``T`` a multiple of
                ``scale_factor ** arch[2]``.
            mask (BoolTensor): ``[B, 1, T]``, True at valid steps.

        Returns:
            tuple: ``feats`` (tuple of ``[B, D, T / s**l]``, zero at invalid
            steps) and ``masks`` (tuple of ``[B, 1, T / s**l]``).
        """
        check_backbone_inputs(type(self).__name__, x, mask, self.in_channels,
                              self.divisor)
        x = self.embed(x, mask)
        if self.with_abs_pe:
            x = x + self._position_encoding(mask) * mask.to(x.dtype)
        return stem_then_branches(x, mask, self.stem, self.branch)
