"""Fixed sinusoidal position encoding for ``[B, C, T]`` sequences."""
import math

import torch


def sinusoid_encoding(length: int, channels: int) -> torch.Tensor:
    """The transformer's sin/cos table, channels first.

    Channel ``2i`` holds ``sin(t / 10000**(2i / C))`` and channel ``2i + 1``
    the matching cosine.

    Args:
        length (int): Number of steps ``T``.
        channels (int): ``C``.

    Returns:
        Tensor: ``[1, C, T]`` float32.
    """
    position = torch.arange(length, dtype=torch.float64)[:, None]
    pair = torch.arange(channels, dtype=torch.float64) // 2
    angle = position / torch.pow(10000.0, 2 * pair / channels)
    table = torch.where(torch.arange(channels) % 2 == 0,
                        torch.sin(angle), torch.cos(angle))
    return table.t().unsqueeze(0).float()


def scaled_sinusoid_encoding(length: int, channels: int) -> torch.Tensor:
    """:func:`sinusoid_encoding` divided by ``sqrt(C)``, as ActionFormer adds
    it to the embedded features (keeps it small next to unit-variance
    features)."""
    return sinusoid_encoding(length, channels) / math.sqrt(channels)
