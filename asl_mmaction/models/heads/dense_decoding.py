"""Turning dense per-point outputs of one video into candidate segments."""
from typing import List, Sequence, Tuple

import torch
from torch import Tensor

from ...structures import steps_to_seconds


def batch_candidates(cls_logits: Sequence[Tensor],
                     reg_offsets: Sequence[Tensor], masks: Sequence[Tensor],
                     points: Sequence[Tensor], score_thr: float, nms_pre: int,
                     min_duration: float
                     ) -> List[Tuple[Tensor, Tensor, Tensor]]:
    """ActionFormer's candidates of every video of a batch, decoded.

    Per level and video: the (point, class) pairs with probability above
    ``score_thr``, at most the ``nms_pre`` best, decoded to
    ``[t - left * stride, t + right * stride]`` and kept if longer than
    ``min_duration`` steps. One ``topk`` per level serves the whole batch
    (the best ``nms_pre`` of all pairs, then the threshold, is the same set
    as the best ``nms_pre`` of those above the threshold).

    Args:
        cls_logits (Sequence[Tensor]): ``[B, T_l, K]`` per level.
        reg_offsets (Sequence[Tensor]): ``[B, T_l, 2]`` in strides.
        masks (Sequence[BoolTensor]): ``[B, 1, T_l]``.
        points (Sequence[Tensor]): ``[T_l, 4]`` ``(t, lo, hi, stride)``.
        score_thr, nms_pre, min_duration: see above.

    Returns:
        list: per video ``(segments [M, 2] steps, scores [M], labels [M])``,
        levels in order, each level's candidates best first.
    """
    found = []  # per level: segments [B, k, 2], scores [B, k], keep [B, k]
    for logits, offsets, mask, pts in zip(cls_logits, reg_offsets, masks,
                                          points):
        num_classes = logits.shape[-1]
        probs = (logits.float().sigmoid() * mask[:, 0, :, None]).flatten(1)
        k = min(nms_pre, probs.shape[1])
        scores, index = probs.topk(k, dim=1)  # [B, k], best first
        pt = torch.div(index, num_classes, rounding_mode='floor')
        labels = index - pt * num_classes
        off = offsets.float().gather(1, pt[..., None].expand(-1, -1, 2))
        t, stride = pts[pt, 0], pts[pt, 3]
        segments = torch.stack((t - off[..., 0] * stride,
                                t + off[..., 1] * stride), dim=-1)
        keep = (scores > score_thr) & \
            (segments[..., 1] - segments[..., 0] > min_duration)
        found.append((segments, scores, labels, keep))
    segments, scores, labels, keep = (torch.cat(x, dim=1)
                                      for x in zip(*found))
    return [(segments[b][keep[b]], scores[b][keep[b]], labels[b][keep[b]])
            for b in range(keep.shape[0])]


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
