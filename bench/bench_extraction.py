"""Feature extraction throughput (clips / s): batched against batch size 1.

Writes a synthetic video (OpenCV ``VideoWriter``) and an MMAction2 X3D
recognizer config with random weights into a temporary folder, then runs
``RecognizerFeatureExtractor.extract`` (the code of
``tools/extract_features.py``: MMAction2's decoder and resize / crop, the
recognizer's data preprocessor and backbone, pooling) over the whole video
at each batch size, in the same process. Prints clips per second, the
speed-up over batch size 1, and checks that the features do not depend on
the batch size (the run fails otherwise).

Run: ``python bench/bench_extraction.py [--batch-sizes 1 4 16]
[--frames 240] [--size 112] [--gamma-w 0.5] [--decoder opencv]``
"""
import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / 'tests'))  # the video / recognizer writers
import asl_mmaction  # noqa: E402,F401
from asl_mmaction.apis import RecognizerFeatureExtractor  # noqa: E402
from video_fixtures import write_recognizer, write_video  # noqa: E402


def timed(extractors: dict, video: str, repeats: int):
    """Best wall time of each batch size over ``repeats`` rounds (after one
    warm-up run each), and its features. Rounds alternate the batch sizes,
    so a change of load on a shared machine hits them all alike."""
    feats = {size: ex.extract(video)[0] for size, ex in extractors.items()}
    best = {size: float('inf') for size in extractors}
    for _ in range(repeats):
        for size, extractor in extractors.items():
            start = time.perf_counter()
            extractor.extract(video)
            best[size] = min(best[size], time.perf_counter() - start)
    return best, feats


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--batch-sizes', type=int, nargs='+',
                        default=[1, 4, 16])
    parser.add_argument('--frames', type=int, default=240,
                        help='video length (30 fps)')
    parser.add_argument('--size', type=int, default=112,
                        help='frame height; the crop is 7/8 of it')
    parser.add_argument('--gamma-w', type=float, default=0.5,
                        help='X3D width factor (1 = X3D-S / M width)')
    parser.add_argument('--clip-len', type=int, default=8)
    parser.add_argument('--frame-interval', type=int, default=2)
    parser.add_argument('--feat-stride', type=int, default=8)
    parser.add_argument('--decoder', default='opencv',
                        choices=['opencv', 'decord'])
    parser.add_argument('--repeats', type=int, default=1)
    parser.add_argument('--threads', type=int, default=None)
    parser.add_argument('--device', default='cpu')
    args = parser.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    from mmengine.registry import init_default_scope
    init_default_scope('mmaction')

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        height = args.size
        video = write_video(folder / 'bench.mp4', args.frames,
                            size=(height * 4 // 3 // 16 * 16, height))
        crop = args.size * 7 // 8
        backbone = dict(type='X3D', gamma_w=args.gamma_w, gamma_b=2.25,
                        gamma_d=1.0)
        from mmaction.registry import MODELS
        channels = MODELS.build(backbone).feat_dim
        rec = write_recognizer(folder, backbone, channels,
                               clip_len=args.clip_len,
                               frame_interval=args.frame_interval,
                               decoder='Decord' if args.decoder == 'decord'
                               else 'OpenCV', crop=crop)
        sizes = [1] + [b for b in args.batch_sizes if b != 1]
        extractors = {b: RecognizerFeatureExtractor(
            rec['config'], rec['checkpoint'], feat_stride=args.feat_stride,
            batch_size=b, decoder=args.decoder, device=args.device)
            for b in sizes}
        grid = extractors[1].grid
        print(f'video: {args.frames} frames of {height}p at 30 fps; X3D '
              f'gamma_w={args.gamma_w} ({channels} channels), clip '
              f'{grid.clip_len} x {args.frame_interval} frames, '
              f'{crop}x{crop} crop, stride {grid.feat_stride}; decoder '
              f'{args.decoder}; torch threads {torch.get_num_threads()}; '
              f'best of {args.repeats}')
        print(f'{"batch":>6}{"clips/s":>10}{"x batch 1":>11}'
              f'{"max |diff|":>12}')
        seconds, feats = timed(extractors, str(video), args.repeats)
        ref_time, ref_feats, ok = seconds[1], feats[1], True
        steps = ref_feats.shape[0]
        for size in sizes:
            diff = float(np.abs(feats[size] - ref_feats).max())
            ok &= diff <= 1e-4 * max(1.0, float(np.abs(ref_feats).max()))
            print(f'{size:>6}{steps / seconds[size]:>10.1f}'
                  f'{ref_time / seconds[size]:>10.2f}x{diff:>12.2e}')
        print(f'{steps} clips per run; features independent of the batch '
              f'size: {"yes" if ok else "NO"}')
        if not ok:
            raise SystemExit(1)


if __name__ == '__main__':
    main()
