"""What the 1-D backbones share: the input checks, the input embedding
(optional per-stream projection + conv tower) and the level loop."""
from typing import Optional, Sequence, Union

import torch
import torch.nn as nn

from ..layers import MaskedConvTower1d, StreamProjection1d


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


class InputEmbedding1d(nn.Module):
    """Clip features -> ``embed_channels``: ActionFormer's input stage.

    With ``stream_channels`` the input is several feature types
    concatenated (``in_channels`` lists their widths): each is projected to
    its own width by a 1x1 conv first (ActionFormer's multi-feature recipe),
    then the concatenation goes through the conv tower.

    Args:
        in_channels (int | Sequence[int]): Input width, or the width of each
            concatenated stream.
        embed_channels (int): Output width.
        num_convs (int): Convs of the tower (``arch[0]``).
        kernel_size (int): Kernel of the tower convs.
        with_ln (bool): LayerNorm in the tower.
        stream_channels (Sequence[int], optional): Projected width of each
            stream; needs ``in_channels`` as a sequence of the same length.
    """

    def __init__(self, in_channels: Union[int, Sequence[int]],
                 embed_channels: int, num_convs: int, kernel_size: int,
                 with_ln: bool,
                 stream_channels: Optional[Sequence[int]] = None) -> None:
        super().__init__()
        streams = [in_channels] if isinstance(in_channels, int) \
            else list(in_channels)
        self.in_channels = sum(streams)
        if stream_channels is not None:
            if len(stream_channels) != len(streams):
                raise ValueError(f'stream_channels {list(stream_channels)} '
                                 f'needs one width per input stream, got '
                                 f'in_channels {in_channels}')
            self.proj = StreamProjection1d(streams, stream_channels)
            tower_in = self.proj.out_channels
        else:
            self.proj = None
            tower_in = self.in_channels
        if num_convs < 1:
            raise ValueError(f'the input embedding needs >= 1 conv (arch[0]),'
                             f' got {num_convs}')
        self.tower = MaskedConvTower1d(tower_in, embed_channels, num_convs,
                                       kernel_size, with_ln)

    def forward(self, x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """``[B, C_in, T] -> [B, D, T]``, zero at padded steps (whatever
        the padding held)."""
        x = x * mask.to(x.dtype)
        if self.proj is not None:
            x = self.proj(x, mask)
        return self.tower(x, mask)


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
