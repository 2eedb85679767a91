"""Multi-head self-attention restricted to a local window and valid steps."""
import math
from typing import Optional

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmaction.registry import MODELS
from mmengine.model import BaseModule

from .channel_norm import ChannelLayerNorm
from .masked_conv import MaskedConv1d


def _apply_allowed(scores: torch.Tensor, allowed: torch.Tensor,
                   dropout: Optional[nn.Module]) -> torch.Tensor:
    """Softmax over the allowed keys only; rows with none allowed give 0.

    A finite fill (not ``-inf``) keeps fully masked rows NaN-free in both
    passes; ``exp(min - max)`` underflows to exactly 0 for the other rows.
    """
    scores = scores.masked_fill(~allowed, torch.finfo(scores.dtype).min)
    probs = scores.softmax(dim=-1) * allowed.to(scores.dtype)
    return dropout(probs) if dropout is not None else probs


def local_window_attention(query: torch.Tensor, key: torch.Tensor,
                           value: torch.Tensor, key_mask: torch.Tensor,
                           window_size: Optional[int],
                           dropout: Optional[nn.Module] = None
                           ) -> torch.Tensor:
    """Scaled dot-product attention where step ``i`` sees steps ``j`` with
    ``|i - j| <= window_size // 2`` and ``key_mask[j]`` True.

    The sequence is cut into query chunks of ``c = 2 * (window_size // 2)``
    steps; each chunk only scores against the ``c + window_size - 1`` keys
    that can fall in its windows (an ``unfold`` view of the padded keys), so
    cost and memory grow linearly with ``T``. Any ``T`` works.

    Args:
        query (Tensor): ``[B, H, T, D]``, already multiplied by the scale.
        key (Tensor): ``[B, H, T, D]``.
        value (Tensor): ``[B, H, T, D]``.
        key_mask (BoolTensor): ``[B, T]``, True at valid steps.
        window_size (int | None): Window length; ``None`` attends globally.
        dropout (nn.Module, optional): Applied to the attention weights.

    Returns:
        Tensor: ``[B, H, T, D]``; zero for queries that see no valid key.
    """
    batch, heads, length, dims = query.shape
    half = length if window_size is None else window_size // 2
    if half >= length - 1:
        # The window covers the whole sequence: plain masked attention.
        allowed = key_mask[:, None, None, :]
        probs = _apply_allowed(query @ key.transpose(-2, -1), allowed, dropout)
        return probs @ value

    chunk = max(2 * half, 1)
    num_chunks = math.ceil(length / chunk)
    tail = num_chunks * chunk - length  # pad T up to a multiple of chunk
    span = chunk + 2 * half  # keys any query of a chunk may see

    q = F.pad(query, (0, 0, 0, tail)).view(batch, heads, num_chunks, chunk,
                                           dims)
    # Pad keys/values by `half` on both sides so chunk n's keys are the
    # padded steps [n * chunk, n * chunk + span).
    k = F.pad(key, (0, 0, half, half + tail)).unfold(2, span, chunk)
    v = F.pad(value, (0, 0, half, half + tail)).unfold(2, span, chunk)
    valid = F.pad(key_mask, (half, half + tail)).unfold(1, span, chunk)
    # [B, H, n, chunk, D] x [B, H, n, D, span] -> [B, H, n, chunk, span]
    scores = q @ k

    # Query a of a chunk is at step n*chunk + a, key b at n*chunk + b - half:
    # inside the window iff a <= b <= a + 2 * half.
    offset = (torch.arange(span, device=query.device)[None, :]
              - torch.arange(chunk, device=query.device)[:, None])
    band = (offset >= 0) & (offset <= 2 * half)
    allowed = band & valid[:, None, :, None, :]
    probs = _apply_allowed(scores, allowed, dropout)
    out = probs @ v.transpose(-2, -1)  # [B, H, n, chunk, D]
    return out.reshape(batch, heads, num_chunks * chunk, dims)[:, :, :length]


@MODELS.register_module()
class LocalMaskedMHA(BaseModule):
    """ActionFormer's local masked multi-head convolutional self-attention.

    Query, key and value each go through a depthwise masked conv (which also
    encodes relative position and, with ``stride > 1``, down-samples) and a
    channel LayerNorm, then a 1x1 projection; attention is restricted to a
    window of ``window_size`` steps and to valid steps.

    Args:
        embed_channels (int): ``C``, divisible by ``num_heads``.
        num_heads (int): Attention heads.
        window_size (int | None): Local window length (odd, e.g. 19);
            ``None`` or a value <= 0 attends globally. Defaults to 19.
        stride (int): 1, or an even down-sampling factor applied to query,
            key and value. Defaults to 1.
        attn_drop (float): Dropout on the attention weights.
        proj_drop (float): Dropout after the output projection.
    """

    def __init__(self, embed_channels: int, num_heads: int,
                 window_size: Optional[int] = 19, stride: int = 1,
                 attn_drop: float = 0.0, proj_drop: float = 0.0,
                 init_cfg=None) -> None:
        super().__init__(init_cfg=init_cfg)
        if embed_channels % num_heads:
            raise ValueError(f'LocalMaskedMHA: embed_channels '
                             f'{embed_channels} not divisible by num_heads '
                             f'{num_heads}')
        if stride != 1 and stride % 2:
            raise ValueError(f'LocalMaskedMHA: stride must be 1 or even, got '
                             f'{stride}')
        self.num_heads = num_heads
        self.head_channels = embed_channels // num_heads
        self.scale = self.head_channels ** -0.5
        self.window_size = (window_size if window_size is not None
                            and window_size > 0 else None)
        self.stride = stride

        kernel_size = stride + 1 if stride > 1 else 3
        self.query_conv, self.key_conv, self.value_conv = (
            MaskedConv1d(embed_channels, embed_channels, kernel_size, stride,
                         groups=embed_channels, bias=False)
            for _ in range(3))
        self.query_norm, self.key_norm, self.value_norm = (
            ChannelLayerNorm(embed_channels) for _ in range(3))
        self.query, self.key, self.value, self.proj = (
            nn.Conv1d(embed_channels, embed_channels, 1) for _ in range(4))
        for conv in (self.query, self.key, self.value, self.proj):
            nn.init.zeros_(conv.bias)
        self.attn_drop = nn.Dropout(attn_drop)
        self.proj_drop = nn.Dropout(proj_drop)

    def _heads(self, x: torch.Tensor) -> torch.Tensor:
        """``[B, C, T] -> [B, H, T, C / H]``."""
        batch, _, length = x.shape
        return x.view(batch, self.num_heads, self.head_channels,
                      length).transpose(2, 3)

    def forward(self, x: torch.Tensor, mask: torch.Tensor):
        """Attend.

        Args:
            x (Tensor): ``[B, C, T]``.
            mask (BoolTensor): ``[B, 1, T]``.

        Returns:
            tuple: ``out [B, C, T / stride]`` (zero at invalid steps) and its
            mask ``[B, 1, T / stride]``.
        """
        q, out_mask = self.query_conv(x, mask)
        k, _ = self.key_conv(x, mask)
        v, _ = self.value_conv(x, mask)
        q = self._heads(self.query(self.query_norm(q))) * self.scale
        k = self._heads(self.key(self.key_norm(k)))
        v = self._heads(self.value(self.value_norm(v)))

        out = local_window_attention(q, k, v, out_mask[:, 0],
                                     self.window_size, self.attn_drop)
        batch, _, length, _ = out.shape
        out = out.transpose(2, 3).reshape(batch, -1, length)
        out = self.proj_drop(self.proj(out)) * out_mask.to(out.dtype)
        return out, out_mask
