"""Batched inference throughput against batch size 1, same detections.

``--size epic`` (the EPIC config: 2304-d input, 512-d pyramid, 97
classes; videos with EPIC-Kitchens-100 validation lengths from
``../shared/data``) or ``--size demo`` (the demo model, 150-375 steps).
The detector has random weights with trained-like norms (every LayerNorm
weight / bias and scale drawn away from its initial value, so a padding
leak would show), eval mode. Videos run through the real
``ASLDataPreprocessor`` and ``model(..., mode='predict')`` in the order the
test dataloader uses (``LengthSortedSampler``: longest first, so a batch
holds videos of similar length; ``--unsorted`` keeps a random order).
The detector runs each batch as length buckets (``predict_max_padding``,
``auto`` by default: 0 on the CPU); ``--max-padding 0.1`` allows 10 % extra
work per call, ``--max-padding none`` runs every batch as one padded call
(at EPIC size, 16 videos, batch 8 then costs 3.3x batch 1 per video).

Prints videos / second, the speed relative to batch size 1 (timed in the
same process; above 1 means a video costs less in a batch), and checks
that every video's predictions are the same (allclose) whatever the batch
size. "same set" compares the detections in any order (the check that
fails the run); "same order" also asks for the same ranking, which
near-tied scores can swap.

Run: ``python bench/bench_inference.py --size epic [--batch-sizes 1 8]``
"""
import argparse
import os.path as osp
import sys
import time

import torch
from mmengine.config import Config
from mmengine.registry import init_default_scope
from mmengine.structures import InstanceData

import asl_mmaction  # noqa: F401  (registers the components)
from asl_mmaction.structures import TADDataSample
from mmaction.registry import MODELS

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
sys.path.insert(0, osp.join(REPO, 'tests'))
from oracles import randomize_norms  # noqa: E402
FPS, FEAT_STRIDE, NUM_FRAMES = 30.0, 16.0, 16
SIZES = dict(
    demo=dict(config='configs/asl/asl_demo.py', channels=32),
    epic=dict(config='configs/actionformer/'
              'actionformer_epic_kitchens_100_verb.py', channels=2304))
EPIC_VAL = osp.join(osp.dirname(REPO), 'shared', 'data', 'epic_kitchens_100')


def epic_val_lengths() -> list:
    """Feature lengths (1.875 per second) of the EPIC-Kitchens-100
    validation videos."""
    import csv
    with open(osp.join(EPIC_VAL, 'EPIC_100_validation.csv')) as f:
        val = {r['video_id'] for r in csv.DictReader(f)}
    with open(osp.join(EPIC_VAL, 'EPIC_100_video_info.csv')) as f:
        return [int(float(r['duration']) * FPS / FEAT_STRIDE)
                for r in csv.DictReader(f) if r['video_id'] in val]


def make_videos(lengths, channels: int, seed: int):
    """``(features [C, T], TADDataSample)`` pairs of the given lengths."""
    gen = torch.Generator().manual_seed(seed)
    videos = []
    for i, length in enumerate(lengths):
        feats = torch.randn(channels, length, generator=gen)
        sample = TADDataSample(metainfo=dict(
            video_name=f'bench_{i:03d}',
            duration=length * FEAT_STRIDE / FPS,
            fps=FPS, feat_stride=FEAT_STRIDE,
            feat_offset=0.5 * NUM_FRAMES / FEAT_STRIDE,
            feat_len=length, crop_start=0))
        gt = InstanceData()  # unlabelled test data: empty ground truth
        gt.segments_in_steps = torch.zeros(0, 2)
        gt.labels = torch.zeros(0, dtype=torch.long)
        sample.gt_instances = gt
        videos.append((feats, sample))
    return videos


@torch.no_grad()
def predict_all(model, videos, batch_size: int):
    """Predictions of every video, in order, as ``(segs, scores, labels)``."""
    preds = []
    for start in range(0, len(videos), batch_size):
        chunk = videos[start:start + batch_size]
        data = model.data_preprocessor(
            dict(inputs=[v[0] for v in chunk],
                 data_samples=[v[1].clone() for v in chunk]), False)
        for sample in model(**data, mode='predict'):
            pred = sample.pred_instances
            preds.append((pred.segments, pred.scores, pred.labels))
    return preds


def same_predictions(a, b, atol: float) -> bool:
    """Same detections, up to ``atol``, in any order.

    Scores of an untrained model are nearly tied (all close to the prior),
    so float noise of order 1e-7 from a different padding can swap two
    neighbours in the ranked list; the set of detections must not change.
    """
    (sa, ca, la), (sb, cb, lb) = a, b
    if len(ca) != len(cb):
        return False
    if len(ca) == 0:
        return True
    gap = torch.maximum((sa[:, None] - sb[None]).abs().amax(dim=-1),
                        (ca[:, None] - cb[None]).abs())
    close = (gap <= atol) & (la[:, None] == lb[None])  # [Na, Nb]
    return bool(close.any(dim=1).all() and close.any(dim=0).all())


def unmatched(a, b, atol: float) -> str:
    """Which detections of ``a`` have no match in ``b``: count, their best
    score and ``a``'s lowest kept score (near-tied scores at the cut)."""
    (sa, ca, la), (sb, cb, lb) = a, b
    if len(ca) == 0 or len(cb) == 0:
        return f'{len(ca)} vs {len(cb)} detections'
    gap = torch.maximum((sa[:, None] - sb[None]).abs().amax(dim=-1),
                        (ca[:, None] - cb[None]).abs())
    alone = ~((gap <= atol) & (la[:, None] == lb[None])).any(dim=1)
    return (f'{int(alone.sum())} of {len(ca)} unmatched, best score '
            f'{float(ca[alone].max()) if alone.any() else 0:.3g}, lowest '
            f'kept {float(ca.min()):.3g}')


def same_order(a, b, atol: float) -> bool:
    (sa, ca, la), (sb, cb, lb) = a, b
    return (sa.shape == sb.shape and torch.equal(la, lb)
            and torch.allclose(sa, sb, atol=atol)
            and torch.allclose(ca, cb, atol=atol))


def timed(model, videos, batch_size: int, repeats: int):
    """Best wall time over ``repeats`` runs (after one warm-up) and the
    predictions."""
    preds = predict_all(model, videos, batch_size)
    best = float('inf')
    for _ in range(repeats):
        start = time.perf_counter()
        predict_all(model, videos, batch_size)
        best = min(best, time.perf_counter() - start)
    return best, preds


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--size', choices=sorted(SIZES), default='demo')
    parser.add_argument('--num-videos', type=int, default=None,
                        help='default: 32 (demo), 16 (epic)')
    parser.add_argument('--unsorted', action='store_true',
                        help='random order instead of longest first')
    parser.add_argument('--batch-sizes', type=int, nargs='+',
                        default=[1, 4, 8, 16])
    parser.add_argument('--repeats', type=int, default=3)
    parser.add_argument('--atol', type=float, default=1e-4)
    parser.add_argument('--threads', type=int, default=None,
                        help='torch.set_num_threads (default: torch\'s)')
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--max-padding', default='auto',
                        help='the detector\'s predict_max_padding: a number, '
                        '"auto" or "none"')
    args = parser.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)

    init_default_scope('mmaction')
    torch.manual_seed(args.seed)
    size = SIZES[args.size]
    model = randomize_norms(
        MODELS.build(Config.fromfile(osp.join(REPO, size['config'])).model),
        args.seed)
    model.predict_max_padding = (
        None if args.max_padding == 'none' else args.max_padding
        if args.max_padding == 'auto' else float(args.max_padding))
    model.eval()
    gen = torch.Generator().manual_seed(args.seed)
    if args.size == 'epic':
        pool = epic_val_lengths()
        num = args.num_videos or 16
        pick = torch.randperm(len(pool), generator=gen)[:num].tolist()
        lengths = [pool[i] for i in pick]
    else:
        num = args.num_videos or 32
        lengths = torch.randint(150, 376, (num, ), generator=gen).tolist()
    if not args.unsorted:  # the order LengthSortedSampler gives
        lengths = sorted(lengths, reverse=True)
    videos = make_videos(lengths, size['channels'], args.seed)
    sizes = [1] + [b for b in args.batch_sizes if b != 1]
    order = 'random order' if args.unsorted else 'longest first'
    print(f'{args.size} model, {num} videos of {min(lengths)}-'
          f'{max(lengths)} steps ({order}); predict_max_padding '
          f'{model.predict_max_padding}; torch threads '
          f'{torch.get_num_threads()}; best of {args.repeats}')
    print(f'{"batch":>6}{"videos/s":>11}{"x batch 1":>11}'
          f'{"same set":>12}{"same order":>12}{"preds/video":>13}')
    ref_time, ref_preds = None, None
    all_same = True
    for size in sizes:
        seconds, preds = timed(model, videos, size, args.repeats)
        if ref_preds is None:
            ref_time, ref_preds = seconds, preds
        same = sum(same_predictions(p, r, args.atol)
                   for p, r in zip(preds, ref_preds))
        ordered = sum(same_order(p, r, args.atol)
                      for p, r in zip(preds, ref_preds))
        all_same &= same == len(videos)
        mean_preds = sum(len(p[1]) for p in preds) / len(preds)
        print(f'{size:>6}{len(videos) / seconds:>11.1f}'
              f'{ref_time / seconds:>11.2f}{f"{same}/{len(videos)}":>12}'
              f'{f"{ordered}/{len(videos)}":>12}{mean_preds:>13.1f}')
        for i, (p, r) in enumerate(zip(preds, ref_preds)):
            if not same_predictions(p, r, args.atol):
                print(f'    video {i} ({lengths[i]} steps): '
                      f'{unmatched(p, r, args.atol)}')
    if not all_same:
        raise SystemExit('predictions differ between batch sizes')
    print(f'every video: the same detections (allclose, atol {args.atol}) '
          'at every batch size')


if __name__ == '__main__':
    main()
