"""Batch-level helpers around label assignment: padded ground truth, ids
of the assigned segments, background points."""
from typing import Sequence, Tuple

import torch
import torch.nn.functional as F
from torch import Tensor


def pad_gt_instances(data_samples: Sequence, num_classes: int,
                     device: torch.device) -> Tuple[Tensor, Tensor, Tensor]:
    """Stack each video's ``gt_instances`` into padded batch tensors.

    Real segments come first in each row, padding after them, so
    ``segments[valid]`` lists the batch's segments video after video.

    Args:
        data_samples (Sequence[TADDataSample]): ``gt_instances.segments``
            ``[N_i, 2]`` (steps) and ``gt_instances.labels`` ``[N_i]``.
        num_classes (int): Labels must lie in ``[0, num_classes)``.
        device (torch.device): Device of the outputs.

    Returns:
        tuple: ``segments [B, N, 2]`` float32, ``labels [B, N]`` long,
        ``valid [B, N]`` bool, with ``N = max(N_i)``.
    """
    segs, labels = [], []
    for sample in data_samples:
        name = sample.metainfo.get('video_name', '<unnamed video>')
        if 'gt_instances' not in sample:
            raise ValueError(f'video {name}: data sample has no '
                             'gt_instances, which training needs')
        seg = torch.as_tensor(sample.gt_instances.segments,
                              dtype=torch.float32).reshape(-1, 2)
        lab = torch.as_tensor(sample.gt_instances.labels,
                              dtype=torch.long).reshape(-1)
        _check_video_gt(name, seg, lab, num_classes)
        segs.append(seg)
        labels.append(lab)
    num_gt = max([len(lab) for lab in labels], default=0)
    B = len(labels)
    out_segs = torch.zeros(B, num_gt, 2, device=device)
    out_labels = torch.zeros(B, num_gt, dtype=torch.long, device=device)
    valid = torch.zeros(B, num_gt, dtype=torch.bool, device=device)
    for b, (seg, lab) in enumerate(zip(segs, labels)):
        out_segs[b, :len(lab)] = seg.to(device)
        out_labels[b, :len(lab)] = lab.to(device)
        valid[b, :len(lab)] = True
    return out_segs, out_labels, valid


def _check_video_gt(name: str, seg: Tensor, lab: Tensor,
                    num_classes: int) -> None:
    if len(seg) != len(lab):
        raise ValueError(f'video {name}: {len(seg)} gt segments but '
                         f'{len(lab)} labels')
    if len(lab) == 0:
        return
    if not torch.isfinite(seg).all() or (seg[:, 1] < seg[:, 0]).any():
        raise ValueError(f'video {name}: gt segments must be finite with '
                         f'end >= start, got {seg.tolist()}')
    if lab.min() < 0 or lab.max() >= num_classes:
        raise ValueError(f'video {name}: gt labels must be in [0, '
                         f'{num_classes}), got {lab.tolist()}')


def batch_segment_ids(assigned_gt: Tensor, valid: Tensor) -> Tensor:
    """Ids of the assigned segments, unique over the batch.

    Args:
        assigned_gt (LongTensor): ``[B, P]`` index in the video, -1 if none.
        valid (BoolTensor): ``[B, N]`` real (non-padding) segments.

    Returns:
        LongTensor: ``[B, P]`` index into ``segments[valid]`` (video after
        video), -1 where nothing is assigned.
    """
    first_id = valid.sum(dim=1).cumsum(dim=0) - valid.sum(dim=1)  # [B]
    ids = assigned_gt + first_id[:, None]
    return ids.masked_fill(assigned_gt < 0, -1)


def background_points(points: Tensor, segments: Tensor, valid: Tensor,
                      point_valid: Tensor) -> Tensor:
    """Valid points outside every ground-truth segment.

    Args:
        points (Tensor): ``[P, 4]`` (time in column 0).
        segments (Tensor): ``[B, N, 2]``.
        valid (BoolTensor): ``[B, N]``.
        point_valid (BoolTensor): ``[B, P]`` unpadded points.

    Returns:
        BoolTensor: ``[B, P]``.
    """
    t = points[None, :, 0, None]  # [1, P, 1]
    inside = (t >= segments[:, None, :, 0]) & (t <= segments[:, None, :, 1])
    inside = (inside & valid[:, None, :]).any(dim=2)
    return point_valid & ~inside


def video_multi_hot(labels: Tensor, valid: Tensor,
                    num_classes: int) -> Tensor:
    """``[B, N]`` labels -> ``[B, K]`` float multi-hot of each video."""
    hot = F.one_hot(labels, num_classes) * valid[..., None]
    return hot.sum(dim=1).clamp(max=1).float()

