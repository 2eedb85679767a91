"""Interpolated average precision of temporal detections, per class.

The rules are ActivityNet's ``compute_average_precision_detection`` (used as
is by the official Ego4D-MQ and EPIC-KITCHENS scripts and by ActionFormer):

* the predictions of a class are ranked by decreasing score over the whole
  split (ties: input order);
* in that order each prediction takes the unmatched ground truth of its video
  and class with the highest IoU, provided that IoU is ``>= tIoU``; otherwise
  it is a false positive. Each tIoU threshold matches independently;
* AP is VOC-2011 interpolated: the area under the precision envelope
  (precision made non-increasing from the right) at every recall step;
* a class counts when it has ground truth; with no prediction its AP is 0.

Ties between ground truth instances of equal IoU go to the earlier one.
"""
from typing import Sequence, Tuple

import numpy as np

from .segment_set import (SegmentSet, group_keys, pairwise_iou,
                          rank_in_group, same_key_pairs, score_order)


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
