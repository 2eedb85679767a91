"""Shared 1-D building blocks for masked ``[B, C, T]`` sequences."""
from .channel_norm import ChannelLayerNorm
from .conv_block import ConvBlock1d
from .conv_embedding import ConvEmbedding1d
from .drop_path import AffineDropPath
from .local_attention import LocalMaskedMHA, local_window_attention
from .masked_conv import MaskedConv1d, downsample_mask
from .position_encoding import scaled_sinusoid_encoding, sinusoid_encoding
from .scale import Scale
from .transformer_block import TransformerBlock1d

__all__ = [
    'AffineDropPath', 'ChannelLayerNorm', 'ConvBlock1d', 'ConvEmbedding1d',
    'LocalMaskedMHA', 'MaskedConv1d', 'Scale', 'TransformerBlock1d',
    'downsample_mask', 'local_window_attention', 'scaled_sinusoid_encoding',
    'sinusoid_encoding'
]
