"""Flat, split-wide arrays of segments and the helpers the metrics share.

Every function here is vectorised over the whole split: the metrics loop
over classes or matching rounds, never over single segments.

Orders are what the time goes to on a split of a million predictions, so
they avoid ``np.lexsort``: a score order is one stable integer sort of the
scores' order-preserving int64 images, and an order by (integer key, rank)
is one sort of the two packed into an int64 (NumPy sorts int64 values
several times faster than it sorts indices). Each gives exactly the order
the lexicographic sort gives.
"""
from dataclasses import dataclass, field
from typing import Optional, Tuple

import numpy as np
import torch


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
    _by_score: Optional[np.ndarray] = field(default=None, init=False,
                                            repr=False, compare=False)

    def __len__(self) -> int:
        return self.labels.shape[0]

    def by_score(self) -> np.ndarray:
        """Indices by decreasing score, ties in input order (computed once:
        the arrays are not meant to change)."""
        if self._by_score is None:
            self._by_score = descending_order(self.scores)
        return self._by_score

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
        tuple: ``pred_idx [K]`` and ``gt_idx [K]``, grouped by prediction,
        ground truth in increasing index within a prediction.
    """
    gt_order = np.argsort(gt_key, kind='stable')
    num_keys = 1 + max(int(pred_key.max(initial=-1)),
                       int(gt_key.max(initial=-1)))
    dense = num_keys <= 4 * (pred_key.shape[0] + gt_key.shape[0]) + 1024
    if dense and min(pred_key.min(initial=0), gt_key.min(initial=0)) >= 0:
        # Few distinct keys: look the ranges up instead of searching.
        per_key = np.bincount(gt_key, minlength=num_keys)
        lo = (np.cumsum(per_key) - per_key)[pred_key]
        count = per_key[pred_key]
    else:
        sorted_keys = gt_key[gt_order]
        lo = np.searchsorted(sorted_keys, pred_key, side='left')
        count = np.searchsorted(sorted_keys, pred_key, side='right') - lo
    pred_idx = np.repeat(np.arange(pred_key.shape[0]), count)
    shift = np.repeat(lo - (np.cumsum(count) - count), count)
    return pred_idx, gt_order[shift + np.arange(pred_idx.shape[0])]


@dataclass
class Pairs:
    """The (prediction, ground truth) pairs of one video and class, with
    their IoU: computed once, shared by mAP and Recall@kx.

    Attributes:
        pred_idx (np.ndarray): ``[K]`` grouped by prediction.
        gt_idx (np.ndarray): ``[K]`` increasing within a prediction.
        iou (np.ndarray): ``[K]`` float64.
        pred_key (np.ndarray): ``[P]`` (video, class) key of each
            prediction.
        gt_key (np.ndarray): ``[G]`` key of each ground truth instance.
    """
    pred_idx: np.ndarray
    gt_idx: np.ndarray
    iou: np.ndarray
    pred_key: np.ndarray
    gt_key: np.ndarray
    _ranks: dict = field(default_factory=dict, repr=False, compare=False)

    def pred_rank(self, pred: SegmentSet, by_score: bool) -> np.ndarray:
        """``[P]`` rank of each prediction in its (video, class) group, by
        decreasing score or in input order (ties: input order); computed
        once for mAP and Recall@kx."""
        if by_score not in self._ranks:
            self._ranks[by_score] = rank_in_group(
                self.pred_key, pred.scores, pred.by_score()) if by_score \
                else rank_in_group(self.pred_key)
        return self._ranks[by_score]


def pair_up(pred: SegmentSet, gt: SegmentSet) -> Pairs:
    """All same-video, same-class (prediction, ground truth) pairs."""
    pred_key, gt_key = group_keys(pred, gt)
    pi, gi = same_key_pairs(pred_key, gt_key)
    return Pairs(pi, gi, pairwise_iou(pred.segments[pi], gt.segments[gi]),
                 pred_key, gt_key)


def descending_order(values: np.ndarray) -> np.ndarray:
    """``np.lexsort((np.arange(n), -values))``, faster: indices by
    decreasing value, equal values (and NaN, last) in input order.

    The floats are mapped to int64 keys with the same order and sorted by
    torch's stable integer sort (a radix sort, several times faster than
    NumPy's stable sorts on a million values); the result is the same.
    """
    x = np.asarray(values, dtype=np.float64) + 0.0  # -0.0 -> +0.0
    bits = x.view(np.int64)
    # Increasing in the value (negative floats flipped), then reversed.
    keys = ~(bits ^ ((bits >> 63) & np.int64(0x7FFFFFFFFFFFFFFF)))
    keys[np.isnan(x)] = np.iinfo(np.int64).max
    return torch.argsort(torch.from_numpy(keys), stable=True).numpy()


def packed_order(primary: np.ndarray, secondary: np.ndarray,
                 bound: int) -> np.ndarray:
    """``secondary`` sorted by ``(primary, secondary)``.

    Args:
        primary (np.ndarray): ``[N]`` integers.
        secondary (np.ndarray): ``[N]`` integers in ``[0, bound)``.
        bound (int): exclusive bound of ``secondary``.

    Returns:
        np.ndarray: ``[N]`` int64, the ``secondary`` values in that order
        (pass indices as ``secondary`` to get an argsort).
    """
    bits = max(int(bound - 1).bit_length(), 1)
    top = max(int(primary.max(initial=0)), -int(primary.min(initial=0)))
    if top.bit_length() + bits > 61:  # does not pack: sort lexically
        order = np.lexsort((secondary, primary))
        return np.asarray(secondary, dtype=np.int64)[order]
    packed = np.sort((primary.astype(np.int64) << bits) | secondary)
    return packed & ((1 << bits) - 1)


def rank_in_group(key: np.ndarray,
                  scores: Optional[np.ndarray] = None,
                  by_score: Optional[np.ndarray] = None) -> np.ndarray:
    """Position of each element inside its key group.

    Args:
        key (np.ndarray): ``[N]`` integer group keys.
        scores (np.ndarray, optional): ``[N]``; when given, rank by
            decreasing score (ties: input order), otherwise input order.
        by_score (np.ndarray, optional): ``descending_order(scores)`` when
            already known.

    Returns:
        np.ndarray: ``[N]`` int64 ranks starting at 0.
    """
    n = key.shape[0]
    order = _group_order(key, scores, by_score)
    sorted_key = key[order]
    is_first = np.ones(n, dtype=bool)
    is_first[1:] = sorted_key[1:] != sorted_key[:-1]
    position = np.arange(n)
    first_pos = np.maximum.accumulate(np.where(is_first, position, 0))
    rank = np.empty(n, dtype=np.int64)
    rank[order] = position - first_pos
    return rank


def _group_order(key, scores=None, by_score=None) -> np.ndarray:
    """Indices sorted by key, then decreasing score (or input order), then
    input order."""
    n = key.shape[0]
    if scores is None:
        return packed_order(key, np.arange(n), n)
    if by_score is None:
        by_score = descending_order(scores)
    # Within a key, by position in the score order.
    return by_score[packed_order(key[by_score], np.arange(n), n)]


def score_order(labels: np.ndarray, scores: np.ndarray,
                by_score: Optional[np.ndarray] = None) -> np.ndarray:
    """Indices sorted by class, then decreasing score, then input order."""
    return _group_order(labels, scores, by_score)


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
