"""Time one training step's label assignment at the EPIC-Kitchens size.

Batch 2, max_seq_len 2304, strides 1..32 (4536 points), 30-60 segments per
video, 97 classes. Compares the vectorised ``assign_targets`` with

* ``assign_targets_loop``: the plain reference (one video, one segment at
  a time), and
* ActionFormer's granularity: the vectorised assigner called once per
  video (what ``label_points_single_video`` does),

asserts identical targets and prints the speed-ups.

Run: ``OMP_NUM_THREADS=1 python bench/bench_label_assignment.py``
"""
import argparse
import sys
import time
from pathlib import Path

import torch

from asl_mmaction.models.task_modules import PointGenerator1D, assign_targets

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / 'tests'))
from oracles import assign_targets_loop  # noqa: E402

STRIDES = (1, 2, 4, 8, 16, 32)
RANGES = ((0, 4), (4, 8), (8, 16), (16, 32), (32, 64), (64, 10000))


def epic_like_batch(batch_size, seq_len, num_classes, gen):
    """Random segments with EPIC-like counts and lengths (steps)."""
    counts = torch.randint(30, 61, (batch_size, ), generator=gen)
    num = int(counts.max())
    segs = torch.zeros(batch_size, num, 2)
    labels = torch.randint(num_classes, (batch_size, num), generator=gen)
    valid = torch.arange(num)[None] < counts[:, None]
    start = torch.rand(batch_size, num, generator=gen) * seq_len * 0.95
    # mostly short actions, a few long ones
    length = torch.rand(batch_size, num, generator=gen).pow(3) * 200 + 0.5
    segs[..., 0] = start
    segs[..., 1] = (start + length).clamp(max=seq_len)
    return segs, labels, valid


def per_video(points, segs, labels, valid, num_classes):
    outs = [assign_targets(points, segs[b:b + 1], labels[b:b + 1],
                           valid[b:b + 1], num_classes)
            for b in range(segs.shape[0])]
    return tuple(torch.cat(parts) for parts in zip(*outs))


def best_time(fn, repeats):
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - start)
    return min(times), out


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--batch-size', type=int, default=2)
    parser.add_argument('--seq-len', type=int, default=2304)
    parser.add_argument('--num-classes', type=int, default=97)
    parser.add_argument('--repeats', type=int, default=5)
    parser.add_argument('--device', default='cpu')
    args = parser.parse_args()

    gen = torch.Generator().manual_seed(0)
    points = PointGenerator1D(STRIDES, RANGES)(
        [args.seq_len // s for s in STRIDES], device=args.device)
    batch = [x.to(args.device) for x in epic_like_batch(
        args.batch_size, args.seq_len, args.num_classes, gen)]
    k = args.num_classes

    t_fast, fast = best_time(lambda: assign_targets(points, *batch, k),
                             args.repeats)
    t_video, video = best_time(lambda: per_video(points, *batch, k),
                               args.repeats)
    t_loop, loop = best_time(lambda: assign_targets_loop(points, *batch, k),
                             args.repeats)
    for a, b, c in zip(fast, video, loop):
        assert torch.equal(a, b) and torch.equal(a, c), 'targets differ'

    print(f'points {points.shape[0]}, segments per video '
          f'{batch[2].sum(1).tolist()}, classes {k}, '
          f'positives {int(fast[2].sum())}, threads '
          f'{torch.get_num_threads()}, device {args.device}')
    print(f'vectorised (batch at once)   {t_fast * 1e3:8.2f} ms')
    print(f'same, called once per video  {t_video * 1e3:8.2f} ms  '
          f'({t_video / t_fast:.1f}x slower)')
    print(f'loop reference               {t_loop * 1e3:8.2f} ms  '
          f'({t_loop / t_fast:.1f}x slower)')
    print(f'speed-up over the loop reference: {t_loop / t_fast:.1f}x')


if __name__ == '__main__':
    main()
