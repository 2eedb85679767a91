"""Cost of the feature-value check that runs before training.

Writes an EPIC-Kitchens-100-size feature set (one ``.npz`` of float32
``[T, 2304]`` per video, ``T`` from each video's real duration at 30 fps,
stride 16, window 32, when ``EPIC_100_video_info.csv`` is found in
``--shared-data``; else ``--videos`` videos of 9 minutes) and runs the check
``tools/train.py`` and ``tools/check_dataset.py`` run
(``feature_checks.check_dataset_feature_values``) twice on it: the first run
reads every file, the second finds them all in the work-dir cache. Then the
same on the embedded demo data. Prints seconds, GB and GB/s of each run and
the ratio cached / first (same process, same files), and the time of one
dataset build (header checks), which the pre-flight of ``tools/train.py``
adds once.

The first run follows the writing of the files, so it reads them from the
page cache: on a cold disk it is bounded by the disk instead.

Run: ``OMP_NUM_THREADS=1 python bench/bench_feature_checks.py
[--split validation|all] [--keep DIR]``
"""
import argparse
import csv
import json
import os
import os.path as osp
import shutil
import sys
import tempfile
import time

import numpy as np

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))
from mmengine.registry import init_default_scope  # noqa: E402

import asl_mmaction  # noqa: E402,F401
from asl_mmaction.datasets.demo_data import generate_demo_data  # noqa: E402
from asl_mmaction.datasets.feature_checks import (  # noqa: E402
    check_dataset_feature_values)
from mmaction.registry import DATASETS  # noqa: E402

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
FPS, STRIDE, WINDOW, CHANNELS = 30.0, 16, 32, 2304


def epic_durations(shared: str, split: str, videos: int) -> dict:
    """``{video_id: seconds}``: the real EPIC videos when the annotation
    files are there, else ``videos`` of 540 s."""
    info = osp.join(shared, 'epic_kitchens_100', 'EPIC_100_video_info.csv')
    if not osp.isfile(info):
        return {f'P00_{i:03d}': 540.0 for i in range(videos)}
    with open(info) as f:
        durations = {r['video_id']: float(r['duration'])
                     for r in csv.DictReader(f)}
    if split == 'all':
        return durations
    with open(osp.join(shared, 'epic_kitchens_100',
                       'EPIC_100_validation.csv')) as f:
        names = sorted({r['video_id'] for r in csv.DictReader(f)})
    return {name: durations[name] for name in names}


def write_epic_size(root: str, durations: dict) -> int:
    """Features + a converted-layout annotation file; returns bytes."""
    rng = np.random.default_rng(0)
    os.makedirs(osp.join(root, 'features'), exist_ok=True)
    ann, total = {}, 0
    for name, duration in durations.items():
        steps = int((duration * FPS - WINDOW) // STRIDE) + 1
        feats = rng.standard_normal((steps, CHANNELS), dtype=np.float32)
        np.savez(osp.join(root, 'features', f'{name}.npz'), feats=feats)
        total += feats.nbytes
        ann[name] = dict(subset='val', duration=duration, fps=FPS,
                         annotations=[dict(segment=[1.0, 3.0], label='a')])
    with open(osp.join(root, 'ann.json'), 'w') as f:
        json.dump(ann, f)
    return total


def timed_checks(dataset, cache_file: str, nbytes: int) -> dict:
    first = check_dataset_feature_values(dataset, cache_file)
    second = check_dataset_feature_values(dataset, cache_file)
    assert not first['bad'] and second['read'] == 0, (first, second)
    gb = nbytes / 1e9
    return dict(videos=len(dataset), gb=round(gb, 3),
                first_s=round(first['seconds'], 3),
                first_gb_per_s=round(gb / max(first['seconds'], 1e-9), 2),
                cached_s=round(second['seconds'], 4),
                ratio_cached_to_first=round(
                    second['seconds'] / max(first['seconds'], 1e-9), 4))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--shared-data',
                        default=osp.join(osp.dirname(REPO), 'shared', 'data'))
    parser.add_argument('--split', default='validation',
                        choices=['validation', 'all'])
    parser.add_argument('--videos', type=int, default=138)
    parser.add_argument('--keep', help='write the set here and keep it')
    args = parser.parse_args()
    init_default_scope('mmaction')
    root = args.keep or tempfile.mkdtemp(prefix='bench_feature_checks_')
    try:
        durations = epic_durations(args.shared_data, args.split, args.videos)
        nbytes = write_epic_size(root, durations)
        start = time.perf_counter()
        epic = DATASETS.build(dict(
            type='Ego4DMQDataset', ann_file=osp.join(root, 'ann.json'),
            feat_dirs=osp.join(root, 'features'), feat_suffix='.npz',
            feat_dims=CHANNELS, feat_stride=STRIDE, num_frames=WINDOW,
            subset='val', test_mode=True, pipeline=[]))
        # what the pre-flight adds besides the check: one more build
        build_s = time.perf_counter() - start
        results = dict(epic_size=dict(timed_checks(
            epic, osp.join(root, 'work', 'feature_checks.json'), nbytes),
            dataset_build_s=round(build_s, 3)))
        demo_root = osp.join(root, 'demo')
        generate_demo_data(demo_root)
        demo = DATASETS.build(dict(type='DemoTADDataset', data_root=demo_root,
                                   pipeline=[], test_mode=True))
        demo_bytes = sum(os.path.getsize(osp.join(demo_root, 'features', f))
                         for f in os.listdir(osp.join(demo_root, 'features')))
        results['demo'] = timed_checks(
            demo, osp.join(root, 'work', 'demo_checks.json'), demo_bytes)
        print(json.dumps(results, indent=1))
    finally:
        if not args.keep:
            shutil.rmtree(root, ignore_errors=True)


if __name__ == '__main__':
    main()
