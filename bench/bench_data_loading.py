"""Feature loading speed: .npy / .npz / HDF5, with and without the cache.

Writes ``--videos`` clips of ``--steps x --channels`` float32 features
(Ego4D size by default: 900 steps = 8 min at 1.875 steps/s, 2304 channels,
the SlowFast width) in each format to a temporary folder, then runs the
real ``Ego4DMQDataset`` + ``LoadTADFeatures`` + ``PackTADInputs`` pipeline
over them for ``--epochs`` + 1 epochs (the first, which fills the cache,
is not timed; the fastest later epoch is reported, the machine being
shared) and prints videos/s and steps/s, with the ratio to the reference run
(``.npy`` without cache) made in the same process.

Run: ``OMP_NUM_THREADS=1 python bench/bench_data_loading.py [--videos 32]``
"""
import argparse
import json
import os.path as osp
import sys
import tempfile
import time

import numpy as np

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))
from mmengine.registry import init_default_scope  # noqa: E402

import asl_mmaction  # noqa: E402,F401
from mmaction.registry import DATASETS  # noqa: E402

FPS, STRIDE, WINDOW = 30.0, 16, 32


def write_data(root: str, videos: int, steps: int, channels: int) -> None:
    """The same random clips as .npy files, .npz files and one HDF5 file."""
    import h5py
    rng = np.random.default_rng(0)
    duration = ((steps - 1) * STRIDE + WINDOW) / FPS
    ann = {}
    with h5py.File(osp.join(root, 'feats.h5'), 'w') as h5:
        for i in range(videos):
            name = f'clip_{i:04d}'
            feats = rng.normal(size=(steps, channels)).astype(np.float32)
            np.save(osp.join(root, 'npy', f'{name}.npy'), feats)
            np.savez(osp.join(root, 'npz', f'{name}.npz'), feats=feats)
            h5.create_dataset(name, data=feats)
            ann[name] = dict(subset='train', duration=duration, fps=FPS,
                             annotations=[dict(segment=[1.0, 5.0],
                                               label='a', label_id=0)])
    with open(osp.join(root, 'ann.json'), 'w') as f:
        json.dump(ann, f)


def run(root: str, fmt: str, cache: bool, epochs: int) -> float:
    """Seconds of the fastest epoch after a first, untimed one (which
    fills the cache)."""
    feats = (dict(feat_file='feats.h5') if fmt == 'hdf5' else
             dict(feat_dirs=fmt, feat_suffix=f'.{fmt}'))
    dataset = DATASETS.build(dict(
        type='Ego4DMQDataset', data_root=root, ann_file='ann.json',
        fps=FPS, feat_stride=STRIDE, num_frames=WINDOW, test_mode=True,
        pipeline=[dict(type='LoadTADFeatures', cache_features=cache),
                  dict(type='PackTADInputs')], **feats))
    times = []
    for _ in range(epochs + 1):
        start = time.perf_counter()
        for idx in range(len(dataset)):
            dataset[idx]
        times.append(time.perf_counter() - start)
    return min(times[1:])


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--videos', type=int, default=32)
    parser.add_argument('--steps', type=int, default=900)
    parser.add_argument('--channels', type=int, default=2304)
    parser.add_argument('--epochs', type=int, default=3)
    args = parser.parse_args()
    init_default_scope('mmaction')
    with tempfile.TemporaryDirectory() as root:
        import os
        os.makedirs(osp.join(root, 'npy'))
        os.makedirs(osp.join(root, 'npz'))
        write_data(root, args.videos, args.steps, args.channels)
        mb = args.videos * args.steps * args.channels * 4 / 2**20
        print(f'{args.videos} videos x {args.steps} steps x {args.channels} '
              f'channels ({mb:.0f} MiB per epoch), best of {args.epochs} '
              'epochs, '
              'files in the page cache after writing')
        reference = None
        for fmt in ('npy', 'npz', 'hdf5'):
            for cache in (False, True):
                seconds = run(root, fmt, cache, args.epochs)
                reference = reference or seconds
                print(f'{fmt:>5} cache={str(cache):<5} '
                      f'{args.videos / seconds:8.1f} videos/s '
                      f'{args.videos * args.steps / seconds:10.0f} steps/s  '
                      f'x{reference / seconds:5.2f} vs npy without cache')


if __name__ == '__main__':
    main()
