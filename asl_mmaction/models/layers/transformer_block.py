"""Pre-LN transformer block over masked ``[B, C, T]`` sequences."""
from typing import Optional

import torch
import torch.nn as nn
from mmaction.registry import MODELS
from mmengine.model import BaseModule

from .channel_norm import ChannelLayerNorm
from .drop_path import AffineDropPath
from .local_attention import LocalMaskedMHA
from .masked_pool import masked_max_pool1d


@MODELS.register_module()
class TransformerBlock1d(BaseModule):
    """ActionFormer's transformer block: ``x + attn(LN(x))``, then
    ``+ MLP(LN(.))``, optionally down-sampling by ``stride``.

    When down-sampling, the shortcut is a max-pool (kernel ``stride + 1``)
    so it lines up with the attention output, whose step ``i`` is centred on
    input step ``i * stride``.

    Padding never reaches a valid output (unlike ActionFormer's block): the
    first LayerNorm's output is re-masked before the attention's depthwise
    convs read it, and the pooled shortcut ignores padded steps.

    Args:
        embed_channels (int): ``C``.
        num_heads (int): Attention heads.
        window_size (int | None): Local attention window; ``None`` or <= 0
            for global attention. Defaults to 19.
        stride (int): 1 or an even down-sampling factor. Defaults to 1.
        mlp_ratio (int): MLP hidden width over ``C``. Defaults to 4.
        attn_drop (float): Dropout on attention weights.
        proj_drop (float): Dropout after the attention projection and in
            the MLP.
        path_drop (float): Stochastic depth rate of both residual branches;
            when > 0 each branch also gets a LayerScale (``AffineDropPath``),
            as in ActionFormer.
    """

    def __init__(self, embed_channels: int, num_heads: int,
                 window_size: Optional[int] = 19, stride: int = 1,
                 mlp_ratio: int = 4, attn_drop: float = 0.0,
                 proj_drop: float = 0.0, path_drop: float = 0.0,
                 init_cfg=None) -> None:
        super().__init__(init_cfg=init_cfg)
        self.norm1 = ChannelLayerNorm(embed_channels)
        self.norm2 = ChannelLayerNorm(embed_channels)
        self.attn = LocalMaskedMHA(embed_channels, num_heads, window_size,
                                   stride, attn_drop, proj_drop)
        self.stride = stride
        hidden = mlp_ratio * embed_channels
        self.mlp = nn.Sequential(
            nn.Conv1d(embed_channels, hidden, 1), nn.GELU(),
            nn.Dropout(proj_drop),
            nn.Conv1d(hidden, embed_channels, 1), nn.Dropout(proj_drop))
        for layer in (self.mlp[0], self.mlp[3]):
            nn.init.zeros_(layer.bias)
        if path_drop > 0:
            self.drop_path_attn = AffineDropPath(embed_channels, path_drop)
            self.drop_path_mlp = AffineDropPath(embed_channels, path_drop)
        else:
            self.drop_path_attn = nn.Identity()
            self.drop_path_mlp = nn.Identity()

    def forward(self, x: torch.Tensor, mask: torch.Tensor):
        """One block.

        Args:
            x (Tensor): ``[B, C, T]``, zero at invalid steps.
            mask (BoolTensor): ``[B, 1, T]``.

        Returns:
            tuple: ``out [B, C, T / stride]`` (zero at invalid steps) and
            ``mask [B, 1, T / stride]``.
        """
        attn_out, out_mask = self.attn(self.norm1(x) * mask.to(x.dtype),
                                       mask)
        valid = out_mask.to(x.dtype)
        shortcut = x if self.stride == 1 else masked_max_pool1d(
            x, mask, self.stride)
        out = shortcut * valid + self.drop_path_attn(attn_out)
        out = out + self.drop_path_mlp(self.mlp(self.norm2(out)) * valid)
        return out, out_mask
