"""Plain per-segment loop version of :func:`batched_nms_1d`.

Written for clarity, not speed: tests and the bench compare the vectorised
version against it. It works on Python floats (float64), one pair of
segments at a time, and follows the same rules (see ``nms_1d``'s module
docstring), including the tie order: among equal current scores the
candidate with the higher input score is selected first, then the earlier
one, and a video's picks are sorted by score with the same tie rule.
"""
import math
from typing import List

import torch
from torch import Tensor

from asl_mmaction.post_processing.nms_1d import NMSResult, check_nms_args


def _iou(a, b) -> float:
    inter = max(0.0, min(a[1], b[1]) - max(a[0], b[0]))
    union = (a[1] - a[0]) + (b[1] - b[0]) - inter
    return inter / max(union, 1e-6)


def _decay(score: float, iou: float, method: str, iou_threshold: float,
           sigma: float) -> float:
    if method == 'soft_gaussian':
        return score * math.exp(-iou * iou / sigma)
    if iou < iou_threshold:
        return score
    return score * (1 - iou) if method == 'linear' else float('-inf')


def _nms_group(cands: list, method, iou_threshold, sigma, min_score,
               max_keep) -> list:
    """``cands``: ``[seg, score, flat_idx]`` sorted best first (ties in
    input order); returns ``(round, score, flat_idx)`` of the picks."""
    picks = []
    while cands and len(picks) < max_keep:
        best = max(range(len(cands)), key=lambda i: (cands[i][1], -i))
        seg, score, idx = cands.pop(best)
        picks.append((len(picks), score, idx))
        survivors = []
        for other in cands:
            new = _decay(other[1], _iou(seg, other[0]), method,
                         iou_threshold, sigma)
            if new >= min_score:
                survivors.append([other[0], new, other[2]])
        cands = survivors
    return picks


def nms_1d_reference(segments: List[Tensor], scores: List[Tensor],
                     labels: List[Tensor], method: str = 'soft_gaussian',
                     iou_threshold: float = 0.1, sigma: float = 0.5,
                     min_score: float = 0.001, max_per_video: int = 2000,
                     class_agnostic: bool = False,
                     voting_threshold: float = 0.0) -> List[NMSResult]:
    """Same arguments and output as :func:`batched_nms_1d`."""
    check_nms_args(method, iou_threshold, sigma, max_per_video)
    results = []
    for seg_t, score_t, label_t in zip(segments, scores, labels):
        segs, scrs = seg_t.tolist(), score_t.tolist()
        labs = [int(x) for x in label_t.tolist()]
        groups = {}
        order = sorted(range(len(scrs)), key=lambda i: -scrs[i])
        for i in order:
            if scrs[i] >= min_score:
                key = 0 if class_agnostic else labs[i]
                groups.setdefault(key, []).append([segs[i], scrs[i], i])
        picks = []
        for key in sorted(groups):
            for _, score, idx in _nms_group(groups[key], method,
                                            iou_threshold, sigma, min_score,
                                            max_per_video):
                picks.append((-score, -scrs[idx], idx, idx, score))
        picks = sorted(picks)[:max_per_video]
        out_segs = [list(segs[p[3]]) for p in picks]
        if class_agnostic and voting_threshold > 0:
            out_segs = [_vote(s, segs, scrs, voting_threshold)
                        for s in out_segs]
        results.append((
            torch.tensor(out_segs, dtype=seg_t.dtype).reshape(-1, 2),
            torch.tensor([p[4] for p in picks], dtype=score_t.dtype),
            torch.tensor([labs[p[3]] for p in picks], dtype=torch.long)))
    return results


def _vote(kept, segs, scrs, voting_threshold):
    """ActionFormer's ``seg_voting``: weights ``score * IoU``."""
    weight_sum, start, end = 0.0, 0.0, 0.0
    for seg, score in zip(segs, scrs):
        iou = _iou(kept, seg)
        if iou >= voting_threshold:
            weight_sum += score * iou
            start += score * iou * seg[0]
            end += score * iou * seg[1]
    if weight_sum <= 0:
        return kept
    return [start / weight_sum, end / weight_sum]
