"""1-D convolution whose output is zeroed outside the valid steps."""
import torch
import torch.nn as nn
import torch.nn.functional as F
from mmaction.registry import MODELS
from mmengine.model import BaseModule


def downsample_mask(mask: torch.Tensor, stride: int) -> torch.Tensor:
    """Nearest down-sampling of a validity mask, as ActionFormer does.

    Output step ``i`` copies input step ``i * stride``, so a sequence with
    ``L`` valid steps keeps ``ceil(L / stride)`` of them.

    Args:
        mask (BoolTensor): ``[B, 1, T]``; ``T`` divisible by ``stride``.
        stride (int): Down-sampling factor.

    Returns:
        BoolTensor: ``[B, 1, T // stride]``.
    """
    if stride == 1:
        return mask
    return F.interpolate(mask.float(), size=mask.shape[-1] // stride,
                         mode='nearest').bool()


@MODELS.register_module()
class MaskedConv1d(BaseModule):
    """``nn.Conv1d`` followed by multiplication with the validity mask.

    Only "same" convolutions are supported (odd kernel, padding
    ``kernel_size // 2``), so output step ``i`` stays centred on input step
    ``i * stride`` and the mask can be down-sampled by picking steps.

    Args:
        in_channels (int): Input channels.
        out_channels (int): Output channels.
        kernel_size (int): Odd kernel size.
        stride (int): 1, or the down-sampling factor. Defaults to 1.
        groups (int): As ``nn.Conv1d``. Defaults to 1.
        bias (bool): Add a bias (initialised to zero). Defaults to True.
    """

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int,
                 stride: int = 1, groups: int = 1, bias: bool = True,
                 init_cfg=None) -> None:
        super().__init__(init_cfg=init_cfg)
        if kernel_size % 2 != 1:
            raise ValueError(f'MaskedConv1d needs an odd kernel_size, got '
                             f'{kernel_size}')
        self.stride = stride
        self.conv = nn.Conv1d(in_channels, out_channels, kernel_size,
                              stride=stride, padding=kernel_size // 2,
                              groups=groups, bias=bias)
        if bias:
            nn.init.zeros_(self.conv.bias)

    def forward(self, x: torch.Tensor, mask: torch.Tensor):
        """Convolve and mask.

        Args:
            x (Tensor): ``[B, C_in, T]``.
            mask (BoolTensor): ``[B, 1, T]``.

        Returns:
            tuple: ``out [B, C_out, T // stride]`` and
            ``mask [B, 1, T // stride]``.
        """
        length = x.shape[-1]
        if length % self.stride:
            raise ValueError(f'MaskedConv1d: sequence length {length} is not '
                             f'divisible by the stride {self.stride}')
        out_mask = downsample_mask(mask, self.stride)
        # The mask carries no gradient; it only selects the valid steps.
        out = self.conv(x) * out_mask.to(x.dtype)
        return out, out_mask
