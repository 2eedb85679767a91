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
from typing import Optional, Sequence

import numpy as np

from .segment_set import Pairs, SegmentSet, pair_up

RECALL_PROTOCOLS = ('official', 'actionformer')


def topk_recall(pred: SegmentSet, gt: SegmentSet, tious: Sequence[float],
                topk: Sequence[int], protocol: str = 'official',
                pairs: Optional[Pairs] = None) -> np.ndarray:
    """Recall@kx for every tIoU and k.

    Args:
        pred (SegmentSet): predictions, in file / model order.
        gt (SegmentSet): ground truth (non-empty).
        tious (sequence[float]): ``T`` thresholds.
        topk (sequence[int]): ``K`` multipliers.
        protocol (str): ``'official'`` or ``'actionformer'``.
        pairs (Pairs, optional): ``pair_up(pred, gt)`` when already known.

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
        if pairs is None:
            pairs = pair_up(pred, gt)
        official = protocol == 'official'
        # Only pairs that overlap enough at the lowest threshold can hit.
        low = tious.min(initial=1.0)
        near = pairs.iou > low if official else pairs.iou >= low
        pi, gi, iou = pairs.pred_idx[near], pairs.gt_idx[near], \
            pairs.iou[near]
        _, gt_inverse, gt_count = np.unique(
            pairs.gt_key, return_inverse=True, return_counts=True)
        rank = pairs.pred_rank(pred, by_score=not official)
        close = iou[None, None] > tious[:, None, None] if official else \
            iou[None, None] >= tious[:, None, None]
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
