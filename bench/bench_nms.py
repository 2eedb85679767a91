"""Bench: ``batched_nms_1d`` on the EPIC-size workload, against the
previous implementation (padded rounds, frozen in
``tests/oracles/nms_padded_rounds.py``) run in the same process.

    OMP_NUM_THREADS=1 python bench/bench_nms.py [--reference-videos 16]

Workload (issue 15): 138 videos x 5,000 candidates as a dense head leaves
them (clustered around ~40 actions per 480 s video, labels Zipf over 97
classes, scores ``U**2``), ``min_score`` 0.001, 2,000 kept per video,
IoU threshold 0.1 for ``linear`` / ``hard``. Cases: per-class Gaussian
soft-NMS at sigma 0.4 (batch 1 and 8) and 0.9, linear, hard, and
class-agnostic Gaussian + voting (0.75).

For each case the new implementation runs on all videos (best of
``--repeat``); the reference, much slower, on the first
``--reference-videos`` (one run); the ratio compares time per video, and
the outputs on those videos must agree (same kept sets and scores within
1e-5 relative, near-equal scores aside; voting apart, since its rule
changed: the bench prints how far the new rule moves the voted
boundaries). It also prints the rounds of the first batch and the host
syncs that batch costs the way the NMS runs on a GPU (counted on CPU).
Times are the process's CPU time by default (``--wall`` for the wall
clock), one thread.

Results also go to ``bench/results/nms.json``.
"""
import argparse
import os
import os.path as osp
import sys
import time
from pathlib import Path

import torch

import asl_mmaction.post_processing.nms_1d as nms_module
from asl_mmaction.evaluation.functional import atomic_write_json
from asl_mmaction.post_processing import (batched_nms_1d, count_host_syncs,
                                          vote_boundaries)

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / 'tests'))  # the test oracles
from oracles import nms_1d_padded_rounds  # noqa: E402
from oracles.nms_padded_rounds import \
    vote_boundaries as previous_voting  # noqa: E402

CASES = [
    # (name, method, sigma, class_agnostic, voting_threshold, batch size)
    ('soft_gaussian s=0.4, per class', 'soft_gaussian', 0.4, False, 0., 1),
    ('soft_gaussian s=0.4, per class', 'soft_gaussian', 0.4, False, 0., 8),
    ('soft_gaussian s=0.9, per class', 'soft_gaussian', 0.9, False, 0., 1),
    ('soft_gaussian s=0.9, per class', 'soft_gaussian', 0.9, False, 0., 8),
    ('linear, per class', 'linear', 0.4, False, 0., 1),
    ('linear, per class', 'linear', 0.4, False, 0., 8),
    ('hard, per class', 'hard', 0.4, False, 0., 1),
    ('hard, per class', 'hard', 0.4, False, 0., 8),
    ('class-agnostic + voting', 'soft_gaussian', 0.4, True, 0.75, 1),
    ('class-agnostic + voting', 'soft_gaussian', 0.4, True, 0.75, 8),
]


def detector_like_candidates(seed, num_videos, per_video, num_classes,
                             duration=480.0, actions=40):
    """Candidates as a dense head leaves them before NMS: clustered around
    ``actions`` actions per video, labels Zipf-distributed over classes."""
    g = torch.Generator().manual_seed(seed)
    class_p = 1.0 / torch.arange(1, num_classes + 1).float()
    segs, scores, labels = [], [], []
    for _ in range(num_videos):
        centres = torch.rand(actions, generator=g) * duration
        widths = torch.rand(actions, generator=g) * 20 + 1
        action = torch.randint(0, actions, (per_video, ), generator=g)
        jitter = torch.randn(per_video, 2, generator=g) * 0.3
        mid = centres[action] + jitter[:, 0] * widths[action]
        half = widths[action] * (1 + jitter[:, 1]).clamp(min=0.2) / 2
        segs.append(torch.stack([mid - half, mid + half], 1))
        scores.append(torch.rand(per_video, generator=g)**2)
        labels.append(torch.multinomial(class_p, per_video, True,
                                        generator=g))
    return segs, scores, labels


def run_batches(fn, data, batch, kw):
    segs, scores, labels = data
    out = []
    for i in range(0, len(segs), batch):
        out += fn(segs[i:i + batch], scores[i:i + batch],
                  labels[i:i + batch], **kw)
    return out


CLOCK = time.process_time  # see --wall


def best_time(fn, repeat):
    best, out = float('inf'), None
    for _ in range(repeat):
        start = CLOCK()
        out = fn()
        best = min(best, CLOCK() - start)
    return best, out


def check_same(new, ref, what):
    """Same kept set and scores (1e-5 relative), matched by (label,
    segment): two near-equal scores may come out in either order, and at a
    video's cap a candidate within 1e-5 of the cut may swap with another.

    Returns:
        int: the number of such swaps at the cap.
    """
    swaps = 0
    for v, ((ns, nc, nl), (rs, rc, rl)) in enumerate(zip(new, ref)):
        assert torch.all(nc[:-1] >= nc[1:]), f'{what}: video {v} unsorted'
        found = [{(int(lab), float(seg[0]), float(seg[1])): float(c)
                  for seg, c, lab in zip(*out)}
                 for out in ((ns, nc, nl), (rs, rc, rl))]
        for key in found[0].keys() & found[1].keys():
            a, b = found[0][key], found[1][key]
            assert abs(a - b) <= 1e-5 * abs(b) + 1e-7, \
                f'{what}: video {v}: score {a} vs {b}'
        cut = min(nc.tolist() + rc.tolist(), default=0.0)
        for key in found[0].keys() ^ found[1].keys():
            score = found[0].get(key, found[1].get(key))
            assert abs(score - cut) <= 1e-5 * abs(cut), \
                f'{what}: video {v}: {key} kept by one only'
            swaps += 1
    return swaps


def voted_moves(kept, data, voting_threshold):
    """How far the new voting rule (score x IoU) moves each boundary from
    where the previous one (score only) put it, on the same kept
    segments."""
    moves = []
    for (segs, _, _), cand, cand_scores in zip(kept, data[0], data[1]):
        zeros = torch.zeros(len(segs), dtype=torch.long)
        new = vote_boundaries(segs, zeros, cand, cand_scores,
                              torch.zeros(len(cand), dtype=torch.long),
                              voting_threshold)
        old = previous_voting(segs, cand, cand_scores, voting_threshold)
        moves.append((new - old).abs().flatten())
    return torch.cat(moves)


def rounds_and_syncs(data, batch, kw):
    """Rounds of the first batch (the CPU way) and the host syncs it costs
    the way the NMS runs on a GPU (counted on CPU)."""
    rounds = []
    select = nms_module.select_in_rounds

    def counting(*args, **kwargs):
        out = select(*args, **kwargs)
        rounds.append(out[2])
        return out

    first = tuple(x[:batch] for x in data)
    nms_module.select_in_rounds = counting
    cpu_way = nms_module.per_round_sync
    try:
        batched_nms_1d(*first, **kw)
        nms_module.per_round_sync = lambda device: False
        with count_host_syncs() as syncs:
            batched_nms_1d(*first, **kw)
    finally:
        nms_module.select_in_rounds = select
        nms_module.per_round_sync = cpu_way
    return (rounds[0] if rounds else 0), len(syncs)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--videos', type=int, default=138)
    parser.add_argument('--candidates', type=int, default=5000)
    parser.add_argument('--reference-videos', type=int, default=16,
                        help='videos the (slow) reference runs on')
    parser.add_argument('--repeat', type=int, default=3)
    parser.add_argument('--cases', nargs='*', type=int,
                        help='indices into the case list (default all)')
    parser.add_argument('--wall', action='store_true',
                        help='time with the wall clock instead of the '
                        "process's CPU time (which other jobs on a shared "
                        'machine inflate less)')
    args = parser.parse_args(argv)
    global CLOCK
    CLOCK = time.perf_counter if args.wall else time.process_time
    torch.set_num_threads(int(os.environ.get('OMP_NUM_THREADS', '1')))
    data = detector_like_candidates(0, args.videos, args.candidates, 97)
    num_ref = min(args.reference_videos, args.videos)
    ref_data = tuple(x[:num_ref] for x in data)
    rows = []
    for index, (name, method, sigma, agnostic, voting, batch) in enumerate(
            CASES):
        if args.cases and index not in args.cases:
            continue
        kw = dict(method=method, iou_threshold=0.1, sigma=sigma,
                  min_score=0.001, max_per_video=2000,
                  class_agnostic=agnostic, voting_threshold=voting)
        t_new, _ = best_time(
            lambda: run_batches(batched_nms_1d, data, batch, kw), args.repeat)
        t_ref, ref = best_time(
            lambda: run_batches(nms_1d_padded_rounds, ref_data, batch, kw), 1)
        # Same output (voting, whose rule changed, compared apart).
        unvoted = dict(kw, voting_threshold=0.)
        swaps = check_same(
            run_batches(batched_nms_1d, ref_data, batch, unvoted),
            run_batches(nms_1d_padded_rounds, ref_data, batch, unvoted),
            f'{name} / batch {batch}')
        rounds, syncs = rounds_and_syncs(data, batch, kw)
        per_new, per_ref = t_new / args.videos, t_ref / num_ref
        row = dict(case=name, batch=batch, videos=args.videos,
                   candidates=args.candidates, new_s=t_new,
                   new_ms_per_video=per_new * 1e3,
                   reference_videos=num_ref,
                   reference_ms_per_video=per_ref * 1e3,
                   speedup=per_ref / per_new, swaps_at_cap=swaps,
                   rounds_first_batch=rounds,
                   gpu_way_host_syncs_first_batch=syncs)
        line = (f'NMS {name:<31} batch {batch}: {t_new:6.2f} s for '
                f'{args.videos} videos ({per_new * 1e3:6.2f} ms/video), '
                f'previous {per_ref * 1e3:7.2f} ms/video: '
                f'x{per_ref / per_new:5.1f}, same output ({swaps} near-tie '
                f'swaps at the cap); first batch: {rounds} rounds, {syncs} '
                'host syncs the GPU way')
        if voting:
            moved = voted_moves(
                run_batches(batched_nms_1d, ref_data, batch, unvoted),
                ref_data, voting)
            row.update(voted_boundary_move_max=float(moved.max()),
                       voted_boundary_move_mean=float(moved.mean()))
            line += (f'; voting by score x IoU instead of score moves the '
                     f'boundaries by {float(moved.mean()):.3f} on average, '
                     f'{float(moved.max()):.2f} at most')
        print(line, flush=True)
        rows.append(row)
    out = osp.join(REPO, 'bench', 'results', 'nms.json')
    atomic_write_json(dict(nms=rows, torch_threads=torch.get_num_threads()),
                      out)
    print(f'results written to {out}')


if __name__ == '__main__':
    main()
