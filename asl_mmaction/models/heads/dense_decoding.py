"""Turning dense per-point outputs of one video into candidate segments."""
from typing import Tuple

import torch
from torch import Tensor

from ...structures import steps_to_seconds


def level_candidates(probs: Tensor, offsets: Tensor, points: Tensor,
                     score_thr: float, nms_pre: int, min_duration: float
                     ) -> Tuple[Tensor, Tensor, Tensor]:
    """Best (point, class) pairs of one level of one video, decoded.

    Args:
        probs (Tensor): ``[T_l, K]`` class probabilities (0 at padding).
        offsets (Tensor): ``[T_l, 2]`` ``(left, right)`` in strides.
        points (Tensor): ``[T_l, 4]`` ``(t, lo, hi, stride)``.
        score_thr (float): Keep probabilities above it.
        nms_pre (int): Then keep at most this many, best first.
        min_duration (float): Then drop segments not longer than this
            (steps).

    Returns:
        tuple: ``segments [M, 2]`` (steps), ``scores [M]``, ``labels [M]``.
    """
    num_classes = probs.shape[1]
    flat = probs.flatten()
    keep = torch.nonzero(flat > score_thr).squeeze(1)
    scores, order = flat[keep].topk(min(nms_pre, keep.numel()))
    keep = keep[order]
    pt, labels = keep // num_classes, keep % num_classes
    t, stride = points[pt, 0], points[pt, 3]
    segments = torch.stack((t - offsets[pt, 0] * stride,
                            t + offsets[pt, 1] * stride), dim=-1)
    long_enough = (segments[:, 1] - segments[:, 0]) > min_duration
    return segments[long_enough], scores[long_enough], labels[long_enough]


def segments_to_seconds(segments: Tensor, metainfo: dict) -> Tensor:
    """Steps of the (possibly cropped) input -> seconds in the video.

    Args:
        segments (Tensor): ``[M, 2]`` in steps.
        metainfo (dict): ``fps``, ``feat_stride``, ``feat_offset``,
            ``duration`` and optionally ``crop_start``.

    Returns:
        Tensor: ``[M, 2]`` seconds clipped to ``[0, duration]``.
    """
    missing = [k for k in ('fps', 'feat_stride', 'feat_offset', 'duration')
               if k not in metainfo]
    if missing:
        raise KeyError(f'video {metainfo.get("video_name", "<unnamed>")}: '
                       f'metainfo lacks {missing}, needed to convert '
                       'predictions to seconds')
    steps = segments + float(metainfo.get('crop_start', 0))
    seconds = steps_to_seconds(steps, float(metainfo['fps']),
                               float(metainfo['feat_stride']),
                               float(metainfo['feat_offset']))
    return seconds.clamp(min=0.0, max=float(metainfo['duration']))
