"""Ego4D-MQ Recall@kx: is a ground truth instance covered by one of the
top ``k * n`` predictions of its class in its video (``n``: ground truth of
that class in that video)?

Two readings exist (see ``docs/evaluation.md``):

* ``official`` (``EGO4D/episodic-memory``, ``get_retrieval_performance``):
  predictions in the order given, a hit needs IoU ``> tIoU``, the recall is
  the mean over all ground truth instances;
* ``actionformer`` (``compute_topkx_recall_detection``): predictions ranked
  by score, a hit needs IoU ``>= tIoU``, the recall is computed per class and
  then averaged over classes.

A prediction may cover several instances (no one-to-one matching) in both.
"""
from typing import Sequence

import numpy as np

from .segment_set import (SegmentSet, group_keys, pairwise_iou,
                          rank_in_group, same_key_pairs)

RECALL_PROTOCOLS = ('official', 'actionformer')


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
