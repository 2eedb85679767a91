"""Bench: post-processing and metric, each against the previous
implementation run in the same process.

    OMP_NUM_THREADS=1 python bench/bench_postprocess_and_metric.py [--full]

1. NMS: ``bench/bench_nms.py`` on 16 of the 138 EPIC-size videos (all 138
   with ``--full``); see there.
2. Metric: ``TADMetric`` (``process`` + ``evaluate``) on the real
   validation annotations with random predictions: Ego4D-MQ, 2,000 per
   clip (521 clips, 1.04 M predictions; target under 0.5 s on an idle
   2-core machine) and EPIC-KITCHENS-100 verbs and nouns, 200 per video;
   both protocols. The previous matching / AP / Recall@kx code, frozen in
   ``tests/oracles/tad_metric_previous.py``, runs the same metric as the
   reference; the values must be equal to the last bit. Needs
   ``../shared/data`` (skipped otherwise). Times: best of ``--repeat``
   runs, the two alternating, the process's CPU time (``--wall`` for the
   wall clock; on a shared machine CPU time is the steadier one).
3. Batched inference throughput (``bench/bench_inference.py``), unless
   ``--skip-inference``.

Results also go to ``bench/results/postprocess_and_metric.json``.
"""
import argparse
import contextlib
import os
import os.path as osp
import sys
import time
from pathlib import Path

import numpy as np
import torch

import asl_mmaction.evaluation.metrics.tad_metric as tad_metric_module
from asl_mmaction.evaluation.functional import (atomic_write_json,
                                                read_tad_annotations)
from asl_mmaction.evaluation.metrics import TADMetric

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / 'tests'))  # the test oracles
sys.path.insert(0, str(REPO / 'bench'))
from oracles import tad_metric_previous as previous  # noqa: E402

DATA = REPO.parent / 'shared' / 'data'
EGO4D = DATA / 'ego4d_mq' / 'ego4d_clip_annotations.json'
EPIC_VAL = DATA / 'epic_kitchens_100' / 'EPIC_100_validation.csv'
EGO4D_TARGET_S = 0.5
CLOCK = time.process_time


def random_samples(videos, num_classes, per_video, seed=0):
    """Predictions as a detector leaves them (float32 tensors): half near
    a ground truth instance (its class two times in three), half anywhere."""
    rng = np.random.default_rng(seed)
    samples = []
    for name, v in videos.items():
        n_near = per_video // 2
        idx = rng.integers(0, len(v['labels']), n_near)
        near = v['segments'][idx] + rng.normal(0, 2, (n_near, 2))
        start = rng.uniform(0, v['duration'], per_video - n_near)
        far = np.stack([start, start + rng.exponential(5, start.shape)], 1)
        labels = np.concatenate([
            np.where(rng.random(n_near) < 2 / 3, v['labels'][idx],
                     rng.integers(0, num_classes, n_near)),
            rng.integers(0, num_classes, per_video - n_near)
        ])
        samples.append(dict(
            video_name=name, duration=v['duration'],
            ann_segments=v['segments'], ann_labels=v['labels'],
            pred_instances=dict(
                segments=torch.from_numpy(np.sort(
                    np.concatenate([near, far]), axis=1)).float(),
                scores=torch.from_numpy(rng.random(per_video)).float(),
                labels=torch.from_numpy(labels))))
    return samples


@contextlib.contextmanager
def previous_functions():
    """Run ``TADMetric`` with the previous matching, AP and Recall@kx."""
    saved = {name: getattr(tad_metric_module, name)
             for name in ('pair_up', 'average_precision', 'topk_recall',
                          'duplicate_gt_mask')}
    tad_metric_module.pair_up = lambda pred, gt: None
    tad_metric_module.average_precision = \
        lambda pred, gt, tious, pairs=None: previous.average_precision(
            pred, gt, tious)
    tad_metric_module.topk_recall = \
        lambda pred, gt, tious, topk, protocol, pairs=None: \
        previous.topk_recall(pred, gt, tious, topk, protocol)
    tad_metric_module.duplicate_gt_mask = previous.duplicate_gt_mask
    try:
        yield
    finally:
        for name, fn in saved.items():
            setattr(tad_metric_module, name, fn)


def time_metric(samples, classes, dataset_name, protocol, repeat):
    """Best times of the current and the previous metric, alternating."""
    def run():
        metric = TADMetric(dataset_name=dataset_name, protocol=protocol)
        metric.dataset_meta = dict(classes=classes)
        start = CLOCK()
        metric.process(None, samples)
        out = metric.evaluate(size=len(samples))
        return CLOCK() - start, out

    best_new = best_old = float('inf')
    for _ in range(repeat):
        seconds, new = run()
        best_new = min(best_new, seconds)
        with previous_functions():
            seconds, old = run()
        best_old = min(best_old, seconds)
        assert new == old, f'{dataset_name} {protocol}: {new} != {old}'
    return best_new, best_old, new


def bench_metric(repeat):
    rows = []
    cases = []
    if EGO4D.exists():
        videos, classes = read_tad_annotations(str(EGO4D), subset='val')
        cases.append(('Ego4D-MQ val', 'ego4d_mq', videos, classes, 2000,
                      EGO4D_TARGET_S))
    else:
        print(f'Ego4D metric bench skipped: {EGO4D} not found')
    if EPIC_VAL.exists():
        for task in ('verb', 'noun'):
            videos, classes = read_tad_annotations(str(EPIC_VAL), task=task)
            cases.append((f'EPIC val {task}', 'epic_kitchens_100', videos,
                          classes, 200, None))
    else:
        print(f'EPIC metric bench skipped: {EPIC_VAL} not found')
    for name, dataset, videos, classes, per_video, target in cases:
        samples = random_samples(videos, len(classes), per_video)
        for protocol in ('official', 'actionformer'):
            new_s, old_s, out = time_metric(samples, classes, dataset,
                                            protocol, repeat)
            rows.append(dict(case=name, protocol=protocol,
                             videos=len(samples), per_video=per_video,
                             seconds=new_s, previous_seconds=old_s,
                             speedup=old_s / new_s, mAP=out['mAP']))
            line = (f'TADMetric {name:<13} {protocol:<12} {len(samples)} '
                    f'videos x {per_video}: {new_s:6.3f} s, previous '
                    f'{old_s:6.3f} s: x{old_s / new_s:4.1f}, same values '
                    f'(mAP {out["mAP"] * 100:.2f})')
            if target:
                line += f'; target {target} s'
            print(line, flush=True)
    return rows


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--full', action='store_true',
                        help='NMS bench on all 138 videos')
    parser.add_argument('--repeat', type=int, default=5,
                        help='metric runs (best kept)')
    parser.add_argument('--wall', action='store_true',
                        help='wall clock instead of CPU time')
    parser.add_argument('--skip-nms', action='store_true')
    parser.add_argument('--skip-inference', action='store_true',
                        help='leave out the batched-inference throughput')
    args = parser.parse_args()
    global CLOCK
    CLOCK = time.perf_counter if args.wall else time.process_time
    torch.set_num_threads(int(os.environ.get('OMP_NUM_THREADS', '1')))
    from mmengine.logging import MMLogger
    MMLogger.get_instance('bench', log_level='WARNING')  # quiet tables
    if not args.skip_nms:
        import bench_nms
        print('== NMS (bench/bench_nms.py)')
        bench_nms.main([] if args.full else
                       ['--videos', '16', '--reference-videos', '4'] +
                       (['--wall'] if args.wall else []))
    print('== metric')
    results = dict(metric=bench_metric(args.repeat),
                   torch_threads=torch.get_num_threads(),
                   clock='wall' if args.wall else 'process CPU time')
    out = osp.join(REPO, 'bench', 'results', 'postprocess_and_metric.json')
    atomic_write_json(results, out)
    print(f'results written to {out}')
    if not args.skip_inference:
        import bench_inference
        print('\n== batched inference throughput (demo model)')
        bench_inference.main([])


if __name__ == '__main__':
    main()
