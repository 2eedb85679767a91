"""Frozen copy of the TAD metric's matching, AP and Recall@kx as they were
before the speed work of issue 15 (commit a7971e9): ``np.lexsort`` orders,
one pairing per function.

Kept as a test and bench oracle: ``tests/test_tad_metric.py`` checks that
the current functions give the same values (to the last bit) on the real
Ego4D-MQ validation annotations with random predictions, and
``bench/bench_postprocess_and_metric.py`` prints the current speed as a
ratio to this one. Do not "improve" it.
"""
from typing import Optional, Sequence, Tuple

import numpy as np

from asl_mmaction.evaluation.functional.segment_set import SegmentSet

RECALL_PROTOCOLS = ('official', 'actionformer')


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


def match_detections(pred: SegmentSet, gt: SegmentSet,
                     tious: Sequence[float]) -> np.ndarray:
    """Greedy matching of predictions to ground truth at every threshold.

    Matching is independent across (video, class) groups, so round ``r``
    handles the ``r``-th best prediction of *every* group at once; inside a
    round the groups touch disjoint ground truth.

    Args:
        pred (SegmentSet): predictions (with scores).
        gt (SegmentSet): ground truth.
        tious (sequence[float]): ``T`` thresholds.

    Returns:
        np.ndarray: ``[T, P]`` bool, True for true positives.
    """
    tious = np.asarray(tious, dtype=np.float64)
    tp = np.zeros((tious.shape[0], len(pred)), dtype=bool)
    if len(pred) == 0 or len(gt) == 0:
        return tp
    pred_key, gt_key = group_keys(pred, gt)
    pi, gi = same_key_pairs(pred_key, gt_key)
    iou = pairwise_iou(pred.segments[pi], gt.segments[gi])
    usable = iou >= tious.min()
    pi, gi, iou = pi[usable], gi[usable], iou[usable]
    rank = rank_in_group(pred_key, pred.scores)[pi]
    # By round, then prediction, then best IoU first (ties: earlier GT).
    order = np.lexsort((gi, -iou, pi, rank))
    pi, gi, iou, rank = pi[order], gi[order], iou[order], rank[order]

    locked = np.zeros((tious.shape[0], len(gt)), dtype=bool)
    bounds = np.searchsorted(rank, np.arange(rank.max(initial=-1) + 2))
    for start, end in zip(bounds[:-1], bounds[1:]):
        if start == end:  # no usable pair at this rank
            continue
        p, g = pi[start:end], gi[start:end]
        valid = (iou[None, start:end] >= tious[:, None]) & ~locked[:, g]
        # First valid pair of each prediction = its best free GT.
        is_first = np.r_[True, p[1:] != p[:-1]]
        group = np.cumsum(is_first) - 1
        count = np.cumsum(valid, axis=1)
        starts = np.flatnonzero(is_first)
        before = np.where(starts > 0, count[:, starts - 1], 0)
        t_idx, j = np.nonzero(valid & (count - before[:, group] == 1))
        tp[t_idx, p[j]] = True
        locked[t_idx, g[j]] = True
    return tp


def interpolated_ap(tp: np.ndarray, num_gt: int) -> np.ndarray:
    """VOC-2011 interpolated AP of ranked detections.

    Args:
        tp (np.ndarray): ``[T, P]`` bool, detections best first.
        num_gt (int): ground truth instances of the class (> 0).

    Returns:
        np.ndarray: ``[T]`` AP.
    """
    if tp.shape[1] == 0:
        return np.zeros(tp.shape[0])
    precision = np.cumsum(tp, axis=1) / np.arange(1, tp.shape[1] + 1)
    envelope = np.maximum.accumulate(precision[:, ::-1], axis=1)[:, ::-1]
    # Recall rises by 1 / num_gt exactly at the true positives.
    return (envelope * tp).sum(axis=1) / num_gt


def average_precision(pred: SegmentSet, gt: SegmentSet,
                      tious: Sequence[float]) -> Tuple[np.ndarray, np.ndarray]:
    """AP of every class that has ground truth.

    Args:
        pred (SegmentSet): predictions (with scores).
        gt (SegmentSet): ground truth.
        tious (sequence[float]): ``T`` thresholds.

    Returns:
        tuple: ``ap [T, C]`` and ``class_ids [C]`` (sorted), the classes
        with at least one ground truth instance.
    """
    class_ids, num_gt = np.unique(gt.labels, return_counts=True)
    tp = match_detections(pred, gt, tious)
    order = score_order(pred.labels, pred.scores)
    sorted_labels = pred.labels[order]
    lo = np.searchsorted(sorted_labels, class_ids, side='left')
    hi = np.searchsorted(sorted_labels, class_ids, side='right')
    ap = np.zeros((len(tious), class_ids.shape[0]))
    for c, (start, end) in enumerate(zip(lo, hi)):
        ap[:, c] = interpolated_ap(tp[:, order[start:end]], num_gt[c])
    return ap, class_ids


def topk_recall(pred: SegmentSet, gt: SegmentSet, tious: Sequence[float],
                topk: Sequence[int], protocol: str = 'official') -> np.ndarray:
    """Recall@kx for every tIoU and k.

    Args:
        pred (SegmentSet): predictions, in file / model order.
        gt (SegmentSet): ground truth (non-empty).
        tious (sequence[float]): ``T`` thresholds.
        topk (sequence[int]): ``K`` multipliers.
        protocol (str): ``'official'`` or ``'actionformer'``.

    Returns:
        np.ndarray: ``[T, K]`` recall in ``[0, 1]``.
    """
    if protocol not in RECALL_PROTOCOLS:
        raise ValueError(f'protocol must be one of {RECALL_PROTOCOLS}, '
                         f'got {protocol!r}')
    tious = np.asarray(tious, dtype=np.float64)
    topk = np.asarray(topk, dtype=np.int64)
    hits = np.zeros((tious.shape[0], topk.shape[0], len(gt)), dtype=bool)
    if len(pred) > 0:
        pred_key, gt_key = group_keys(pred, gt)
        _, gt_inverse, gt_count = np.unique(
            gt_key, return_inverse=True, return_counts=True)
        official = protocol == 'official'
        rank = rank_in_group(pred_key, None if official else pred.scores)
        pi, gi = same_key_pairs(pred_key, gt_key)
        iou = pairwise_iou(pred.segments[pi], gt.segments[gi])[None, None]
        close = iou > tious[:, None, None] if official else \
            iou >= tious[:, None, None]
        in_top = rank[pi] < topk[:, None] * gt_count[gt_inverse][gi]
        t_idx, k_idx, j = np.nonzero(close & in_top[None])
        hits[t_idx, k_idx, gi[j]] = True
    if protocol == 'official':
        return hits.mean(axis=-1)
    class_ids, gt_class = np.unique(gt.labels, return_inverse=True)
    per_class = np.stack([
        np.bincount(gt_class, weights=h, minlength=class_ids.shape[0])
        for h in hits.reshape(-1, len(gt))
    ]) / np.bincount(gt_class)
    return per_class.mean(axis=1).reshape(hits.shape[:2])
