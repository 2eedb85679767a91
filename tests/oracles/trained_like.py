"""Trained-like weights for invariance checks: a freshly built model has
LayerNorm weights 1, biases 0 and unit scales, which hide padding leaks
(a zero bias writes nothing into padded steps)."""
import torch
import torch.nn as nn

from asl_mmaction.models.layers import AffineDropPath, ChannelLayerNorm, Scale


@torch.no_grad()
def randomize_norms(model: nn.Module, seed: int = 0) -> nn.Module:
    """Draw every norm's weight in [0.5, 1.5] and bias in [-1, 1], and every
    learnable scale in [0.5, 1.5]; returns ``model``."""
    gen = torch.Generator().manual_seed(seed)

    def uniform(t, lo, hi):
        t.copy_(torch.rand(t.shape, generator=gen) * (hi - lo) + lo)

    for module in model.modules():
        if isinstance(module, (ChannelLayerNorm, nn.LayerNorm)) and \
                module.weight is not None:
            uniform(module.weight, 0.5, 1.5)
            uniform(module.bias, -1.0, 1.0)
        elif isinstance(module, (Scale, AffineDropPath)):
            uniform(module.scale, 0.5, 1.5)
    return model
