"""Detect actions in new feature files with a trained detector.

    python tools/infer.py CONFIG CHECKPOINT FEAT [FEAT ...]
        [--fps 30] [--feat-stride 16] [--num-frames 32] [--feat-layout TC]
        [--npz-key feats] [--score-thr 0.1] [--top-k 20] [--batch-size 8]
        [--out detections.json]

Feature files are read as the config's test dataset reads them (``.npy``,
``.npz``, ``.pt``; time-first ``[T, C]`` by default) and go through the same
``LoadTADFeatures`` step (resizing, down-sampling) and the model's test
pipeline. Times are in seconds; the video length is taken from the number of
features. Class names come from the checkpoint (``meta.dataset_meta``).
"""
import argparse
import json
import os
import os.path as osp
import sys

import numpy as np
import torch
from mmengine.config import Config
from mmengine.dataset import pseudo_collate
from mmengine.registry import init_default_scope
from mmengine.runner import load_checkpoint
from tqdm import tqdm

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))
import asl_mmaction  # noqa: E402,F401
from asl_mmaction.datasets.feature_io import make_source, peek_shape  # noqa
from asl_mmaction.utils import trust_checkpoint  # noqa: E402
from mmaction.registry import MODELS, TRANSFORMS  # noqa: E402


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description='Detect actions in features')
    parser.add_argument('config')
    parser.add_argument('checkpoint')
    parser.add_argument('features', nargs='+', help='feature files')
    parser.add_argument('--fps', type=float, help='default: from the config')
    parser.add_argument('--feat-stride', type=float)
    parser.add_argument('--num-frames', type=float)
    parser.add_argument('--feat-layout', choices=['TC', 'CT'])
    parser.add_argument('--npz-key', default='feats')
    parser.add_argument('--score-thr', type=float, default=0.1)
    parser.add_argument('--top-k', type=int, default=20,
                        help='detections printed / saved per video')
    parser.add_argument('--batch-size', type=int, default=8)
    parser.add_argument('--device', default='cpu')
    parser.add_argument('--out', help='write detections to this JSON file')
    return parser.parse_args(argv)


def feature_settings(cfg: Config, args) -> dict:
    """Feature timing from the flags, else from the config's test set."""
    ds = cfg.test_dataloader.dataset
    return dict(
        fps=args.fps or ds.get('fps') or 30.0,
        feat_stride=args.feat_stride or ds.get('feat_stride', 16),
        num_frames=args.num_frames or ds.get('num_frames') or ds.get(
            'feat_stride', 16),
        layout=args.feat_layout or ds.get('feat_layout', 'TC'),
        resize_length=ds.get('resize_length'),
        downsample_rate=ds.get('downsample_rate', 1))


def build_sample(path: str, settings: dict, npz_key: str) -> dict:
    """The dataset-style record ``LoadTADFeatures`` expects for one file."""
    source = make_source(path, key=npz_key, layout=settings['layout'])
    num_steps = peek_shape(source)[0]
    duration = ((num_steps - 1) * settings['feat_stride'] +
                settings['num_frames']) / settings['fps']
    name = osp.splitext(osp.basename(path))[0]
    return dict(
        video_name=name, duration=duration, fps=settings['fps'],
        feat_sources=[source],
        feat_cfg=dict(feat_stride=settings['feat_stride'],
                      num_frames=settings['num_frames'], feat_dims=None,
                      length_align='crop',
                      resize_length=settings['resize_length'],
                      downsample_rate=settings['downsample_rate']),
        segments=np.zeros((0, 2)), labels=np.zeros(0, dtype=np.int64),
        ann_segments=np.zeros((0, 2)), ann_labels=np.zeros(0, np.int64))


def load_model(cfg: Config, checkpoint: str, device: str):
    model = MODELS.build(cfg.model)
    trust_checkpoint(checkpoint)  # named on the command line
    ckpt = load_checkpoint(model, checkpoint, map_location='cpu',
                           logger='silent')
    classes = ckpt.get('meta', {}).get('dataset_meta', {}).get('classes')
    return model.to(device).eval(), classes


def main(argv=None):
    args = parse_args(argv)
    cfg = Config.fromfile(args.config)
    init_default_scope(cfg.get('default_scope', 'mmaction'))
    model, classes = load_model(cfg, args.checkpoint, args.device)
    settings = feature_settings(cfg, args)
    loader = TRANSFORMS.build(dict(type='LoadTADFeatures'))
    packer = TRANSFORMS.build(dict(type='PackTADInputs'))
    records = [build_sample(p, settings, args.npz_key) for p in args.features]
    detections = {}
    bar = tqdm(total=len(records), desc='infer', unit='video')
    for start in range(0, len(records), args.batch_size):
        batch = [packer(loader(dict(r)))
                 for r in records[start:start + args.batch_size]]
        with torch.no_grad():
            outputs = model.test_step(pseudo_collate(batch))
        for out in outputs:
            pred = out.pred_instances
            keep = (pred.scores >= args.score_thr).nonzero().flatten()
            keep = keep[:args.top_k]
            detections[out.metainfo['video_name']] = [
                dict(label=classes[int(label)] if classes else int(label),
                     label_id=int(label), score=round(float(score), 4),
                     segment=[round(float(s), 2), round(float(e), 2)])
                for (s, e), score, label in zip(
                    pred.segments[keep].tolist(), pred.scores[keep],
                    pred.labels[keep])]
        bar.update(len(batch))
    bar.close()
    for name, dets in detections.items():
        print(f'{name}: {len(dets)} action(s)')
        for det in dets:
            print(f'  {det["segment"][0]:8.2f}s - {det["segment"][1]:8.2f}s  '
                  f'{det["label"]}  ({det["score"]:.3f})')
    if args.out:
        tmp = f'{args.out}.tmp{os.getpid()}'
        with open(tmp, 'w') as f:
            json.dump(detections, f, indent=1)
        os.replace(tmp, args.out)
        print(f'detections written to {args.out}')
    return detections


if __name__ == '__main__':
    main()
