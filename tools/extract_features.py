"""Extract clip features of videos with any MMAction2 recognizer.

    python tools/extract_features.py RECOGNIZER_CONFIG CHECKPOINT \\
        VIDEOS [VIDEOS ...] --out-dir FEATURES [--fps 30] [--feat-stride 16]
        [--num-frames N] [--clip-len L] [--batch-size 16]
        [--decoder auto|opencv|decord] [--device cuda:0] [--overwrite]
    # several processes / GPUs, each taking a share of the videos:
    torchrun --nproc_per_node 4 tools/extract_features.py ... \\
        --launcher pytorch

``VIDEOS``: video files, folders (searched recursively) or ``.txt`` lists
(MMAction2's video lists: first field per line, relative to
``--video-root``). ``CHECKPOINT``: a path or URL (MMEngine's loader), or
``none`` for random weights. Each video ``<name>.<ext>`` gives
``FEATURES/<name>.npy`` (``float32 [T, C]``, one row every ``feat_stride``
frames at ``fps``, from a window of ``num_frames`` frames) and
``FEATURES/<name>.npy.json``, the sidecar with that grid, the video and the
recognizer, which the datasets and ``tools/infer.py`` read. A rerun skips
the videos already done; a video that cannot be decoded is named and
skipped (exit status 3 at the end when any failed). Bad input (a missing
video list, a folder holding features of other settings, an unusable test
pipeline) stops the run before any work, as one message (status 1;
``--debug`` for the traceback).

The clip is the recognizer's: its test pipeline's decoder, ``clip_len`` and
``frame_interval`` (window ``num_frames = clip_len * frame_interval`` unless
given), resize and crop (multi-view crops become one centre crop) and input
format; features are the backbone output averaged over time and space
(MMAction2's ``FeatureHead``).
"""
import argparse
import os
import os.path as osp
import sys

import torch

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))
import asl_mmaction  # noqa: E402,F401
from asl_mmaction.apis import (RecognizerFeatureExtractor,  # noqa: E402
                               extract_videos, list_videos)
from asl_mmaction.utils.cli import add_debug_arg, run_main  # noqa: E402


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description='Clip features of videos from an MMAction2 recognizer')
    parser.add_argument('config', help='MMAction2 recognizer config')
    parser.add_argument('checkpoint',
                        help="its checkpoint (path or URL; 'none': random)")
    parser.add_argument('videos', nargs='+',
                        help='video files, folders or .txt video lists')
    parser.add_argument('--out-dir', required=True, help='feature folder')
    parser.add_argument('--video-root', help='root of relative list entries')
    parser.add_argument('--fps', type=float,
                        help="frame rate of the grid (default: each video's)")
    parser.add_argument('--feat-stride', type=int, default=16,
                        help='frames between two features (default 16)')
    parser.add_argument('--num-frames', type=int,
                        help='frames in one feature window (default: the '
                        "pipeline's clip_len x frame_interval)")
    parser.add_argument('--clip-len', type=int,
                        help="frames given to the recognizer per window "
                        "(default: the pipeline's)")
    parser.add_argument('--batch-size', type=int, default=16,
                        help='clips per forward pass')
    parser.add_argument('--decoder', choices=['auto', 'opencv', 'decord'],
                        help="default: the pipeline's (OpenCV when decord "
                        'is not installed)')
    parser.add_argument('--device', help='default: cuda when available')
    parser.add_argument('--overwrite', action='store_true',
                        help='extract again videos already done')
    parser.add_argument('--no-progress', action='store_true')
    parser.add_argument('--launcher', choices=['none', 'pytorch'],
                        default='none', help='job launcher')
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)
    add_debug_arg(parser)
    return parser.parse_args(argv)


def setup_processes(launcher: str):
    """``(rank, world_size, device)``; starts the process group."""
    if launcher == 'none':
        return 0, 1, None
    import torch.distributed as dist
    from mmengine.config import Config
    from asl_mmaction.utils.dist_utils import local_rank, prepare_distributed
    if torch.cuda.is_available():
        from mmengine.dist import init_dist
        init_dist(launcher, backend='nccl')
        device = f'cuda:{local_rank()}'
    else:  # gloo on CPU, as tools/train.py does
        prepare_distributed(Config(), launcher)
        device = 'cpu'
    return dist.get_rank(), dist.get_world_size(), device


def gather(summary: dict, world_size: int) -> dict:
    """Every process's summary, merged (on every process)."""
    if world_size == 1:
        return summary
    import torch.distributed as dist
    parts = [None] * world_size
    dist.all_gather_object(parts, summary)
    return {k: [x for part in parts for x in part[k]] for k in summary}


def extract(argv=None) -> dict:
    """Run the extraction; returns the merged summary (``written``,
    ``skipped``, ``failed``). Bad input raises (``TADDataError`` /
    ``ToolError``)."""
    args = parse_args(argv)
    os.environ.setdefault('LOCAL_RANK', str(args.local_rank))
    rank, world_size, device = setup_processes(args.launcher)
    device = args.device or device or (
        'cuda' if torch.cuda.is_available() else 'cpu')
    clean = False
    try:
        videos = list_videos(args.videos, args.video_root)
        extractor = RecognizerFeatureExtractor(
            args.config,
            None if args.checkpoint.lower() == 'none' else args.checkpoint,
            feat_stride=args.feat_stride, num_frames=args.num_frames,
            clip_len=args.clip_len, fps=args.fps,
            batch_size=args.batch_size, decoder=args.decoder, device=device)
        if rank == 0:
            grid = extractor.grid
            print(f'{len(videos)} video(s) -> {args.out_dir}: '
                  f'{extractor.backbone_type}, one feature every '
                  f'{grid.feat_stride} frames from a {grid.num_frames}-frame '
                  f'window ({grid.clip_len} frames given), fps '
                  f'{grid.fps or "of each video"}, decoder '
                  f'{extractor.decoder}, {world_size} process(es)',
                  flush=True)
        summary = extract_videos(
            extractor, videos, args.out_dir, overwrite=args.overwrite,
            rank=rank, world_size=world_size,
            progress=not args.no_progress,
            log=lambda msg: print(msg, file=sys.stderr, flush=True))
        summary = gather(summary, world_size)
        clean = True
    finally:
        if args.launcher != 'none':
            from asl_mmaction.utils.dist_utils import shutdown_distributed
            shutdown_distributed(clean)
    if rank == 0:
        print(f"written {len(summary['written'])}, skipped (already done) "
              f"{len(summary['skipped'])}, failed {len(summary['failed'])}")
        for name, reason in summary['failed']:
            print(f'  FAILED {name}: {reason}')
    return summary


def main(argv=None) -> int:
    """Exit status: 0, 3 when a video failed (the others are written), 1
    on bad input (printed as one block by ``run_main``)."""
    return 3 if extract(argv)['failed'] else 0


if __name__ == '__main__':
    sys.exit(run_main(main))
