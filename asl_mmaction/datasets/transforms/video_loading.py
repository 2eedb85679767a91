"""Snippet frames of videos for end-to-end training.

A pipeline over ``VideoTADDataset``::

    dict(type='LoadSnippetGrid'),          # steps of the video, GT in steps
    dict(type='RandomTemporalCrop', ...),  # training: a window of steps
    dict(type='LoadSnippetFrames', frame_transforms=[...]),  # its frames
    dict(type='PackTADSnippets'),

``LoadSnippetGrid`` plays ``LoadTADFeatures``'s part without reading
frames: it writes ``feats`` as a ``[0, T]`` placeholder, so that
``RandomTemporalCrop`` (which only looks at the time axis) picks the window
as it does for features, and only that window is decoded.
"""
from typing import Optional, Sequence

import numpy as np
import torch
from mmcv.transforms import BaseTransform
from mmengine.dataset import Compose
from mmaction.registry import TRANSFORMS

from asl_mmaction.structures import seconds_to_steps
from ..video_snippets import (SnippetFrameSource, SnippetGrid,
                              VideoFrameReader, apply_frame_transforms)
from .formatting import PackTADInputs


def _video_of(results: dict) -> str:
    sources = results['feat_sources']
    if len(sources) != 1 or sources[0]['fmt'] != 'video':
        raise KeyError(f"video {results.get('video_name')}: the snippet "
                       'transforms need one video source (VideoTADDataset)')
    return sources[0]['path']


@TRANSFORMS.register_module()
class LoadSnippetGrid(BaseTransform):
    """Snippet grid of a video and its ground truth in steps.

    Required keys: ``feat_sources`` (one video), ``feat_cfg`` (with
    ``clip_len`` and ``decoder``), ``fps``, ``segments`` (s), ``labels``.

    Added keys: ``feats`` (``float32 [0, T]`` placeholder), ``feat_stride``,
    ``feat_offset``, ``feat_len`` (T), ``crop_start`` (0), ``gt_segments``
    (steps), ``gt_labels``, ``video_frames`` / ``video_fps`` (the file's).
    """

    def transform(self, results: dict) -> dict:
        cfg = results['feat_cfg']
        reader = VideoFrameReader(_video_of(results), cfg['decoder'])
        grid = SnippetGrid.from_feat_cfg(cfg, results['fps'])
        length = grid.num_steps(reader.num_frames, reader.fps)
        stride, window = float(cfg['feat_stride']), float(cfg['num_frames'])
        offset = 0.5 * window / stride
        segments = seconds_to_steps(np.asarray(results['segments']),
                                    results['fps'], stride, offset)
        results.update(
            feats=np.zeros((0, length), np.float32), feat_stride=stride,
            feat_offset=offset, feat_len=length, crop_start=0,
            gt_segments=segments.astype(np.float32).reshape(-1, 2),
            gt_labels=np.asarray(results['labels'], dtype=np.int64),
            video_frames=reader.num_frames, video_fps=reader.fps)
        return results


@TRANSFORMS.register_module()
class LoadSnippetFrames(BaseTransform):
    """Decode the frames of the steps ``[crop_start, crop_start +
    feat_len)`` with MMAction2's decoder, then apply the frame transforms.

    Added key: ``snippets``, ``uint8 [T, 3, clip_len, H, W]`` (RGB).

    Args:
        frame_transforms (list[dict]): Deterministic MMAction2 transforms
            (``Resize``, ``CenterCrop``), run on each chunk of
            ``chunk_frames`` frames as it is decoded, so full-resolution
            frames never pile up.
        clip_transforms (list[dict]): Transforms run once on all the frames
            of the window afterwards, so random ones (``RandomCrop``,
            ``RandomResizedCrop``, ``Flip``) cut every snippet of a video
            alike. Frames must come out the same size.
        chunk_frames (int): Frames decoded at a time.
    """

    def __init__(self, frame_transforms: Sequence[dict] = (),
                 clip_transforms: Sequence[dict] = (),
                 chunk_frames: int = 64) -> None:
        self.frame_transforms = list(frame_transforms)
        self.clip_transforms = list(clip_transforms)
        self.chunk_frames = int(chunk_frames)
        self._per_chunk = self._compose(self.frame_transforms)
        self._per_window = self._compose(self.clip_transforms)
        self._format = TRANSFORMS.build(dict(type='FormatShape',
                                             input_format='NCTHW'))

    @staticmethod
    def _compose(cfgs: Sequence[dict]) -> Optional[Compose]:
        return Compose([TRANSFORMS.build(c) for c in cfgs]) if cfgs else None

    def transform(self, results: dict) -> dict:
        cfg = results['feat_cfg']
        reader = VideoFrameReader(_video_of(results), cfg['decoder'])
        grid = SnippetGrid.from_feat_cfg(cfg, results['fps'])
        source = SnippetFrameSource(reader, grid, self._per_chunk,
                                    chunk_frames=self.chunk_frames)
        start = int(results['crop_start'])
        steps = np.arange(start, start + int(results['feat_len']))
        frames = apply_frame_transforms(list(source.frames(steps)),
                                        self._per_window)
        packed = self._format(dict(imgs=np.stack(frames),
                                   num_clips=len(steps),
                                   clip_len=grid.clip_len))
        results['snippets'] = np.ascontiguousarray(packed['imgs'])
        return results

    def __repr__(self) -> str:
        return (f'{type(self).__name__}(frame_transforms='
                f'{self.frame_transforms}, clip_transforms='
                f'{self.clip_transforms})')


@TRANSFORMS.register_module()
class PackTADSnippets(PackTADInputs):
    """``PackTADInputs`` with the snippet frames as ``inputs``
    (``uint8 [T, 3, clip_len, H, W]``; the data preprocessor normalises
    them) instead of features."""

    def transform(self, results: dict) -> dict:
        if 'snippets' not in results:
            raise KeyError(f"video {results.get('video_name')}: no snippets; "
                           'put LoadSnippetFrames before PackTADSnippets')
        packed = super().transform(results)
        packed['inputs'] = torch.from_numpy(results['snippets'])
        return packed
