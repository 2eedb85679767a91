"""Boundary voting after NMS, ActionFormer's ``seg_voting`` rule.

Each kept segment is replaced by the mean of the candidates of its video
whose IoU with it is ``>= voting_threshold``, each weighted by its input
score times that IoU (the kept segment itself is one of them, IoU 1).
ActionFormer computes a ``score_offset`` (1.5) in ``seg_voting`` but never
uses it: the raw scores weigh, and so they do here. The candidates are all
those given to NMS, below ``min_score`` included, as in ActionFormer.

Only the intersecting (kept, candidate) pairs are visited
(:mod:`.segment_pairs`), instead of a dense ``[K, N]`` IoU matrix.
"""
import torch
from torch import Tensor

from ..structures.segment_iou import aligned_segment_iou
from .segment_pairs import intersecting_pairs_between


def vote_boundaries(kept: Tensor, kept_video: Tensor, candidates: Tensor,
                    cand_scores: Tensor, cand_video: Tensor,
                    voting_threshold: float) -> Tensor:
    """Score x IoU weighted mean of the candidates overlapping each kept
    segment, all videos at once.

    Args:
        kept (Tensor): ``[K, 2]`` segments kept by NMS.
        kept_video (Tensor): ``[K]`` video index of each.
        candidates (Tensor): ``[M, 2]`` every candidate of those videos.
        cand_scores (Tensor): ``[M]`` their input scores.
        cand_video (Tensor): ``[M]`` their video index.
        voting_threshold (float): IoU a candidate needs (``>=``) to vote;
            must be ``> 0`` (non-overlapping candidates never vote).

    Returns:
        Tensor: ``[K, 2]`` refined segments (unchanged where no candidate
        carries weight).
    """
    if voting_threshold <= 0:
        raise ValueError('vote_boundaries: voting_threshold must be > 0, '
                         f'got {voting_threshold}')
    k_idx, c_idx = intersecting_pairs_between(kept, kept_video, candidates,
                                              cand_video)
    iou = aligned_segment_iou(kept[k_idx], candidates[c_idx])
    weight = torch.where(iou >= voting_threshold, cand_scores[c_idx] * iou,
                         torch.zeros_like(iou))
    total = torch.zeros_like(kept[:, 0]).index_add_(0, k_idx, weight)
    moments = torch.zeros_like(kept).index_add_(
        0, k_idx, weight[:, None] * candidates[c_idx])
    voted = moments / total.clamp(min=torch.finfo(total.dtype).tiny)[:, None]
    return torch.where(total[:, None] > 0, voted, kept)
