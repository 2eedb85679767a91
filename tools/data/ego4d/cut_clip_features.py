"""Cut Ego4D's per-video features into the per-clip files the dataset reads.

    python tools/data/ego4d/cut_clip_features.py \
        annotations/ego4d_clip_annotations.json \
        /path/to/v1/slowfast8x8_r101_k400 features/slowfast \
        [--in-suffix .pt] [--fps 30] [--feat-stride 16] [--num-frames 32]

Ego4D ships SlowFast / Omnivore features per canonical video
(``{video_uid}.pt``, ``[T, C]``, a 32-frame window every 16 frames at
30 fps). A clip starting ``parent_start_sec`` into its video begins at video
step ``round(parent_start_sec * fps / feat_stride)`` (off by at most half a
step, 0.27 s) and has as many steps as windows fit in its duration. Writes
``{clip_uid}.npy`` (float32 ``[T, C]``) per clip of the annotation file
(either Ego4D layout).
"""
import argparse
import os
import os.path as osp
import sys

import numpy as np
from tqdm import tqdm

sys.path.insert(0, osp.dirname(osp.dirname(osp.dirname(osp.dirname(
    osp.abspath(__file__))))))
from asl_mmaction.datasets.annotation_files import read_json  # noqa: E402
from asl_mmaction.datasets.ego4d_annotations import (  # noqa: E402
    detect_layout, parse_clip_layout, parse_moments_layout)
from asl_mmaction.datasets.feature_io import (load_array,  # noqa: E402
                                              make_source)
from asl_mmaction.datasets.tad_errors import TADDataError  # noqa: E402
from asl_mmaction.utils.cli import add_debug_arg, run_main  # noqa: E402


def clip_steps(start_sec: float, duration: float, fps: float, stride: float,
               window: float, video_len: int):
    """``(first, stop)`` video steps of a clip, clamped to the video."""
    first = int(round(start_sec * fps / stride))
    count = max(int((duration * fps - window) // stride) + 1, 1)
    first = min(max(first, 0), max(video_len - 1, 0))
    return first, min(first + count, video_len)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('ann_file')
    parser.add_argument('video_feat_dir')
    parser.add_argument('out_dir')
    parser.add_argument('--in-suffix', default='.pt')
    parser.add_argument('--fps', type=float, default=30.0)
    parser.add_argument('--feat-stride', type=float, default=16)
    parser.add_argument('--num-frames', type=float, default=32)
    add_debug_arg(parser)
    args = parser.parse_args(argv)
    data = read_json(args.ann_file)
    records = (parse_moments_layout(data, args.ann_file)
               if detect_layout(data, args.ann_file) == 'moments' else
               parse_clip_layout(data, args.ann_file))
    os.makedirs(args.out_dir, exist_ok=True)
    videos, written = {}, 0
    for rec in tqdm(records, desc='cut clips', unit='clip'):
        video_uid = rec['info']['video_id']
        if video_uid is None:
            raise TADDataError(f"clip {rec['video_name']}: no video_id")
        if video_uid not in videos:
            videos.clear()  # clips of one video are listed together
            videos[video_uid] = load_array(make_source(osp.join(
                args.video_feat_dir, video_uid + args.in_suffix)))
        feats = videos[video_uid]
        first, stop = clip_steps(rec['info']['parent_start_sec'] or 0.0,
                                 rec['duration'], args.fps, args.feat_stride,
                                 args.num_frames, len(feats))
        np.save(osp.join(args.out_dir, rec['video_name'] + '.npy'),
                feats[first:stop])
        written += 1
    print(f'wrote {written} clip feature files to {args.out_dir}')
    return 0


if __name__ == '__main__':
    sys.exit(run_main(main))
