"""One vector per snippet from whatever an MMAction2 video backbone returns.

Both the feature extraction tool and :class:`VideoSnippetEncoder` pool
through MMAction2's own ``FeatureHead`` (what MMAction2's
``clip_feature_extraction.py`` uses), so features extracted to files and
features computed inside the detector are the same numbers.
"""
from typing import Optional, Union

import torch
from mmaction.registry import MODELS

_HEADS = {}


def _feature_head(backbone_name: Optional[str]):
    if backbone_name not in _HEADS:
        _HEADS[backbone_name] = MODELS.build(dict(
            type='FeatureHead', spatial_type='avg', temporal_type='avg',
            backbone_name=backbone_name))
    return _HEADS[backbone_name]


def pool_snippet_features(out: Union[torch.Tensor, tuple],
                          frames_per_snippet: Optional[int] = None
                          ) -> torch.Tensor:
    """Average over time and space, one row per snippet.

    Args:
        out: The backbone output: ``[N, C, t, h, w]`` (3-D CNNs, VideoSwin),
            a ``(slow, fast)`` tuple (SlowFast: pooled then concatenated),
            ``[N, C]`` (ViT / VideoMAE / UniFormerV2, already pooled) or
            ``[N * L, C, h, w]`` (2-D backbones, one row per frame; give
            ``frames_per_snippet = L``).

    Returns:
        Tensor: ``[N, C]`` (``[N, C_slow + C_fast]`` for SlowFast).
    """
    if isinstance(out, (tuple, list)):
        if len(out) == 1:
            out = out[0]
        elif len(out) == 2 and all(o.dim() == 5 for o in out):
            return _feature_head('slowfast')(tuple(out))
        else:
            raise ValueError(
                f'cannot pool a backbone output of {len(out)} tensors '
                f'{[tuple(o.shape) for o in out]}: only one tensor or a '
                '(slow, fast) pair is supported (set out_indices to one '
                'stage)')
    if out.dim() == 4 and frames_per_snippet is None:
        raise ValueError(f'2-D backbone output {tuple(out.shape)}: give '
                         'frames_per_snippet to average over each snippet')
    if out.dim() not in (2, 4, 5):
        raise ValueError(f'cannot pool a backbone output of shape '
                         f'{tuple(out.shape)}: expected [N, C], [N*L, C, h, '
                         'w] or [N, C, t, h, w]')
    return _feature_head(None)(out, num_segs=frames_per_snippet)
