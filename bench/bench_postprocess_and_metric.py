"""Bench: batched 1-D NMS against its loop reference, and TADMetric on the
full EPIC-KITCHENS-100 validation set.

    OMP_NUM_THREADS=1 python bench/bench_postprocess_and_metric.py

1. NMS: detector-like candidates (clustered around actions, a few classes
   dominating) for a batch of videos, every method, per-class and
   class-agnostic; the vectorised ``batched_nms_1d`` must give the same
   output as ``nms_1d_reference``; prints both times and their ratio.
2. Metric: 200 predictions per video on all 138 validation videos (verb and
   noun), both protocols; target under 5 s. Needs ``../shared/data``
   (skipped otherwise).

Results also go to ``bench/results/postprocess_and_metric.json``.
"""
import argparse
import os
import sys
import os.path as osp
import time
from pathlib import Path

import numpy as np
import torch

from asl_mmaction.evaluation.functional import (atomic_write_json,
                                                read_tad_annotations)
from asl_mmaction.evaluation.metrics import TADMetric
from asl_mmaction.post_processing import batched_nms_1d

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / 'tests'))  # the test oracles
from oracles import nms_1d_reference  # noqa: E402
EPIC_VAL = REPO.parent / 'shared' / 'data' / 'epic_kitchens_100' / \
    'EPIC_100_validation.csv'
METRIC_TARGET_S = 5.0


def detector_like_candidates(seed, num_videos, per_video, num_classes):
    """Candidates as a dense head leaves them before NMS: clustered around
    ~40 actions per video, labels Zipf-distributed over classes."""
    g = torch.Generator().manual_seed(seed)
    class_p = 1.0 / torch.arange(1, num_classes + 1).float()
    segs, scores, labels = [], [], []
    for _ in range(num_videos):
        centres = torch.rand(40, generator=g) * 480
        widths = torch.rand(40, generator=g) * 20 + 1
        action = torch.randint(0, 40, (per_video, ), generator=g)
        jitter = torch.randn(per_video, 2, generator=g) * 0.3
        mid = centres[action] + jitter[:, 0] * widths[action]
        half = widths[action] * (1 + jitter[:, 1]).clamp(min=0.2) / 2
        segs.append(torch.stack([mid - half, mid + half], 1))
        scores.append(torch.rand(per_video, generator=g) ** 2)
        labels.append(torch.multinomial(class_p, per_video, True,
                                        generator=g))
    return segs, scores, labels


def _timed(fn, repeat=1):
    best = float('inf')
    for _ in range(repeat):
        start = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - start)
    return out, best


def _assert_same(fast, slow, what):
    for v, ((fs, fc, fl), (rs, rc, rl)) in enumerate(zip(fast, slow)):
        assert torch.equal(fl, rl), f'{what}: labels differ in video {v}'
        assert torch.allclose(fc, rc, rtol=1e-5, atol=1e-7), \
            f'{what}: scores differ in video {v}'
        assert torch.allclose(fs, rs, rtol=1e-5, atol=1e-4), \
            f'{what}: segments differ in video {v}'


def bench_nms(quick=False):
    rows = []
    cases = [
        # (name, videos, candidates per video, class_agnostic, voting)
        ('per-class, Ego4D-like', 4, 2000, False, 0.0),
        ('class-agnostic + voting', 2, 1000, True, 0.75),
    ]
    for name, videos, per_video, agnostic, voting in cases:
        if quick:
            videos, per_video = 2, per_video // 4
        data = detector_like_candidates(0, videos, per_video, 110)
        for method in ('soft_gaussian', 'linear', 'hard'):
            kw = dict(method=method, iou_threshold=0.1, sigma=0.5,
                      min_score=0.001, max_per_video=2000,
                      class_agnostic=agnostic, voting_threshold=voting)
            fast, t_fast = _timed(lambda: batched_nms_1d(*data, **kw), 3)
            slow, t_slow = _timed(lambda: nms_1d_reference(*data, **kw))
            _assert_same(fast, slow, f'{name} / {method}')
            rows.append(dict(case=name, method=method, videos=videos,
                             candidates=per_video, fast_s=t_fast,
                             reference_s=t_slow, speedup=t_slow / t_fast,
                             kept=sum(len(f[1]) for f in fast)))
            print(f'NMS {name:<24} {method:<13} {videos} x {per_video}: '
                  f'batched {t_fast * 1e3:8.1f} ms, loop reference '
                  f'{t_slow * 1e3:9.1f} ms, x{t_slow / t_fast:6.1f} '
                  '(same output)')
    return rows


def epic_samples(task, per_video, seed=0):
    videos, classes = read_tad_annotations(str(EPIC_VAL), task=task)
    rng = np.random.default_rng(seed)
    samples = []
    for name, v in videos.items():
        near = rng.integers(0, len(v['labels']), per_video // 2)
        segs_near = v['segments'][near] + rng.normal(0, 1, (near.size, 2))
        start = rng.uniform(0, v['duration'], per_video - near.size)
        segs_far = np.stack([start, start + rng.exponential(4, start.size)],
                            1)
        labels = np.concatenate([
            np.where(rng.random(near.size) < 0.5, v['labels'][near],
                     rng.integers(0, len(classes), near.size)),
            rng.integers(0, len(classes), start.size)
        ])
        samples.append(dict(
            video_name=name, duration=v['duration'],
            ann_segments=v['segments'], ann_labels=v['labels'],
            pred_instances=dict(
                segments=torch.from_numpy(
                    np.sort(np.concatenate([segs_near, segs_far]), 1)),
                scores=torch.from_numpy(rng.random(per_video)),
                labels=torch.from_numpy(labels))))
    return samples, classes


def bench_metric(per_video=200):
    if not EPIC_VAL.exists():
        print(f'metric bench skipped: {EPIC_VAL} not found')
        return []
    rows = []
    for task in ('verb', 'noun'):
        samples, classes = epic_samples(task, per_video)
        for protocol in ('official', 'actionformer'):
            metric = TADMetric(dataset_name='epic_kitchens_100',
                               protocol=protocol)
            metric.dataset_meta = dict(classes=classes)

            def run():
                metric.process(None, samples)
                return metric.evaluate(size=len(samples))

            out, seconds = _timed(run)
            rows.append(dict(task=task, protocol=protocol,
                             videos=len(samples), per_video=per_video,
                             seconds=seconds, mAP=out['mAP']))
            print(f'TADMetric EPIC val {task:<4} {protocol:<12} '
                  f'{len(samples)} videos x {per_video}: {seconds:6.3f} s '
                  f'(target {METRIC_TARGET_S:.0f} s, '
                  f'x{METRIC_TARGET_S / seconds:.0f} under), '
                  f'mAP {out["mAP"] * 100:.2f}')
            assert seconds < METRIC_TARGET_S
    return rows


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--quick', action='store_true',
                        help='smaller NMS batches (smoke run)')
    parser.add_argument('--skip-inference', action='store_true',
                        help='leave out the batched-inference throughput')
    args = parser.parse_args()
    torch.set_num_threads(int(os.environ.get('OMP_NUM_THREADS', '1')))
    from mmengine.logging import MMLogger
    MMLogger.get_instance('bench', log_level='WARNING')  # quiet tables
    results = dict(nms=bench_nms(args.quick), metric=bench_metric(),
                   torch_threads=torch.get_num_threads())
    out = osp.join(REPO, 'bench', 'results', 'postprocess_and_metric.json')
    atomic_write_json(results, out)
    print(f'results written to {out}')
    if not args.skip_inference:
        # the third figure of the same report: batched inference vs batch 1
        sys.path.insert(0, osp.dirname(osp.abspath(__file__)))
        import bench_inference
        print('\n== batched inference throughput (demo model)')
        bench_inference.main(['--repeats', '1'] if args.quick else [])


if __name__ == '__main__':
    main()
