"""Flat, split-wide arrays of segments and the helpers the metrics share.

Every function here is vectorised over the whole split: the metrics loop
over classes or matching rounds, never over single segments.
"""
from dataclasses import dataclass
from typing import Optional, Tuple

import numpy as np


@dataclass
class SegmentSet:
    """Segments of all videos of a split, flattened.

    Attributes:
        video (np.ndarray): ``[N]`` int64, index of the video of each segment.
        segments (np.ndarray): ``[N, 2]`` float64, seconds.
        labels (np.ndarray): ``[N]`` int64 class indices.
        scores (np.ndarray, optional): ``[N]`` float64; ``None`` for ground
            truth.
    """
    video: np.ndarray
    segments: np.ndarray
    labels: np.ndarray
    scores: Optional[np.ndarray] = None

    def __len__(self) -> int:
        return self.labels.shape[0]

    def select(self, index: np.ndarray) -> 'SegmentSet':
        """The segments at ``index`` (bool mask or integer indices)."""
        return SegmentSet(
            self.video[index], self.segments[index], self.labels[index],
            None if self.scores is None else self.scores[index])


def pairwise_iou(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """IoU of aligned segments, ActivityNet's formula.

    Args:
        a (np.ndarray): ``[K, 2]`` segments.
        b (np.ndarray): ``[K, 2]`` segments.

    Returns:
        np.ndarray: ``[K]`` IoU; 0 where the union is empty.
    """
    inter = (np.minimum(a[:, 1], b[:, 1]) -
             np.maximum(a[:, 0], b[:, 0])).clip(min=0)
    union = (a[:, 1] - a[:, 0]) + (b[:, 1] - b[:, 0]) - inter
    with np.errstate(divide='ignore', invalid='ignore'):
        iou = inter / union
    return np.where(union > 0, iou, 0.0)


def group_keys(pred: SegmentSet, gt: SegmentSet) -> Tuple[np.ndarray, ...]:
    """One integer key per (video, class), shared by predictions and GT."""
    num_classes = 1 + max(int(pred.labels.max(initial=-1)),
                          int(gt.labels.max(initial=-1)))
    return (pred.video * num_classes + pred.labels,
            gt.video * num_classes + gt.labels)


def same_key_pairs(pred_key: np.ndarray,
                   gt_key: np.ndarray) -> Tuple[np.ndarray, np.ndarray]:
    """Every (prediction, ground truth) pair that shares a key.

    Args:
        pred_key (np.ndarray): ``[P]`` keys of the predictions.
        gt_key (np.ndarray): ``[G]`` keys of the ground truth.

    Returns:
        tuple: ``pred_idx [K]`` and ``gt_idx [K]``, grouped by prediction.
    """
    gt_order = np.argsort(gt_key, kind='stable')
    sorted_keys = gt_key[gt_order]
    lo = np.searchsorted(sorted_keys, pred_key, side='left')
    count = np.searchsorted(sorted_keys, pred_key, side='right') - lo
    pred_idx = np.repeat(np.arange(pred_key.shape[0]), count)
    offset = np.arange(pred_idx.shape[0]) - np.repeat(
        np.cumsum(count) - count, count)
    return pred_idx, gt_order[np.repeat(lo, count) + offset]


def rank_in_group(key: np.ndarray,
                  scores: Optional[np.ndarray] = None) -> np.ndarray:
    """Position of each element inside its key group.

    Args:
        key (np.ndarray): ``[N]`` group keys.
        scores (np.ndarray, optional): ``[N]``; when given, rank by
            decreasing score (ties: input order), otherwise input order.

    Returns:
        np.ndarray: ``[N]`` int64 ranks starting at 0.
    """
    n = key.shape[0]
    if scores is None:
        order = np.lexsort((np.arange(n), key))
    else:
        order = np.lexsort((np.arange(n), -scores, key))
    sorted_key = key[order]
    is_first = np.r_[True, sorted_key[1:] != sorted_key[:-1]] if n else \
        np.zeros(0, bool)
    first_pos = np.maximum.accumulate(np.where(is_first, np.arange(n), 0))
    rank = np.empty(n, dtype=np.int64)
    rank[order] = np.arange(n) - first_pos
    return rank


def score_order(labels: np.ndarray, scores: np.ndarray) -> np.ndarray:
    """Indices sorted by class, then decreasing score, then input order."""
    return np.lexsort((np.arange(labels.shape[0]), -scores, labels))


def duplicate_gt_mask(gt: SegmentSet, tol: float = 1e-3) -> np.ndarray:
    """Ground truth that ActionFormer's evaluation keeps.

    An instance is dropped when it is shorter than ``tol`` or when an
    earlier kept instance of the same video and class starts and ends
    within ``tol`` of it (ActionFormer's ``remove_duplicate_annotations``).

    Args:
        gt (SegmentSet): ground truth.
        tol (float): seconds.

    Returns:
        np.ndarray: ``[N]`` bool, True for the instances kept.
    """
    keep = (gt.segments[:, 1] - gt.segments[:, 0]) >= tol
    _, key = group_keys(gt, gt)
    i, j = same_key_pairs(key, key)
    close = (j < i) & np.all(
        np.abs(gt.segments[i] - gt.segments[j]) <= tol, axis=1)
    i, j = i[close], j[close]
    # Only instances with an earlier near-copy need the sequential rule
    # ("near a *kept* earlier one"); handle those in input order.
    # ``i`` is sorted (pairs come grouped by their first index).
    firsts, starts = np.unique(i, return_index=True)
    for idx, earlier in zip(firsts, np.split(j, starts[1:])):
        if keep[idx] and keep[earlier].any():
            keep[idx] = False
    return keep
