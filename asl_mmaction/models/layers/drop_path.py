"""Stochastic depth with a learnable per-channel scale (LayerScale)."""
import torch
import torch.nn as nn
from mmaction.registry import MODELS
from mmcv.cnn.bricks.drop import drop_path
from mmengine.model import BaseModule


@MODELS.register_module()
class AffineDropPath(BaseModule):
    """``x -> drop_path(gamma * x)`` with ``gamma`` per channel.

    ActionFormer wraps every residual branch of its transformer blocks in
    this: the small initial ``gamma`` (LayerScale, Touvron et al. 2021)
    makes each block start close to the identity, and whole samples are
    dropped from the branch with probability ``drop_prob`` in training.

    Args:
        num_channels (int): ``C`` of the ``[B, C, T]`` input.
        drop_prob (float): Probability of dropping a sample's branch.
        init_scale (float): Initial ``gamma``. Defaults to 1e-4.
    """

    def __init__(self, num_channels: int, drop_prob: float = 0.0,
                 init_scale: float = 1e-4, init_cfg=None) -> None:
        super().__init__(init_cfg=init_cfg)
        self.drop_prob = drop_prob
        self.scale = nn.Parameter(torch.full((1, num_channels, 1),
                                             float(init_scale)))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``[B, C, T] -> [B, C, T]``."""
        return drop_path(self.scale * x, self.drop_prob, self.training)
