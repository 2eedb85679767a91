"""Input checks and the level loop shared by the 1-D backbones."""
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


def stem_then_branches(x: torch.Tensor, mask: torch.Tensor, stem, branch):
    """Run the stem blocks, then the down-sampling branch blocks; the stem
    output and every branch output are the pyramid levels.

    Returns:
        tuple: ``(feats, masks)``, each a tuple over levels.
    """
    for block in stem:
        x, mask = block(x, mask)
    feats, masks = [x], [mask]
    for block in branch:
        x, mask = block(x, mask)
        feats.append(x)
        masks.append(mask)
    return tuple(feats), tuple(masks)
