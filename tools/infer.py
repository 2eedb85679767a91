"""Detect actions in videos or feature files with a trained detector.

    # videos, through any MMAction2 recognizer (features cached, reused)
    python tools/infer.py CONFIG CHECKPOINT video1.mp4 video2.mp4 \\
        --extractor RECOGNIZER_CONFIG --extractor-ckpt RECOGNIZER_CKPT \\
        [--feat-dir DIR] --out dets.json --show
    # videos, with an end-to-end detector (configs/end2end/): no extractor
    python tools/infer.py CONFIG CHECKPOINT video.mp4 --out dets.json
    # feature files (.npy / .npz / .pt / MMAction2 .pkl)
    python tools/infer.py CONFIG CHECKPOINT feats1.npy feats2.npy
        [--fps 30] [--feat-stride 16] [--num-frames 32] [--feat-layout TC]
        [--npz-key feats] [--top-k 10] [--score-thr S] [--batch-size 4]

Prints, per video, the ``--top-k`` best detections (class name, start and
end in seconds, score) and writes them to ``--out`` (JSON ``{video:
[{label, label_id, score, segment: [start, end]}]}``); ``--show`` draws one
timeline PNG per video next to it. There is no score threshold unless
``--score-thr`` is given: a model's scores depend on its training, and a
fixed threshold can hide every detection.

The feature grid (fps, ``feat_stride``, ``num_frames``, and the video's
duration) comes from each feature file's sidecar (``<file>.json``, written
by ``tools/extract_features.py``) when it has one, else from the flags, else
from the config's test dataset; a flag that contradicts a sidecar is an
error. Feature channels are checked against the model before anything runs.
Class names come from the checkpoint (``meta.dataset_meta``). Bad input is
reported as one message naming the file (exit status 1; ``--debug`` for the
traceback).
"""
import argparse
import os
import os.path as osp
import sys
from typing import Dict, List, Optional

import numpy as np
import torch
from mmengine.config import Config
from mmengine.dataset import Compose, pseudo_collate
from mmengine.registry import init_default_scope
from mmengine.runner import load_checkpoint
from tqdm import tqdm

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))
import asl_mmaction  # noqa: E402,F401
from asl_mmaction.datasets.feature_io import (make_source,  # noqa: E402
                                              peek_shape, read_sidecar)
from asl_mmaction.datasets.tad_errors import TADDataError  # noqa: E402
from asl_mmaction.datasets.video_snippets import VIDEO_SUFFIXES  # noqa
from asl_mmaction.utils import trusted_checkpoints  # noqa: E402
from asl_mmaction.utils.atomic_files import atomic_write_json  # noqa: E402
from asl_mmaction.utils.cli import add_debug_arg, run_main  # noqa: E402
from mmaction.registry import MODELS, TRANSFORMS  # noqa: E402

END_TO_END_BACKBONES = ('VideoSnippetEncoder', )


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description='Detect actions in videos or feature files')
    parser.add_argument('config')
    parser.add_argument('checkpoint')
    parser.add_argument('inputs', nargs='+',
                        help='videos (.mp4, .avi, ...) or feature files')
    parser.add_argument('--extractor', help='MMAction2 recognizer config '
                        'whose features the detector was trained on')
    parser.add_argument('--extractor-ckpt', help='its checkpoint (path/URL)')
    parser.add_argument('--feat-dir', help='where features of videos are '
                        'extracted and reused (default: work_dirs/'
                        'infer_features/<extractor config name>)')
    parser.add_argument('--decoder', choices=['auto', 'opencv', 'decord'])
    parser.add_argument('--extract-batch-size', type=int, default=16)
    parser.add_argument('--fps', type=float, help='default: sidecar, config')
    parser.add_argument('--feat-stride', type=float)
    parser.add_argument('--num-frames', type=float)
    parser.add_argument('--feat-layout', choices=['TC', 'CT'])
    parser.add_argument('--npz-key', default='feats')
    parser.add_argument('--score-thr', type=float, default=None,
                        help='drop detections below it (default: none)')
    parser.add_argument('--top-k', type=int, default=10,
                        help='detections printed / saved per video')
    parser.add_argument('--batch-size', type=int, default=4)
    parser.add_argument('--device', default='cpu')
    parser.add_argument('--out', help='write detections to this JSON file')
    parser.add_argument('--show', action='store_true',
                        help='a timeline PNG per video next to --out')
    add_debug_arg(parser)
    return parser.parse_args(argv)


def is_video(path: str) -> bool:
    return path.lower().endswith(VIDEO_SUFFIXES)


# ------------------------------------------------------------ feature files
def video_name_of(path: str) -> str:
    """``v.npy`` -> ``v``; MMAction2's ``v.mp4.pkl`` -> ``v``."""
    name = osp.splitext(osp.basename(path))[0]
    return osp.splitext(name)[0] if is_video(name) else name


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


def settings_of_file(path: str, settings: dict, args) -> dict:
    """``settings`` with the grid of ``path``'s sidecar, if it has one;
    a flag that says otherwise is an error naming the file."""
    meta = read_sidecar(path)
    if meta is None:
        return dict(settings, duration=None)
    for key, flag in (('fps', args.fps), ('feat_stride', args.feat_stride),
                      ('num_frames', args.num_frames)):
        if flag is not None and abs(float(flag) - float(meta[key])) > 1e-6:
            raise TADDataError(
                f'{path}: --{key.replace("_", "-")} {flag:g} but its sidecar '
                f'{path}.json says {key}={meta[key]}; drop the flag')
    return dict(settings, fps=float(meta['fps']),
                feat_stride=float(meta['feat_stride']),
                num_frames=float(meta['num_frames']),
                layout=meta.get('layout', settings['layout']),
                duration=meta.get('duration'))


def build_sample(path: str, settings: dict, npz_key: str) -> dict:
    """The dataset-style record ``LoadTADFeatures`` expects for one file."""
    source = make_source(path, key=npz_key, layout=settings['layout'])
    num_steps = peek_shape(source)[0]
    duration = settings.get('duration') or (
        (num_steps - 1) * settings['feat_stride'] +
        settings['num_frames']) / settings['fps']
    return dict(
        video_name=video_name_of(path), duration=float(duration),
        fps=settings['fps'],
        feat_sources=[source],
        feat_cfg=dict(feat_stride=settings['feat_stride'],
                      num_frames=settings['num_frames'], feat_dims=None,
                      length_align='crop',
                      resize_length=settings['resize_length'],
                      downsample_rate=settings['downsample_rate']),
        segments=np.zeros((0, 2)), labels=np.zeros(0, dtype=np.int64),
        ann_segments=np.zeros((0, 2)), ann_labels=np.zeros(0, np.int64))


def check_channels(model, records: List[dict]) -> None:
    """Raise naming every file whose channels the model cannot take."""
    expected = getattr(model.backbone, 'in_channels', None)
    if expected is None:
        return
    wrong = []
    for record in records:
        source = record['feat_sources'][0]
        channels = peek_shape(source)[1]
        if channels != expected:
            wrong.append(f"{source['path']}: {channels} channels")
    if wrong:
        raise TADDataError(
            f'the model takes {expected}-channel features, but\n  '
            + '\n  '.join(wrong) + '\n(features of another backbone? '
            'check --extractor / the feature files, or --feat-layout)')


def extract_for_videos(videos: List[str], cfg: Config, args) -> List[str]:
    """Features of ``videos`` through the recognizer of ``--extractor``,
    extracted into (or reused from) ``--feat-dir``; returns their files."""
    from asl_mmaction.apis import (RecognizerFeatureExtractor,
                                   extract_videos, list_videos)
    from asl_mmaction.apis.feature_extraction import feature_path
    if not (args.extractor and args.extractor_ckpt):
        raise TADDataError(
            f'{videos[0]} is a video: give --extractor RECOGNIZER_CONFIG and '
            '--extractor-ckpt CHECKPOINT (the recognizer whose features the '
            'detector was trained on), or use an end-to-end config')
    ds = cfg.test_dataloader.dataset
    extractor = RecognizerFeatureExtractor(
        args.extractor, args.extractor_ckpt,
        feat_stride=int(args.feat_stride or ds.get('feat_stride', 16)),
        num_frames=int(args.num_frames) if args.num_frames else None,
        fps=args.fps or ds.get('fps'), batch_size=args.extract_batch_size,
        decoder=args.decoder, device=args.device)
    feat_dir = args.feat_dir or osp.join(
        'work_dirs', 'infer_features',
        osp.splitext(osp.basename(args.extractor))[0])
    named = list_videos(videos)
    summary = extract_videos(extractor, named, feat_dir,
                             log=lambda m: print(m, file=sys.stderr))
    print(f"features in {feat_dir}: {len(summary['written'])} extracted, "
          f"{len(summary['skipped'])} reused, {len(summary['failed'])} "
          'failed')
    failed = {name for name, _ in summary['failed']}
    return [feature_path(feat_dir, name) for name, _ in named
            if name not in failed]


# ------------------------------------------------------- end-to-end models
def video_records(videos: List[str], cfg: Config) -> List[dict]:
    """Data infos of unlabelled videos on the config's test grid."""
    from asl_mmaction.datasets.video_tad_dataset import video_data_info
    ds = cfg.test_dataloader.dataset
    feat_cfg = dict(feat_stride=ds.get('feat_stride', 16),
                    num_frames=ds.get('num_frames') or ds.get(
                        'feat_stride', 16),
                    clip_len=ds.get('clip_len') or ds.get('num_frames'),
                    decoder=ds.get('decoder', 'auto'))
    return [video_data_info(v, feat_cfg, ds.get('fps')) for v in videos]


# ------------------------------------------------------------------ running
def load_model(cfg: Config, checkpoint: str, device: str):
    model = MODELS.build(cfg.model)
    with trusted_checkpoints([checkpoint]):  # named on the command line
        ckpt = load_checkpoint(model, checkpoint, map_location='cpu',
                               logger='silent')
    classes = ckpt.get('meta', {}).get('dataset_meta', {}).get('classes')
    return model.to(device).eval(), classes


def detect(model, records: List[dict], pipeline, batch_size: int,
           score_thr: Optional[float], top_k: int,
           classes) -> Dict[str, dict]:
    """``{video: dict(duration, detections=[...])}``, best score first."""
    results = {}
    bar = tqdm(total=len(records), desc='detect', unit='video')
    for start in range(0, len(records), batch_size):
        batch = [pipeline(dict(r)) for r in records[start:start + batch_size]]
        with torch.no_grad():
            outputs = model.test_step(pseudo_collate(batch))
        for out in outputs:
            pred = out.pred_instances
            order = torch.argsort(pred.scores, descending=True)
            if score_thr is not None:
                order = order[pred.scores[order] >= score_thr]
            order = order[:top_k]
            results[out.metainfo['video_name']] = dict(
                duration=float(out.metainfo['duration']),
                detections=[
                    dict(label=classes[int(label)] if classes else
                         int(label), label_id=int(label),
                         score=round(float(score), 4),
                         segment=[round(float(s), 2), round(float(e), 2)])
                    for (s, e), score, label in zip(
                        pred.segments[order].tolist(), pred.scores[order],
                        pred.labels[order])])
        bar.update(len(batch))
    bar.close()
    return results


def draw(results: Dict[str, dict], out: Optional[str], classes) -> List[str]:
    """One timeline PNG per video: ``<out stem>_<video>.png`` next to
    ``out`` (``<video>_timeline.png`` here without ``out``)."""
    from asl_mmaction.visualization.timeline import (draw_video_timeline,
                                                     safe_file_name)
    written = []
    for name, result in results.items():
        dets = result['detections']
        video = dict(video_name=name, duration=result['duration'],
                     pred_instances=dict(
                         segments=np.array([d['segment'] for d in dets],
                                           dtype=np.float64).reshape(-1, 2),
                         scores=np.array([d['score'] for d in dets]),
                         labels=np.array([d['label_id'] for d in dets])))
        path = (f'{osp.splitext(out)[0]}_{safe_file_name(name)}.png' if out
                else f'{safe_file_name(name)}_timeline.png')
        draw_video_timeline(video, path, class_names=classes, score_thr=0.0,
                            top_k=len(dets))
        written.append(path)
    return written


def run(argv=None) -> Dict[str, list]:
    """Detect; returns ``{video: detections}``. Bad input raises
    ``TADDataError`` / ``ToolError`` before the model runs."""
    args = parse_args(argv)
    cfg = Config.fromfile(args.config)
    init_default_scope(cfg.get('default_scope', 'mmaction'))
    videos = [p for p in args.inputs if is_video(p)]
    files = [p for p in args.inputs if not is_video(p)]
    end_to_end = cfg.model.backbone.get('type') in END_TO_END_BACKBONES
    if end_to_end:
        if files:
            raise TADDataError(
                f'{files[0]}: {args.config} detects from video frames '
                '(end to end); give videos, not feature files')
        records = video_records(videos, cfg)
        pipeline = Compose(cfg.test_dataloader.dataset.pipeline)
        model, classes = load_model(cfg, args.checkpoint, args.device)
    else:
        if videos:
            files += extract_for_videos(videos, cfg, args)
        settings = feature_settings(cfg, args)
        records = [build_sample(p, settings_of_file(p, settings, args),
                                args.npz_key) for p in files]
        model, classes = load_model(cfg, args.checkpoint, args.device)
        check_channels(model, records)
        pipeline = Compose([TRANSFORMS.build(dict(type='LoadTADFeatures')),
                            TRANSFORMS.build(dict(type='PackTADInputs'))])
    if not records:
        raise TADDataError('no video or feature file left to detect in')
    results = detect(model, records, pipeline, args.batch_size,
                     args.score_thr, args.top_k, classes)
    for name, result in results.items():
        dets = result['detections']
        print(f'{name}: {len(dets)} action(s)')
        for det in dets:
            print(f'  {det["segment"][0]:8.2f}s - {det["segment"][1]:8.2f}s  '
                  f'{det["label"]}  ({det["score"]:.3f})')
    detections = {name: r['detections'] for name, r in results.items()}
    if args.out:
        os.makedirs(osp.dirname(osp.abspath(args.out)), exist_ok=True)
        atomic_write_json(detections, args.out, indent=1)
        print(f'detections written to {args.out}')
    if args.show:
        for path in draw(results, args.out, classes):
            print(f'timeline written to {path}')
    return detections


def main(argv=None) -> int:
    run(argv)
    return 0


if __name__ == '__main__':
    sys.exit(run_main(main))
