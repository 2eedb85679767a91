"""Input checks shared by the 1-D backbones."""
import torch


def check_backbone_inputs(name: str, x: torch.Tensor, mask: torch.Tensor,
                          in_channels: int, divisor: int) -> None:
    """Raise a ``ValueError`` naming ``name`` when ``x`` / ``mask`` do not
    follow the contract (``x [B, C, T]``, ``mask`` bool ``[B, 1, T]``, ``T``
    divisible by the total down-sampling ``divisor``)."""
    if x.dim() != 3 or x.shape[1] != in_channels:
        raise ValueError(f'{name}: expected features [B, {in_channels}, T], '
                         f'got {tuple(x.shape)}')
    batch, _, length = x.shape
    if mask.dtype != torch.bool or tuple(mask.shape) != (batch, 1, length):
        raise ValueError(f'{name}: expected a bool mask of shape '
                         f'{(batch, 1, length)}, got {mask.dtype} '
                         f'{tuple(mask.shape)}')
    if length % divisor:
        raise ValueError(f'{name}: sequence length {length} must be a '
                         f'multiple of the total stride {divisor} (pad it in '
                         f'the data preprocessor)')
