"""Input checks shared by the necks."""
from typing import Sequence

import torch


def check_pyramid(name: str, feats: Sequence[torch.Tensor],
                  masks: Sequence[torch.Tensor],
                  in_channels: Sequence[int]) -> None:
    """Raise a ``ValueError`` naming ``name`` unless ``feats`` / ``masks``
    hold one ``[B, C_l, T_l]`` / ``[B, 1, T_l]`` pair per expected level."""
    if len(feats) != len(in_channels) or len(masks) != len(in_channels):
        raise ValueError(f'{name}: expected {len(in_channels)} levels, got '
                         f'{len(feats)} features and {len(masks)} masks')
    for level, (feat, mask, channels) in enumerate(
            zip(feats, masks, in_channels)):
        if feat.dim() != 3 or feat.shape[1] != channels:
            raise ValueError(f'{name}: level {level} expected [B, {channels}'
                             f', T], got {tuple(feat.shape)}')
        if tuple(mask.shape) != (feat.shape[0], 1, feat.shape[2]):
            raise ValueError(f'{name}: level {level} mask shape '
                             f'{tuple(mask.shape)} does not match features '
                             f'{tuple(feat.shape)}')
