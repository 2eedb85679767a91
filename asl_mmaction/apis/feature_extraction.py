"""Clip features of whole videos from any MMAction2 recognizer.

``RecognizerFeatureExtractor`` loads a recognizer config + checkpoint with
MMAction2's ``init_recognizer`` (MMEngine's checkpoint loader: a path or a
URL), reads the frame handling from the config's test pipeline (decoder,
``clip_len`` x ``frame_interval`` sampling, resize / crop, input format),
and slides that clip over the video on a :class:`SnippetGrid`: one feature
every ``feat_stride`` frames, each from a window of ``num_frames`` frames.
Clips are batched through the recognizer's data preprocessor and backbone
(``extract_feat``) and pooled to one vector each (``pool_snippet_features``).

``extract_videos`` writes one ``[T, C]`` ``.npy`` per video plus its sidecar
(``<name>.npy.json``, see ``feature_io.read_sidecar``), both atomically;
a video whose file and sidecar are there with the same settings is skipped,
so an interrupted run resumes, and a video that fails is named and skipped.
"""
import os
import os.path as osp
import time
from typing import Callable, Dict, List, Optional, Sequence, Tuple

import numpy as np
import torch
from mmengine.config import Config
from mmengine.dataset import Compose

from asl_mmaction.datasets.feature_io import read_sidecar, sidecar_path
from asl_mmaction.datasets.tad_errors import TADDataError
from asl_mmaction.datasets.video_snippets import (VIDEO_SUFFIXES,
                                                  SnippetFrameSource,
                                                  SnippetGrid,
                                                  VideoFrameReader)
from asl_mmaction.models.video_encoders.pooling import pool_snippet_features
from asl_mmaction.utils import trusted_checkpoints
from asl_mmaction.utils.atomic_files import atomic_write_json
from asl_mmaction.utils.cli import ToolError

INIT_TO_DECODER = {'DecordInit': 'decord', 'OpenCVInit': 'opencv',
                   'PyAVInit': 'opencv', 'PIMSInit': 'opencv'}
DECODE_STEPS = ('DecordDecode', 'OpenCVDecode', 'PyAVDecode', 'PIMSDecode')
SAMPLING_STEPS = ('SampleFrames', 'UntrimmedSampleFrames', 'UniformSample',
                  'DenseSampleFrames')
# Multi-view test crops become one centre crop: one feature per clip.
MULTI_VIEW_CROPS = ('ThreeCrop', 'TenCrop')
SETTINGS_KEYS = ('fps', 'feat_stride', 'num_frames', 'clip_len', 'backbone',
                 'checkpoint_name')


def parse_test_pipeline(pipeline: Sequence[dict]) -> dict:
    """What the extraction takes from a recognizer's test pipeline.

    Returns:
        dict: ``decoder`` ('decord' / 'opencv' / None), ``clip_len``,
        ``frame_interval``, ``frame_transforms`` (configs between the decode
        step and ``FormatShape``, multi-view crops replaced by
        ``CenterCrop``) and ``input_format``.

    Raises:
        ToolError: no sampling step / ``FormatShape``, or a random frame
            transform (features would change from run to run).
    """
    out = dict(decoder=None, clip_len=None, frame_interval=1,
               frame_transforms=[], input_format=None)
    after_decode = False
    for step in pipeline:
        step = dict(step)
        kind = step['type']
        if kind in INIT_TO_DECODER:
            out['decoder'] = INIT_TO_DECODER[kind]
        elif kind in SAMPLING_STEPS:
            out['clip_len'] = int(step.get('clip_len', 1))
            out['frame_interval'] = int(step.get('frame_interval') or 1)
        elif kind in DECODE_STEPS:
            after_decode = True
        elif kind == 'FormatShape':
            out['input_format'] = step['input_format']
            after_decode = False
        elif after_decode:
            if kind in MULTI_VIEW_CROPS:
                step = dict(type='CenterCrop', crop_size=step['crop_size'])
            if kind.startswith('Random') or kind in ('Flip', 'ColorJitter'):
                raise ToolError(
                    f'the test pipeline holds the random transform {kind}; '
                    'features would differ from run to run: give a test '
                    'pipeline (Resize / CenterCrop)')
            out['frame_transforms'].append(step)
    if out['clip_len'] is None:
        raise ToolError('the test pipeline has no SampleFrames step: cannot '
                        'tell how many frames a clip has (set --clip-len)')
    if out['input_format'] not in ('NCTHW', 'NCHW'):
        raise ToolError(f"the test pipeline's FormatShape input_format is "
                        f"{out['input_format']!r}; only NCTHW (3-D "
                        'recognizers) and NCHW (2-D) are supported')
    return out


def list_videos(inputs: Sequence[str], root: Optional[str] = None,
                suffixes: Sequence[str] = VIDEO_SUFFIXES
                ) -> List[Tuple[str, str]]:
    """``(name, path)`` of the videos named by ``inputs``: video files,
    folders (every video inside, recursively) or ``.txt`` lists (one video
    a line, as MMAction2's lists: the first field, relative to ``root``).
    ``name`` is the file name without its suffix (the feature file's name).

    Raises:
        TADDataError: a missing input or two videos with the same name.
    """
    paths = []
    for item in inputs:
        if osp.isdir(item):
            for folder, _, files in sorted(os.walk(item)):
                paths += [osp.join(folder, f) for f in sorted(files)
                          if f.lower().endswith(tuple(suffixes))]
        elif item.endswith('.txt'):
            if not osp.isfile(item):
                raise TADDataError(f'video list not found: {item}')
            with open(item, encoding='utf-8') as f:
                lines = [line.split()[0] for line in f if line.strip()]
            paths += [osp.join(root, p) if root else p for p in lines]
        else:
            paths.append(osp.join(root, item) if root and not osp.isabs(
                item) else item)
    videos, seen = [], {}
    for path in paths:
        name = osp.splitext(osp.basename(path))[0]
        if name in seen:
            raise TADDataError(f'two videos would write the same feature '
                               f'file {name}.npy: {seen[name]} and {path}')
        seen[name] = path
        videos.append((name, path))
    if not videos:
        raise TADDataError(f'no video found in {list(inputs)} (suffixes '
                           f'{", ".join(suffixes)})')
    return videos


class RecognizerFeatureExtractor:
    """Sliding-window clip features of a recognizer.

    Args:
        config (str | Config): The recognizer config (a test pipeline and
            the model; MMAction2's configs work as they are).
        checkpoint (str | None): Its weights, a path or a URL. None keeps
            the random initialisation (tests only).
        feat_stride (int): Frames between two features. Defaults to 16.
        num_frames (int | None): Window of one feature, in frames; defaults
            to the pipeline's ``clip_len * frame_interval``.
        clip_len (int | None): Frames given to the recognizer per window;
            defaults to the pipeline's.
        fps (float | None): Frame rate of the grid; None keeps each video's.
        batch_size (int): Clips per forward pass.
        decoder (str | None): ``'opencv'`` / ``'decord'`` / ``'auto'``;
            None uses the pipeline's when it is installed, else OpenCV.
        device (str): ``'cpu'``, ``'cuda:0'``...
        chunk_frames (int): Frames decoded and resized at a time.
    """

    def __init__(self, config, checkpoint: Optional[str],
                 feat_stride: int = 16, num_frames: Optional[int] = None,
                 clip_len: Optional[int] = None, fps: Optional[float] = None,
                 batch_size: int = 16, decoder: Optional[str] = None,
                 device: str = 'cpu', chunk_frames: int = 64) -> None:
        from mmaction.apis import init_recognizer
        from mmaction.registry import TRANSFORMS
        cfg = config if isinstance(config, Config) else Config.fromfile(
            config)
        self.config_name = (osp.basename(config) if isinstance(config, str)
                            else cfg.filename and osp.basename(cfg.filename))
        pipeline = (cfg.get('test_pipeline') or
                    cfg.test_dataloader.dataset.pipeline)
        parsed = parse_test_pipeline(pipeline)
        clip_len = int(clip_len or parsed['clip_len'])
        if num_frames is None:
            num_frames = clip_len * parsed['frame_interval']
        self.grid = SnippetGrid(feat_stride=int(feat_stride),
                                num_frames=int(num_frames), clip_len=clip_len,
                                fps=fps)
        self.decoder = decoder or self._installed(parsed['decoder'])
        self.input_format = parsed['input_format']
        self.frame_transforms = Compose(
            [TRANSFORMS.build(t) for t in parsed['frame_transforms']])
        self.format_shape = TRANSFORMS.build(
            dict(type='FormatShape', input_format=self.input_format))
        self.batch_size = int(batch_size)
        self.chunk_frames = int(chunk_frames)
        self.checkpoint = checkpoint
        self.device = torch.device(device)
        # named by the user: may be loaded in full if the safe loader
        # refuses it (an older MMEngine checkpoint), for this load only
        with trusted_checkpoints([checkpoint if checkpoint and osp.isfile(
                checkpoint) else None]):
            self.model = init_recognizer(cfg, checkpoint, device=self.device)
        self.backbone_type = cfg.model.backbone.get('type', '?')

    @staticmethod
    def _installed(decoder: Optional[str]) -> str:
        if decoder == 'decord':
            try:
                import decord  # noqa: F401
            except ImportError:
                return 'opencv'
        return decoder or 'opencv'

    def settings(self) -> dict:
        """What a feature file depends on (compared when resuming)."""
        return dict(fps=self.grid.fps, feat_stride=self.grid.feat_stride,
                    num_frames=self.grid.num_frames,
                    clip_len=self.grid.clip_len, backbone=self.backbone_type,
                    checkpoint_name=osp.basename(self.checkpoint or 'random'))

    @torch.no_grad()
    def encode_frames(self, frames: np.ndarray, num_clips: int
                      ) -> torch.Tensor:
        """``uint8 [num_clips * clip_len, H, W, 3]`` -> ``[num_clips, C]``."""
        packed = self.format_shape(dict(imgs=frames, num_clips=num_clips,
                                        clip_len=self.grid.clip_len))
        data = self.model.data_preprocessor(
            dict(inputs=[torch.from_numpy(np.ascontiguousarray(
                packed['imgs']))], data_samples=None))
        out, _ = self.model.extract_feat(data['inputs'], test_mode=True)
        per_frame = self.grid.clip_len if self.input_format == 'NCHW' \
            else None
        return pool_snippet_features(out, per_frame)

    def extract(self, path: str,
                on_clips: Optional[Callable[[int], None]] = None
                ) -> Tuple[np.ndarray, dict]:
        """Features of one video.

        Returns:
            tuple: ``float32 [T, C]`` and the video's sidecar record.
        """
        reader = VideoFrameReader(path, self.decoder)
        source = SnippetFrameSource(reader, self.grid, self.frame_transforms,
                                    chunk_frames=self.chunk_frames,
                                    keep_cache=True)
        rows = []
        for start in range(0, source.num_steps, self.batch_size):
            steps = np.arange(start, min(start + self.batch_size,
                                         source.num_steps))
            rows.append(self.encode_frames(source.frames(steps),
                                           len(steps)).float().cpu())
            if on_clips is not None:
                on_clips(len(steps))
        feats = torch.cat(rows).numpy().astype(np.float32)
        meta = dict(self.settings(),
                    fps=self.grid.grid_fps(reader.fps),
                    requested_fps=self.grid.fps,
                    num_steps=int(feats.shape[0]),
                    channels=int(feats.shape[1]), layout='TC',
                    duration=reader.duration, native_fps=reader.fps,
                    native_frames=reader.num_frames,
                    video=osp.abspath(path),
                    decoder=self.decoder, recognizer_config=self.config_name,
                    checkpoint=self.checkpoint, pooling='avg',
                    created=time.strftime('%Y-%m-%d %H:%M:%S'))
        return feats, meta


def feature_path(out_dir: str, name: str) -> str:
    return osp.join(out_dir, f'{name}.npy')


def is_done(extractor: RecognizerFeatureExtractor, path: str) -> bool:
    """True when ``path`` and its sidecar exist with the extractor's
    settings; raises when they exist with others (the caller decides)."""
    meta = read_sidecar(path) if osp.isfile(sidecar_path(path)) else None
    if meta is None or not osp.isfile(path):
        return False
    want = extractor.settings()
    have = dict(meta, fps=meta.get('requested_fps'))
    diff = {k: (have.get(k), want[k]) for k in SETTINGS_KEYS
            if have.get(k) != want[k]}
    if diff:
        raise TADDataError(
            f'{path} was extracted with other settings ('
            + ', '.join(f'{k}: {a!r} there, {b!r} now'
                        for k, (a, b) in diff.items())
            + '); use another output folder or --overwrite')
    return True


def save_features(path: str, feats: np.ndarray, meta: dict) -> None:
    """Write the features, then the sidecar (the 'done' mark), atomically."""
    tmp = f'{path}.tmp{os.getpid()}.npy'
    try:
        np.save(tmp, feats)
        os.replace(tmp, path)
    finally:
        if osp.exists(tmp):  # a failed write leaves no partial file
            os.remove(tmp)
    atomic_write_json(meta, sidecar_path(path), indent=1)


def extract_videos(extractor: RecognizerFeatureExtractor,
                   videos: Sequence[Tuple[str, str]], out_dir: str,
                   overwrite: bool = False, rank: int = 0,
                   world_size: int = 1, progress: bool = True,
                   log: Callable[[str], None] = print) -> Dict[str, list]:
    """Extract ``videos`` (``(name, path)``) into ``out_dir``; this process
    takes every ``world_size``-th video from ``rank``.

    Returns:
        dict: ``written``, ``skipped`` (names) and ``failed`` (``(name,
        reason)``) of this process.
    """
    from tqdm import tqdm
    os.makedirs(out_dir, exist_ok=True)
    # Every process looks at every video, so a folder holding features of
    # other settings stops all of them alike, before any work.
    done = set() if overwrite else {
        name for name, _ in videos
        if is_done(extractor, feature_path(out_dir, name))}
    mine = list(videos)[rank::world_size]
    summary = dict(written=[], skipped=[], failed=[])
    todo = []
    for name, path in mine:
        if name in done:
            summary['skipped'].append(name)
        else:
            todo.append((name, path, feature_path(out_dir, name)))
    totals = {}
    for name, path, _ in todo:  # headers only: the bar's total, early errors
        try:
            reader = VideoFrameReader(path, extractor.decoder)
            totals[name] = extractor.grid.num_steps(reader.num_frames,
                                                    reader.fps)
        except Exception as exc:
            summary['failed'].append((name, f'{type(exc).__name__}: {exc}'))
            log(f'video {name} ({path}) failed: {type(exc).__name__}: {exc}')
    bar = tqdm(total=sum(totals.values()), unit='clip', disable=not progress,
               desc=f'extract [{rank}]' if world_size > 1 else 'extract',
               position=rank if world_size > 1 else None)
    for name, path, target in todo:
        if name not in totals:
            continue
        try:
            feats, meta = extractor.extract(path, on_clips=bar.update)
            save_features(target, feats, meta)
            summary['written'].append(name)
        except Exception as exc:  # name the video, go on with the others
            summary['failed'].append((name, f'{type(exc).__name__}: {exc}'))
            log(f'video {name} ({path}) failed: {type(exc).__name__}: {exc}')
    bar.close()
    return summary
