"""Temporal action detection metric: mAP over tIoU thresholds, Recall@kx.

Two protocols, side by side in ``docs/evaluation.md``:

* ``'official'``: the benchmark scripts (Ego4D-MQ ``eval_detection`` /
  ``get_retrieval_performance``, EPIC-KITCHENS ``C2-Action-Detection``):
  ground truth kept as annotated (duplicates included); Recall@kx over all
  instances, IoU ``> tIoU``, predictions in model order.
* ``'actionformer'``: the ActionFormer / ASL code: duplicate ground truth
  (same class, boundaries within 1 ms) removed first; Recall@kx per class
  then averaged, IoU ``>= tIoU``, predictions sorted by score.

mAP itself (ActivityNet rules, ``functional.detection_map``) is the same in
both. In both, a prediction of a class without ground truth stays a false
positive of *that* class (which does not enter the mean); it is never
remapped onto another class.
"""
import os.path as osp
from typing import Dict, List, Optional, Sequence

import numpy as np
import torch
from mmengine.evaluator import BaseMetric
from mmengine.logging import print_log
from mmengine.structures import BaseDataElement
from mmaction.registry import METRICS

from ...datasets.tad_errors import TADDataError
from ...post_processing.score_fusion import (fuse_predictions,
                                              read_video_scores)
from ..functional import (SegmentSet, average_precision, dump_predictions,
                          duplicate_gt_mask, pair_up, topk_recall)

# Default tIoU thresholds of each benchmark.
DEFAULT_TIOUS = {
    'ego4d_mq': (0.1, 0.2, 0.3, 0.4, 0.5),
    'epic_kitchens_100': (0.1, 0.2, 0.3, 0.4, 0.5),
    'thumos14': (0.3, 0.4, 0.5, 0.6, 0.7),
    'activitynet': tuple(np.round(np.linspace(0.5, 0.95, 10), 2).tolist()),
    'multithumos': tuple(np.round(np.linspace(0.1, 0.9, 9), 2).tolist()),
    'charades': tuple(np.round(np.linspace(0.1, 0.9, 9), 2).tolist()),
}
TAD_PROTOCOLS = ('official', 'actionformer')
# Datasets whose benchmark reports Recall@kx next to mAP.
RECALL_DATASETS = ('ego4d_mq', )


def _fmt(t: float) -> str:
    return f'{round(float(t), 4):g}'


def _numpy(x, dtype) -> np.ndarray:
    if isinstance(x, torch.Tensor):
        x = x.detach().cpu().numpy()
    return np.asarray(x, dtype=dtype)


def _segments(x, name: str, what: str) -> np.ndarray:
    segs = _numpy(x, np.float64)
    if segs.size == 0:
        return segs.reshape(0, 2)
    if segs.ndim != 2 or segs.shape[1] != 2:
        raise ValueError(f'TADMetric: video {name}: {what} must be [N, 2], '
                         f'got shape {segs.shape}')
    return segs


def sample_to_result(sample) -> dict:
    """What the metric keeps of one data sample (numpy, seconds).

    Args:
        sample (dict | BaseDataElement): a ``TADDataSample`` or its
            ``to_dict()``, with ``video_name``, ``pred_instances``
            (``segments``, ``scores``, ``labels``) and, to be scored,
            ``ann_segments`` / ``ann_labels``.

    Returns:
        dict: ``video_name``, ``duration``, ``gt_segments``, ``gt_labels``
        (``None`` when absent), ``pred_segments``, ``pred_scores``,
        ``pred_labels``.
    """
    if isinstance(sample, BaseDataElement):
        sample = sample.to_dict()
    name = sample.get('video_name')
    if name is None:
        raise KeyError('TADMetric: a data sample has no "video_name"')
    pred = sample.get('pred_instances')
    if pred is None:
        raise KeyError(f'TADMetric: video {name} has no "pred_instances"')
    if isinstance(pred, BaseDataElement):
        pred = pred.to_dict()
    try:
        result = dict(
            video_name=str(name),
            duration=sample.get('duration'),
            pred_segments=_segments(pred['segments'], name,
                                    'pred_instances.segments'),
            pred_scores=_numpy(pred['scores'], np.float64).reshape(-1),
            pred_labels=_numpy(pred['labels'], np.int64).reshape(-1))
    except KeyError as err:
        raise KeyError(f'TADMetric: video {name}: pred_instances lacks '
                       f'{err}') from err
    if not (result['pred_segments'].shape[0] == result['pred_scores'].shape[0]
            == result['pred_labels'].shape[0]):
        raise ValueError(f'TADMetric: video {name}: pred_instances segments, '
                         'scores and labels differ in length')
    has_gt = 'ann_segments' in sample and 'ann_labels' in sample
    result['gt_segments'] = _segments(sample['ann_segments'], name,
                                      'ann_segments') if has_gt else None
    result['gt_labels'] = _numpy(sample['ann_labels'], np.int64).reshape(
        -1) if has_gt else None
    if has_gt and result['gt_segments'].shape[0] != \
            result['gt_labels'].shape[0]:
        raise ValueError(f'TADMetric: video {name}: ann_segments and '
                         'ann_labels differ in length')
    return result


def flatten_results(results: List[dict]):
    """Split-wide ``(pred, gt)`` :class:`SegmentSet` of per-video results."""
    for r in results:
        if r['gt_segments'] is None:
            raise ValueError(
                f'TADMetric: video {r["video_name"]} has no ann_segments / '
                'ann_labels (ground truth in seconds); unlabelled data can '
                'only be dumped (format_only=True)')

    def cat(key, empty_shape, dtype):
        arrays = [r[key] for r in results]
        return np.concatenate(arrays).astype(dtype) if arrays else \
            np.zeros(empty_shape, dtype)

    def video_index(key):
        counts = [r[key].shape[0] for r in results]
        return np.repeat(np.arange(len(results)), counts)

    pred = SegmentSet(video_index('pred_labels'),
                      cat('pred_segments', (0, 2), np.float64),
                      cat('pred_labels', (0, ), np.int64),
                      cat('pred_scores', (0, ), np.float64))
    gt = SegmentSet(video_index('gt_labels'),
                    cat('gt_segments', (0, 2), np.float64),
                    cat('gt_labels', (0, ), np.int64))
    return pred, gt


@METRICS.register_module()
class TADMetric(BaseMetric):
    """mAP at several tIoU thresholds (and Ego4D Recall@kx).

    Args:
        tiou_thresholds (sequence[float], optional): defaults to the set of
            ``dataset_name`` (Ego4D-MQ / EPIC 0.1:0.5:0.1, THUMOS
            0.3:0.7:0.1, ActivityNet 0.5:0.95:0.05, MultiTHUMOS / Charades
            0.1:0.9:0.1).
        dataset_name (str, optional): ``'ego4d_mq'``,
            ``'epic_kitchens_100'``, ``'thumos14'``, ``'activitynet'``,
            ``'multithumos'`` or ``'charades'``;
            defaults to ``dataset_meta['dataset_name']``.
        protocol (str): ``'official'`` or ``'actionformer'`` (module doc).
        recall_topk (sequence[int]): ``k`` of Recall@kx (Ego4D-MQ only).
        recall_tious (sequence[float]): tIoU of Recall@kx.
        format_only (bool): only dump predictions (unlabelled test sets).
        outfile_prefix (str, optional): dump to ``{outfile_prefix}.json``;
            required by ``format_only``.
        submission_format (str): ``'ego4d_mq'`` (challenge submission) or
            ``'actionformer'``.
        score_fusion (dict, optional): ``dict(score_file, topk=2,
            max_detections=200)``: the detections of a class-agnostic model
            are first labelled with each video's top-``topk`` classes of
            the score file (``post_processing/score_fusion.py``;
            ActionFormer's ActivityNet recipe). Scored and dumped fused.
            The file must exist when the metric is built.
        collect_device (str): ``'cpu'`` or ``'gpu'``.
        prefix (str, optional): prefix of the metric names.
    """
    # The keys (mAP@0.1, Recall@1x,tIoU=0.3, ...) are unambiguous alone.
    default_prefix = ''

    def __init__(self,
                 tiou_thresholds: Optional[Sequence[float]] = None,
                 dataset_name: Optional[str] = None,
                 protocol: str = 'official',
                 recall_topk: Sequence[int] = (1, 5),
                 recall_tious: Sequence[float] = (0.3, 0.5, 0.7),
                 format_only: bool = False,
                 outfile_prefix: Optional[str] = None,
                 submission_format: str = 'ego4d_mq',
                 score_fusion: Optional[dict] = None,
                 collect_device: str = 'cpu',
                 prefix: Optional[str] = None) -> None:
        super().__init__(collect_device=collect_device, prefix=prefix)
        if protocol not in TAD_PROTOCOLS:
            raise ValueError(f'TADMetric: protocol must be one of '
                             f'{TAD_PROTOCOLS}, got {protocol!r}')
        if dataset_name is not None and dataset_name not in DEFAULT_TIOUS:
            raise ValueError(f'TADMetric: unknown dataset_name '
                             f'{dataset_name!r}; known: {list(DEFAULT_TIOUS)}')
        if tiou_thresholds is not None:
            tiou_thresholds = tuple(float(t) for t in tiou_thresholds)
            if not tiou_thresholds or not all(0 < t <= 1
                                              for t in tiou_thresholds):
                raise ValueError('TADMetric: tiou_thresholds must be a '
                                 f'non-empty list in (0, 1], got '
                                 f'{tiou_thresholds}')
        if submission_format not in ('ego4d_mq', 'actionformer'):
            raise ValueError('TADMetric: submission_format must be '
                             f'"ego4d_mq" or "actionformer", got '
                             f'{submission_format!r}')
        if format_only and not outfile_prefix:
            raise ValueError('TADMetric: format_only=True needs an '
                             'outfile_prefix to write to')
        if score_fusion is not None:
            score_fusion = dict(score_fusion)
            unknown = set(score_fusion) - {'score_file', 'topk',
                                           'max_detections'}
            if unknown or 'score_file' not in score_fusion:
                raise ValueError('TADMetric: score_fusion takes score_file '
                                 '(required), topk and max_detections; got '
                                 f'{sorted(score_fusion)}')
            # fail before training, not after the first epoch
            if not osp.isfile(score_fusion['score_file']):
                raise TADDataError('TADMetric: score_fusion score file not '
                                   f'found: {score_fusion["score_file"]}')
        self.score_fusion = score_fusion
        self._video_scores = None
        self.tiou_thresholds = tiou_thresholds
        self.dataset_name = dataset_name
        self.protocol = protocol
        self.recall_topk = tuple(int(k) for k in recall_topk)
        self.recall_tious = tuple(float(t) for t in recall_tious)
        self.format_only = format_only
        self.outfile_prefix = outfile_prefix
        self.submission_format = submission_format
        self.per_class_ap: Dict[str, float] = {}

    def process(self, data_batch, data_samples: Sequence) -> None:
        """Keep predictions and ground truth of each sample, as numpy."""
        for sample in data_samples:
            self.results.append(sample_to_result(sample))

    def resolved_dataset_name(self) -> Optional[str]:
        meta = self.dataset_meta or {}
        return self.dataset_name or meta.get('dataset_name')

    def resolved_tious(self) -> tuple:
        if self.tiou_thresholds is not None:
            return self.tiou_thresholds
        name = self.resolved_dataset_name()
        if name not in DEFAULT_TIOUS:
            raise ValueError(
                'TADMetric: give tiou_thresholds or a dataset_name in '
                f'{list(DEFAULT_TIOUS)} (got dataset_name={name!r})')
        return DEFAULT_TIOUS[name]

    def compute_metrics(self, results: List[dict]) -> Dict[str, float]:
        """mAP per tIoU, their mean ``mAP`` and, for Ego4D-MQ, Recall@kx."""
        unique = {}
        for r in results:  # distributed samplers may repeat videos
            unique.setdefault(r['video_name'], r)
        results = list(unique.values())
        classes = (self.dataset_meta or {}).get('classes')
        if self.score_fusion is not None:
            results = self.fuse(results, classes)
        if self.outfile_prefix:
            self.dump(results, classes)
        if self.format_only:
            return {}

        tious = self.resolved_tious()
        pred, gt = flatten_results(results)
        if self.protocol == 'actionformer':
            gt = gt.select(duplicate_gt_mask(gt))
        if len(gt) == 0:
            raise ValueError('TADMetric: no ground truth instance in the '
                             f'{len(results)} videos; nothing to score')
        pairs = pair_up(pred, gt)  # shared by mAP and Recall@kx
        ap, class_ids = average_precision(pred, gt, tious, pairs)
        self.per_class_ap = {
            (classes[c] if classes is not None and c < len(classes) else
             str(c)): float(a)
            for c, a in zip(class_ids, ap.mean(axis=0))
        }
        metrics = {'mAP': float(ap.mean())}
        for t, value in zip(tious, ap.mean(axis=1)):
            metrics[f'mAP@{_fmt(t)}'] = float(value)
        recall = None
        if self.resolved_dataset_name() in RECALL_DATASETS and \
                self.recall_topk:
            recall = topk_recall(pred, gt, self.recall_tious,
                                 self.recall_topk, self.protocol, pairs)
            for i, t in enumerate(self.recall_tious):
                for j, k in enumerate(self.recall_topk):
                    metrics[f'Recall@{k}x,tIoU={_fmt(t)}'] = float(
                        recall[i, j])
        self._log_table(tious, ap.mean(axis=1), recall, len(results),
                        len(class_ids))
        return metrics

    def fuse(self, results: List[dict], classes) -> List[dict]:
        """``results`` with their detections labelled by each video's
        classes of the score file (``score_fusion``)."""
        score_file = self.score_fusion['score_file']
        if self._video_scores is None:  # read once, in the class order
            self._video_scores = read_video_scores(score_file, classes)
        fused = fuse_predictions(
            {r['video_name']: dict(segments=r['pred_segments'],
                                   scores=r['pred_scores'])
             for r in results}, self._video_scores,
            self.score_fusion.get('topk', 2),
            self.score_fusion.get('max_detections', 200), source=score_file)
        return [dict(r, pred_segments=fused[r['video_name']]['segments'],
                     pred_scores=fused[r['video_name']]['scores'],
                     pred_labels=fused[r['video_name']]['labels'])
                for r in results]

    def dump(self, results: List[dict], classes) -> str:
        """Write the predictions to ``{outfile_prefix}.json``; returns it."""
        path = self.outfile_prefix
        if not path.endswith('.json'):
            path = f'{path}.json'
        if self.submission_format == 'ego4d_mq' and classes is None:
            raise ValueError('TADMetric: the ego4d_mq submission stores '
                             'class names; dataset_meta has no "classes"')
        dump_predictions(
            {
                r['video_name']: dict(segments=r['pred_segments'],
                                      scores=r['pred_scores'],
                                      labels=r['pred_labels'])
                for r in results
            }, path, self.submission_format, classes)
        print_log(f'TADMetric: predictions of {len(results)} videos written '
                  f'to {osp.abspath(path)}', logger='current')
        return path

    def _log_table(self, tious, maps, recall, num_videos, num_classes):
        lines = [
            f'TADMetric ({self.resolved_dataset_name() or "custom"}, '
            f'{self.protocol} protocol): {num_videos} videos, '
            f'{num_classes} classes with ground truth'
        ]
        head = ['tIoU'] + [f'{t:.2f}' for t in tious] + ['avg']
        row = ['mAP (%)'] + [f'{m * 100:.2f}' for m in maps] + \
            [f'{np.mean(maps) * 100:.2f}']
        lines += _table([head, row])
        if recall is not None:
            head = ['tIoU'] + [f'{t:.2f}' for t in self.recall_tious]
            rows = [[f'Recall@{k}x (%)'] + [f'{v * 100:.2f}'
                                          for v in recall[:, j]]
                    for j, k in enumerate(self.recall_topk)]
            lines += _table([head] + rows)
        print_log('\n'.join(lines), logger='current')


def _table(rows: List[List[str]]) -> List[str]:
    """Right-aligned columns separated by ' | ' (prettytable is not
    installed)."""
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    out = [' | '.join(c.rjust(w) for c, w in zip(r, widths)) for r in rows]
    out.insert(1, '-+-'.join('-' * w for w in widths))
    return out
