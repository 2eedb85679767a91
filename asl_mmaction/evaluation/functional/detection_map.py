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
from typing import Optional, Sequence, Tuple

import numpy as np

from .segment_set import (Pairs, SegmentSet, descending_order,
                          packed_order, pair_up, score_order)


def match_detections(pred: SegmentSet, gt: SegmentSet,
                     tious: Sequence[float],
                     pairs: Optional[Pairs] = None) -> np.ndarray:
    """Greedy matching of predictions to ground truth at every threshold.

    Matching is independent across (video, class) groups, so round ``r``
    handles the ``r``-th best prediction of *every* group at once; inside a
    round the groups touch disjoint ground truth.

    Args:
        pred (SegmentSet): predictions (with scores).
        gt (SegmentSet): ground truth.
        tious (sequence[float]): ``T`` thresholds.
        pairs (Pairs, optional): ``pair_up(pred, gt)`` when already known.

    Returns:
        np.ndarray: ``[T, P]`` bool, True for true positives (the transpose
        of a ``[P, T]`` array: a prediction's flags are adjacent).
    """
    return _match(pred, gt, np.asarray(tious, dtype=np.float64), pairs,
                  np.arange(len(pred))).T


def _match(pred, gt, tious, pairs, row_of) -> np.ndarray:
    """:func:`match_detections` as ``[P, T]``, prediction ``p`` on row
    ``row_of[p]`` (so a caller that wants another order gets it free)."""
    tp = np.zeros((len(pred), tious.shape[0]), dtype=bool)
    if len(pred) == 0 or len(gt) == 0:
        return tp
    if pairs is None:
        pairs = pair_up(pred, gt)
    usable = np.flatnonzero(pairs.iou >= tious.min())
    pi, gi, iou = pairs.pred_idx[usable], pairs.gt_idx[usable], \
        pairs.iou[usable]
    rank = pairs.pred_rank(pred, by_score=True)[pi]
    # By round, then prediction, then best IoU first (ties: earlier GT,
    # which is how the pairs of a prediction come): one packed sort.
    num = pi.shape[0]
    by_iou = descending_order(iou)
    iou_rank = np.empty(num, dtype=np.int64)
    iou_rank[by_iou] = np.arange(num)
    order = by_iou[packed_order(rank * len(pred) + pi, iou_rank, num)]
    pi, gi, iou, rank = pi[order], gi[order], iou[order], rank[order]
    iou_ok = iou[None, :] >= tious[:, None]
    free = np.ones((tious.shape[0], len(gt)), dtype=bool)
    top = int(rank.max(initial=-1)) + 1
    for first in range(0, top, _ROUNDS_PER_PASS):
        if first:
            # A pair whose ground truth is taken at every threshold its IoU
            # reaches can no longer match: drop them, most rounds empty.
            alive = (iou_ok & free[:, gi]).any(axis=0)
            pi, gi, rank, iou_ok = pi[alive], gi[alive], rank[alive], \
                iou_ok[:, alive]
        _match_rounds(tp, free, pi, gi, rank, iou_ok, row_of, first,
                      min(first + _ROUNDS_PER_PASS, top))
    return tp


_ROUNDS_PER_PASS = 32


def _match_rounds(tp, free, pi, gi, rank, iou_ok, row_of, first, last):
    """Rounds ``first .. last - 1`` of the matching, in place."""
    num = pi.shape[0]
    # Where each prediction's pairs start.
    new_pred = np.ones(num, dtype=bool)
    new_pred[1:] = pi[1:] != pi[:-1]
    pred_start = np.maximum.accumulate(np.where(new_pred, np.arange(num),
                                                0))
    # counts[:, k + 1]: valid pairs up to pair k, running across rounds.
    counts = np.zeros((iou_ok.shape[0], num + 1), dtype=np.int64)
    bounds = np.searchsorted(rank, np.arange(first, last + 1))
    for start, end in zip(bounds[:-1], bounds[1:]):
        if start == end:  # no usable pair at this rank
            continue
        g = gi[start:end]
        valid = iou_ok[:, start:end] & free[:, g]
        # First valid pair of each prediction = its best free GT: the one
        # where the count of valid pairs since the prediction's first
        # pair reaches 1.
        count = counts[:, start + 1:end + 1]
        np.cumsum(valid, axis=1, out=count)
        count += counts[:, start, None]
        before = counts[:, pred_start[start:end]]
        t_idx, j = np.nonzero(valid & (count - before == 1))
        tp[row_of[pi[start + j]], t_idx] = True
        free[t_idx, g[j]] = False


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
                      tious: Sequence[float],
                      pairs: Optional[Pairs] = None
                      ) -> Tuple[np.ndarray, np.ndarray]:
    """AP of every class that has ground truth.

    Args:
        pred (SegmentSet): predictions (with scores).
        gt (SegmentSet): ground truth.
        tious (sequence[float]): ``T`` thresholds.
        pairs (Pairs, optional): ``pair_up(pred, gt)`` when already known.

    Returns:
        tuple: ``ap [T, C]`` and ``class_ids [C]`` (sorted), the classes
        with at least one ground truth instance.
    """
    class_ids, num_gt = np.unique(gt.labels, return_counts=True)
    order = score_order(pred.labels, pred.scores, pred.by_score())
    row_of = np.empty_like(order)
    row_of[order] = np.arange(order.shape[0])
    # Matched straight into (class, score) order; a class's block is then
    # a column-major [T, P_c] view, the layout ``tp[:, order[start:end]]``
    # always had, so every sum adds in the same order, to the last bit.
    by_class = _match(pred, gt, np.asarray(tious, dtype=np.float64), pairs,
                      row_of)
    # Each class's block in that order.
    if pred.labels.min(initial=0) >= 0 and class_ids.min(initial=0) >= 0:
        per_class = np.bincount(pred.labels,
                                minlength=int(class_ids.max()) + 1)
        hi = np.cumsum(per_class)[class_ids]
        lo = hi - per_class[class_ids]
    else:  # negative labels: search the sorted ones
        sorted_labels = pred.labels[order]
        lo = np.searchsorted(sorted_labels, class_ids, side='left')
        hi = np.searchsorted(sorted_labels, class_ids, side='right')
    ap = np.zeros((len(tious), class_ids.shape[0]))
    for c, (start, end) in enumerate(zip(lo, hi)):
        ap[:, c] = interpolated_ap(by_class[start:end].T, num_gt[c])
    return ap, class_ids
