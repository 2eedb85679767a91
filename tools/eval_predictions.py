"""Score a saved prediction file against an annotation file, no model needed.

Examples::

    python tools/eval_predictions.py work_dirs/x/ego4d_val.json \\
        data/ego4d/ego4d_clip_annotations.json --dataset ego4d_mq \\
        --subset val --protocol official
    python tools/eval_predictions.py preds.json EPIC_100_validation.csv \\
        --dataset epic_kitchens_100 --task noun

Prediction files: the Ego4D-MQ submission, ActionFormer's JSON, or the
official tools' ``{"results": ...}`` file. Predictions on videos that are not
in the annotated subset count as false positives, as in the official
scripts; ``--ignore-extra-videos`` leaves them out instead.
"""
import argparse
import json
import logging
import os.path as osp
import sys
from typing import Dict, List, Optional

from mmengine.logging import print_log
from tqdm import tqdm

from asl_mmaction.evaluation.functional import (atomic_write_json,
                                                load_predictions,
                                                read_tad_annotations)
from asl_mmaction.evaluation.metrics import TADMetric
from asl_mmaction.utils.cli import add_debug_arg, run_main

DATASETS = ('ego4d_mq', 'epic_kitchens_100')


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('pred_file', help='prediction .json')
    parser.add_argument('ann_file',
                        help='annotation .json (per-video layout) or the '
                        'EPIC-KITCHENS-100 .csv')
    parser.add_argument('--dataset', required=True, choices=DATASETS)
    parser.add_argument('--subset', default='val',
                        help='subset of a .json annotation file')
    parser.add_argument('--protocol', default='official',
                        choices=('official', 'actionformer'))
    parser.add_argument('--task', default='verb', choices=('verb', 'noun'),
                        help='EPIC-KITCHENS .csv: which label to score')
    parser.add_argument('--tiou', type=float, nargs='+', default=None,
                        help='tIoU thresholds (default: the dataset\'s)')
    parser.add_argument('--ignore-extra-videos', action='store_true',
                        help='drop predictions of videos not in the subset')
    parser.add_argument('--per-class', action='store_true',
                        help='also print the AP of every class')
    parser.add_argument('--out', default=None, help='write metrics to .json')
    add_debug_arg(parser)
    return parser.parse_args(argv)


def build_samples(videos: Dict[str, dict], preds: Dict[str, dict],
                  include_extra: bool) -> List[dict]:
    """One metric input per video: ground truth plus its predictions."""
    empty = dict(segments=[], scores=[], labels=[])
    names = list(videos)
    if include_extra:
        names += [v for v in preds if v not in videos]
    samples = []
    for name in tqdm(names, desc='videos', unit='video'):
        gt = videos.get(name)
        samples.append(dict(
            video_name=name,
            duration=gt['duration'] if gt else None,
            ann_segments=gt['segments'] if gt else [],
            ann_labels=gt['labels'] if gt else [],
            pred_instances=preds.get(name, empty)))
    return samples


def main(argv: Optional[List[str]] = None) -> dict:
    args = parse_args(argv)
    for path in (args.pred_file, args.ann_file):
        if not osp.isfile(path):
            raise FileNotFoundError(f'{path} does not exist')
    videos, classes = read_tad_annotations(args.ann_file, args.subset,
                                           args.task)
    preds = load_predictions(args.pred_file, classes)
    extra = [v for v in preds if v not in videos]
    if extra:
        fate = 'left out' if args.ignore_extra_videos else \
            'scored as false positives'
        print_log(f'{len(extra)} predicted videos are not in the annotated '
                  f'subset (e.g. {extra[0]}); they are {fate}',
                  logger='current', level=logging.WARNING)
    missing = sum(v not in preds for v in videos)
    if missing:
        print_log(f'{missing} of {len(videos)} annotated videos have no '
                  'prediction', logger='current', level=logging.WARNING)

    samples = build_samples(videos, preds, not args.ignore_extra_videos)
    metric = TADMetric(tiou_thresholds=args.tiou, dataset_name=args.dataset,
                       protocol=args.protocol)
    metric.dataset_meta = dict(classes=classes, dataset_name=args.dataset)
    metric.process(None, samples)
    metrics = metric.evaluate(size=len(samples))
    if args.per_class:
        for name, ap in sorted(metric.per_class_ap.items(),
                               key=lambda x: -x[1]):
            print(f'{ap * 100:6.2f}  {name}')
    print(json.dumps(metrics, indent=2))
    if args.out:
        atomic_write_json(metrics, args.out)
    return metrics


if __name__ == '__main__':
    sys.exit(run_main(main))
