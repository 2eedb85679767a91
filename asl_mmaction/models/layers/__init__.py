"""Shared 1-D building blocks for masked ``[B, C, T]`` sequences."""
from .channel_norm import ChannelLayerNorm
from .conv_block import ConvBlock1d
from .conv_tower import MaskedConvTower1d
from .drop_path import AffineDropPath
from .local_attention import LocalMaskedMHA, local_window_attention
from .masked_conv import MaskedConv1d, downsample_mask
from .masked_pool import masked_max_pool1d
from .position_encoding import scaled_sinusoid_encoding, sinusoid_encoding
from .scale import Scale
from .stream_projection import StreamProjection1d
from .transformer_block import TransformerBlock1d

__all__ = [
    'AffineDropPath', 'ChannelLayerNorm', 'ConvBlock1d', 'LocalMaskedMHA',
    'MaskedConv1d', 'MaskedConvTower1d', 'Scale', 'StreamProjection1d',
    'TransformerBlock1d', 'downsample_mask', 'local_window_attention',
    'masked_max_pool1d', 'scaled_sinusoid_encoding', 'sinusoid_encoding'
]
