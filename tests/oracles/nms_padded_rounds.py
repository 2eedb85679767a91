"""Frozen copy of the vectorised ``batched_nms_1d`` as it was before the
pair-graph rewrite (commit a7971e9): all groups padded into ``[G, N]``
tensors, one selection per group and Python round, up to
``max_per_video`` rounds. Voting weighs neighbours by score only (the rule
of that time; ActionFormer weighs by score x IoU).

Kept as a test and bench oracle: ``tests/test_nms_1d.py`` checks that the
new implementation gives the same output, and
``bench/bench_nms.py`` prints the new one's speed as a ratio to it. Do not
"improve" it: its value is that it does not change.
"""
from typing import List, Sequence, Tuple

import torch
from torch import Tensor

from asl_mmaction.post_processing.nms_1d import check_nms_args
from asl_mmaction.structures.segment_iou import aligned_segment_iou

NMSResult = Tuple[Tensor, Tensor, Tensor]


def decay_scores(scores: Tensor, iou: Tensor, method: str,
                 iou_threshold: float, sigma: float) -> Tensor:
    """Scores of the candidates after one selection.

    Args:
        scores (Tensor): ``[...]`` current scores.
        iou (Tensor): ``[...]`` IoU of each candidate with the selected one.

    Returns:
        Tensor: ``[...]`` new scores; ``-inf`` marks a hard suppression.
    """
    if method == 'soft_gaussian':
        return scores * torch.exp(-(iou * iou) / sigma)
    overlapping = iou >= iou_threshold
    if method == 'linear':
        return torch.where(overlapping, scores * (1 - iou), scores)
    return scores.masked_fill(overlapping, float('-inf'))


def _check_inputs(segments: Sequence[Tensor], scores: Sequence[Tensor],
                  labels: Sequence[Tensor]) -> None:
    if not len(segments) == len(scores) == len(labels):
        raise ValueError('segments, scores and labels must hold one tensor '
                         f'per video, got {len(segments)}, {len(scores)} and '
                         f'{len(labels)}')
    for i, (seg, scr, lab) in enumerate(zip(segments, scores, labels)):
        n = seg.shape[0]
        if seg.dim() != 2 or seg.shape[1] != 2 or scr.shape != (n, ) \
                or lab.shape != (n, ):
            raise ValueError(
                f'video {i}: expected segments [N, 2], scores [N], labels '
                f'[N], got {tuple(seg.shape)}, {tuple(scr.shape)}, '
                f'{tuple(lab.shape)}')


def _pad_groups(group_key: Tensor, flat_idx: Tensor, scores: Tensor):
    """Lay the candidates out as ``[G, N]``, each row sorted by score.

    Args:
        group_key (Tensor): ``[K]`` group of every candidate.
        flat_idx (Tensor): ``[K]`` index of every candidate in the flat
            inputs.
        scores (Tensor): ``[K]`` their scores.

    Returns:
        tuple: ``index [G, N]`` (flat index, -1 for padding) and
        ``valid [G, N]`` (bool).
    """
    order = torch.argsort(scores, descending=True, stable=True)
    order = order[torch.argsort(group_key[order], stable=True)]
    _, row, sizes = torch.unique_consecutive(
        group_key[order], return_inverse=True, return_counts=True)
    starts = torch.cumsum(sizes, 0) - sizes
    col = torch.arange(order.numel(), device=order.device) - starts[row]
    index = flat_idx.new_full((sizes.numel(), int(sizes.max())), -1)
    index[row, col] = flat_idx[order]
    return index, index >= 0


def _select_rounds(segs: Tensor, scores: Tensor, alive: Tensor,
                   max_rounds: int, method: str, iou_threshold: float,
                   sigma: float, min_score: float):
    """Run the selection rounds of every group at once.

    Args:
        segs (Tensor): ``[G, N, 2]`` candidates (padding anywhere).
        scores (Tensor): ``[G, N]`` their scores.
        alive (BoolTensor): ``[G, N]`` candidates still in play.

    Returns:
        tuple: ``rows [P]`` (group), ``cols [P]`` (column) and
        ``kept_scores [P]`` of every pick, in round order.
    """
    rows = torch.arange(scores.shape[0], device=scores.device)
    picked_rows, picked_cols, picked_scores = [], [], []
    for _ in range(max_rounds):
        active = alive.any(dim=1)
        num_active = int(active.sum())
        if num_active == 0:
            break
        # Finished groups still cost work every round: drop them once they
        # are the majority, so long groups do not drag all the others along.
        if num_active <= rows.numel() // 2:
            rows, segs, scores, alive = (rows[active], segs[active],
                                         scores[active], alive[active])
            active = active[active]
        best, col = scores.masked_fill(~alive, float('-inf')).max(dim=1)
        picked_rows.append(rows[active])
        picked_cols.append(col[active])
        picked_scores.append(best[active])

        ar = torch.arange(rows.numel(), device=rows.device)
        alive[ar, col] = False
        iou = aligned_segment_iou(segs[ar, col][:, None, :], segs)
        scores = decay_scores(scores, iou, method, iou_threshold, sigma)
        alive &= scores >= min_score
    if not picked_rows:
        empty = rows.new_zeros(0)
        return empty, empty, scores.new_zeros(0)
    return (torch.cat(picked_rows), torch.cat(picked_cols),
            torch.cat(picked_scores))


def vote_boundaries(kept: Tensor, candidates: Tensor, cand_scores: Tensor,
                    voting_threshold: float) -> Tensor:
    """Score-weighted mean of the candidates overlapping each kept segment.

    Args:
        kept (Tensor): ``[K, 2]`` segments kept by NMS.
        candidates (Tensor): ``[M, 2]`` all candidates of the video.
        cand_scores (Tensor): ``[M]`` their original scores.

    Returns:
        Tensor: ``[K, 2]`` refined segments (unchanged where no candidate
        carries weight).
    """
    iou = aligned_segment_iou(kept[:, None, :], candidates[None, :, :])
    weights = (iou >= voting_threshold).to(cand_scores.dtype) * cand_scores
    total = weights.sum(dim=1, keepdim=True)
    voted = (weights @ candidates) / total.clamp(min=1e-12)
    return torch.where(total > 0, voted, kept)


def nms_1d_padded_rounds(segments: List[Tensor], scores: List[Tensor],
                         labels: List[Tensor],
                         method: str = 'soft_gaussian',
                         iou_threshold: float = 0.1, sigma: float = 0.5,
                         min_score: float = 0.001, max_per_video: int = 2000,
                         class_agnostic: bool = False,
                         voting_threshold: float = 0.0) -> List[NMSResult]:
    """1-D NMS of a batch of videos, per class and video in one go.

    Args:
        segments (list[Tensor]): per video ``[N_i, 2]`` candidates.
        scores (list[Tensor]): per video ``[N_i]`` scores.
        labels (list[Tensor]): per video ``[N_i]`` class indices (long).
        method (str): ``'soft_gaussian'``, ``'linear'`` or ``'hard'``.
        iou_threshold (float): overlap that triggers ``linear`` / ``hard``
            suppression (``>=``).
        sigma (float): width of the Gaussian decay.
        min_score (float): candidates scoring below it are dropped.
        max_per_video (int): segments kept per video.
        class_agnostic (bool): one group per video instead of per class.
        voting_threshold (float): IoU for boundary voting; ``0`` disables
            it. Used with ``class_agnostic=True`` only (see module doc).

    Returns:
        list[tuple]: per video ``(segments [K_i, 2], scores [K_i],
        labels [K_i])`` sorted by decreasing score.
    """
    check_nms_args(method, iou_threshold, sigma, max_per_video)
    _check_inputs(segments, scores, labels)
    if len(segments) == 0:
        return []
    device = scores[0].device
    counts = torch.tensor([s.numel() for s in scores], device=device)
    all_segs, all_scores = torch.cat(segments), torch.cat(scores)
    all_labels = torch.cat(labels).long()
    if all_labels.numel() and int(all_labels.min()) < 0:
        raise ValueError('batched_nms_1d: labels must be >= 0, got '
                         f'{int(all_labels.min())}')
    video_ids = torch.repeat_interleave(
        torch.arange(len(scores), device=device), counts)

    cand = torch.nonzero(all_scores >= min_score).squeeze(1)
    if cand.numel() == 0:
        return [_empty_result(all_segs, all_scores) for _ in segments]
    group_key = video_ids[cand]
    if not class_agnostic:
        num_classes = int(all_labels.max()) + 1
        group_key = group_key * num_classes + all_labels[cand]
    index, alive = _pad_groups(group_key, cand, all_scores[cand])
    safe_index = index.clamp(min=0)
    rows, cols, kept_scores = _select_rounds(
        all_segs[safe_index], all_scores[safe_index], alive,
        min(index.shape[1], max_per_video), method, iou_threshold, sigma,
        min_score)

    kept = index[rows, cols]
    kept_videos = video_ids[kept]
    # Best first within each video; stable sorts keep ties in pick order.
    order = torch.argsort(kept_scores, descending=True, stable=True)
    order = order[torch.argsort(kept_videos[order], stable=True)]
    kept, kept_scores, kept_videos = (kept[order], kept_scores[order],
                                      kept_videos[order])
    per_video = torch.bincount(kept_videos, minlength=len(scores)).tolist()

    results = []
    for v, (idx, scr) in enumerate(
            zip(kept.split(per_video), kept_scores.split(per_video))):
        idx, scr = idx[:max_per_video], scr[:max_per_video]
        segs = all_segs[idx]
        if class_agnostic and voting_threshold > 0 and idx.numel() > 0:
            segs = vote_boundaries(segs, segments[v], scores[v],
                                   voting_threshold)
        results.append((segs, scr, all_labels[idx]))
    return results


def _empty_result(segs: Tensor, scores: Tensor) -> NMSResult:
    return (segs.new_zeros((0, 2)), scores.new_zeros(0),
            torch.zeros(0, dtype=torch.long, device=scores.device))
