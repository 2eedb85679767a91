"""A learnable scalar multiplier (per-level regression scale)."""
import torch
import torch.nn as nn
from mmaction.registry import MODELS
from mmengine.model import BaseModule


@MODELS.register_module()
class Scale(BaseModule):
    """``x -> s * x`` with a learnable scalar ``s``.

    Args:
        init_value (float): Initial ``s``. Defaults to 1.0.
    """

    def __init__(self, init_value: float = 1.0, init_cfg=None) -> None:
        super().__init__(init_cfg=init_cfg)
        self.scale = nn.Parameter(torch.tensor(float(init_value)))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Any shape in, same shape out."""
        return x * self.scale
