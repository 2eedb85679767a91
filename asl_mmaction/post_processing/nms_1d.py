"""Batched 1-D (soft-)NMS over videos and classes, in plain torch.

Semantics follow ActionFormer's ``batched_nms`` and its C++ ``nms_1d`` /
``softnms_1d`` ops (``libs/utils/nms.py``):

* per-class NMS (one group per video and class) unless ``class_agnostic``;
* selection takes the highest *current* score of a group; every other
  candidate of the group then decays by its IoU ``o`` with the selected one:
  ``soft_gaussian``: ``s * exp(-o^2 / sigma)`` (all candidates, the IoU
  threshold is not used); ``linear``: ``s * (1 - o)`` when ``o >= thr``;
  ``hard``: removed when ``o >= thr``;
* a candidate whose score is below ``min_score`` is dropped (before NMS and
  after every decay);
* each group keeps at most ``max_per_video`` segments, then a video keeps its
  ``max_per_video`` best (the C++ op caps per class first as well);
* boundary voting, class-agnostic NMS only (as ActionFormer, which turns it
  off per class because one class rarely has enough neighbours): see
  :func:`~.voting.vote_boundaries`.

Ties: among equal current scores the candidate with the higher input score
is selected first, then the one given first; the output of a video is
sorted by score with the same tie rule (the C++ op's order of equal scores
depends on its swaps and an unstable sort). Other differences from the C++
op, at the edges: ``hard`` keeps scores ``>= min_score`` (ActionFormer:
``> min_score``); IoU divides by ``max(union, 1e-6)`` instead of adding
``1e-6`` to each length, which moves scores by up to ~4e-5 relative after
hundreds of decays (class-agnostic) and ~1.5e-5 per class.

How it runs: all groups of all videos at once, in *rounds* that each select
every candidate that the one-at-a-time procedure is bound to select with its
current score (:mod:`.selection_rounds`); the loop runs over rounds (4-42
on the EPIC-size bench), never over groups or segments. A video's output
does not depend on the other videos of its batch (bit for bit on CPU).

Host syncs (:mod:`.host_sync`), per batch: one for the input statistics,
one for the per-video counts of the output, one with voting (its pair
count) and those of the rounds: on CPU one or two per round (free there);
on other devices one for the pair count and ``ceil(log2 R) + 1`` for ``R``
rounds (the loop looks after rounds 1, 2, 4, 8, ...): about 10 per batch.
"""
from typing import List, Sequence, Tuple

import torch
from torch import Tensor

from .host_sync import to_host
from .segment_pairs import forward_ranges, rank_in_run
from .selection_rounds import DecayRule, SelectionKeys, select_in_rounds
from .voting import vote_boundaries

NMS_METHODS = ('soft_gaussian', 'linear', 'hard')

NMSResult = Tuple[Tensor, Tensor, Tensor]


def check_nms_args(method: str, iou_threshold: float, sigma: float,
                   max_per_video: int) -> None:
    """Raise a clear error for an unknown method or impossible values."""
    if method not in NMS_METHODS:
        raise ValueError(f'NMS method must be one of {NMS_METHODS}, '
                         f'got {method!r}')
    if method == 'soft_gaussian' and sigma <= 0:
        raise ValueError(f'soft_gaussian NMS needs sigma > 0, got {sigma}')
    if not 0 <= iou_threshold <= 1:
        raise ValueError('iou_threshold must be in [0, 1], got '
                         f'{iou_threshold}')
    if max_per_video < 1:
        raise ValueError(f'max_per_video must be >= 1, got {max_per_video}')


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


def per_round_sync(device: torch.device) -> bool:
    """Whether the selection rounds may read the device every round (see
    :mod:`.selection_rounds`): on CPU, where a read costs nothing."""
    return device.type == 'cpu'


def _best_of_each_group(group: Tensor, tie_rank: Tensor,
                        num_groups: int) -> Tensor:
    """Index of the best-ranked candidate of each non-empty group."""
    best = torch.full((num_groups, ), tie_rank.numel(), dtype=tie_rank.dtype,
                      device=tie_rank.device)
    best.scatter_reduce_(0, group, tie_rank, 'amin')
    is_best = best.index_select(0, group) == tie_rank
    return torch.nonzero_static(
        is_best, size=to_host(is_best.sum(), 'groups')).squeeze(1)


def batched_nms_1d(segments: List[Tensor], scores: List[Tensor],
                   labels: List[Tensor], method: str = 'soft_gaussian',
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
    all_segs, all_scores = torch.cat(segments), torch.cat(scores)
    all_labels = torch.cat(labels).long()
    num_videos, total = len(scores), all_scores.numel()
    if total == 0:
        return [_empty_result(all_segs, all_scores) for _ in segments]
    video_ids = torch.repeat_interleave(
        torch.arange(num_videos, device=device),
        torch.tensor([s.numel() for s in scores], device=device),
        output_size=total)
    passing = all_scores >= min_score
    num_cand, min_label, max_label = to_host(torch.stack([
        passing.sum(), all_labels.min(), all_labels.max()]), 'input stats')
    if min_label < 0:
        raise ValueError(f'batched_nms_1d: labels must be >= 0, got '
                         f'{min_label}')
    if num_cand == 0:
        return [_empty_result(all_segs, all_scores) for _ in segments]
    cand = torch.nonzero_static(passing, size=num_cand).squeeze(1)
    segs, cand_scores = all_segs[cand], all_scores[cand]
    video = video_ids[cand]
    group = video if class_agnostic else \
        video * (max_label + 1) + all_labels[cand]
    num_groups = num_videos if class_agnostic else \
        num_videos * (max_label + 1)
    if num_groups >= 1 << 29:
        # Sort keys hold group ids below 2**29: renumber huge label ids.
        group = torch.unique(group, return_inverse=True)[1]
        num_groups = num_cand
    # Among equal scores the better input score goes first, then the
    # earlier candidate: rank by a key that is distinct for every one.
    position = torch.arange(num_cand, device=device)
    tie_rank = torch.empty_like(cand)
    tie_rank[_descending(cand_scores, position)] = position

    if method == 'hard' and iou_threshold <= 0:
        # Every candidate suppresses all the others of its group.
        picked = _best_of_each_group(group, tie_rank, num_groups)
        picked_scores = cand_scores.index_select(0, picked)
    else:
        # The rounds work in (group, start) order.
        order, end = forward_ranges(segs, group)
        picked, picked_scores, _ = select_in_rounds(
            segs.index_select(0, order), cand_scores.index_select(0, order),
            tie_rank.index_select(0, order), end,
            video.index_select(0, order),
            DecayRule(method, iou_threshold, sigma, min_score),
            max_per_video, num_videos, per_round_sync(device))
        picked = order.index_select(0, picked)

    # Each video best first (ties: tie rank). A group's selection order is
    # the same order, so capping the video caps its groups as well.
    picked_video = video.index_select(0, picked)
    out = _descending(picked_scores, tie_rank.index_select(0, picked))
    out = out.index_select(0, torch.argsort(
        picked_video.index_select(0, out), stable=True))
    found = to_host(torch.bincount(picked_video, minlength=num_videos),
                    'selected per video')
    per_video = [min(f, max_per_video) for f in found]
    if sum(per_video) < len(out):
        rank = rank_in_run(picked_video.index_select(0, out))
        out = out.index_select(0, torch.nonzero_static(
            rank < max_per_video, size=sum(per_video)).squeeze(1))
    picked, picked_scores = picked.index_select(0, out), \
        picked_scores.index_select(0, out)
    out_segs = segs.index_select(0, picked)
    if class_agnostic and voting_threshold > 0:
        out_segs = vote_boundaries(out_segs, video.index_select(0, picked),
                                   all_segs, all_scores, video_ids,
                                   voting_threshold)
    out_labels = all_labels.index_select(0, cand.index_select(0, picked))
    return list(zip(out_segs.split(per_video),
                    picked_scores.split(per_video),
                    out_labels.split(per_video)))


def _descending(scores: Tensor, tie_rank: Tensor) -> Tensor:
    """Indices that sort ``scores`` in decreasing order, equal scores by
    increasing ``tie_rank`` (distinct, ``< 2**32``)."""
    keys = SelectionKeys(tie_rank, scores.dtype, positive=False)(scores)
    return torch.argsort(keys, descending=True)


def _empty_result(segs: Tensor, scores: Tensor) -> NMSResult:
    return (segs.new_zeros((0, 2)), scores.new_zeros(0),
            torch.zeros(0, dtype=torch.long, device=scores.device))
