"""Action segments over video files: the dataset of end-to-end training.

Annotations are in ActionFormer's JSON layout (the one THUMOS14,
ActivityNet and EPIC-Kitchens conversions use)::

    {"database": {"<video>": {"subset": "training", "duration": 12.0,
                              "fps": 30.0,
                              "annotations": [{"segment": [1.0, 3.5],
                                               "label": "cut",
                                               "label_id": 0}]}}}

and ``video_dir`` holds ``{feat_prefix}<video>{video_suffix}``. Instead of
a feature file, each video gives a snippet grid (``video_snippets``):
``LoadSnippetGrid`` puts the ground truth in its steps, ``RandomTemporalCrop``
may cut a window of steps, and ``LoadSnippetFrames`` decodes only the frames
of that window.
"""
import os.path as osp
from typing import List, Optional, Tuple

import numpy as np
from mmaction.registry import DATASETS

from .activitynet_annotations import read_activitynet_file
from .annotation_files import label_ids_of_record, load_class_names
from .base_tad_dataset import BaseTADDataset
from .tad_errors import TADDataError
from .video_snippets import SnippetGrid, VideoFrameReader, resolve_decoder


def video_source(path: str) -> dict:
    """A feature source that is a video file (read by the snippet
    transforms, not by ``feature_io``)."""
    return dict(path=path, fmt='video', key=None, layout='TC')


def video_data_info(path: str, feat_cfg: dict,
                    fps: Optional[float] = None) -> dict:
    """The data info of one unlabelled video (``tools/infer.py``): what
    ``VideoTADDataset`` gives the snippet transforms, without ground truth.

    Args:
        path (str): The video file.
        feat_cfg (dict): ``feat_stride``, ``num_frames``, ``clip_len``,
            ``decoder``.
        fps (float | None): Grid frame rate; None: the video's own.
    """
    reader = VideoFrameReader(path, feat_cfg.get('decoder', 'auto'))
    cfg = dict(feat_cfg, decoder=reader.decoder, feat_dims=None,
               length_align='crop', resize_length=None, downsample_rate=1)
    name = osp.splitext(osp.basename(path))[0]
    empty = np.zeros((0, 2))
    return dict(video_name=name, subset='test', duration=reader.duration,
                fps=float(fps or reader.fps),
                feat_sources=[video_source(path)], feat_cfg=cfg,
                segments=empty, labels=np.zeros(0, np.int64),
                ann_segments=empty, ann_labels=np.zeros(0, np.int64))


@DATASETS.register_module()
class VideoTADDataset(BaseTADDataset):
    """ActionFormer-layout annotations + a folder of videos.

    Args (besides those of :class:`BaseTADDataset`; the feature-file ones
    do not apply):
        video_dir (str): Folder of the videos (joined with ``data_root``).
        video_suffix (str): Defaults to ``'.mp4'``.
        clip_len (int | None): Frames of each snippet given to the video
            backbone, evenly spread over its ``num_frames`` window; defaults
            to ``num_frames``.
        decoder (str): ``'auto'`` (decord when installed, else OpenCV),
            ``'opencv'`` or ``'decord'``.
        class_file (str | None): Class names (any file ``class_names``
            takes); by default they come from the labels in the JSON.

    ``fps`` / ``feat_stride`` / ``num_frames`` define the grid: one snippet
    every ``feat_stride`` frames at ``fps`` (None: the ``fps`` of each
    video's annotation), ``num_frames`` frames long. With
    ``check_features`` every video is opened when the dataset is built; its
    length must agree with the annotated duration (``length_tolerance``).
    """

    METAINFO = dict(dataset_name='videos')

    def __init__(self, video_dir: str = 'videos', video_suffix: str = '.mp4',
                 clip_len: Optional[int] = None, decoder: str = 'auto',
                 class_file: Optional[str] = None, **kwargs) -> None:
        for key in ('feat_dirs', 'feat_file', 'feat_suffix'):
            if kwargs.get(key) is not None:
                raise ValueError(f'VideoTADDataset reads videos: set '
                                 f'video_dir / video_suffix, not {key}')
        rate = int(kwargs.get('downsample_rate', 1))
        if kwargs.get('resize_length') or rate > 1:
            raise ValueError('VideoTADDataset: resize_length / '
                             'downsample_rate do not apply to videos; set '
                             'feat_stride instead')
        self.clip_len = clip_len
        self.decoder = resolve_decoder(decoder)
        self.class_file = class_file
        super().__init__(feat_dirs=video_dir, feat_suffix=video_suffix,
                         **kwargs)
        self.clip_len = int(clip_len or self.num_frames)

    def _join_prefix(self):
        super()._join_prefix()
        if self.class_file:
            self.class_file = osp.join(self.data_root or '', self.class_file)

    def parse_annotations(self) -> Tuple[List[dict], List[str]]:
        spec = self.class_names or self.class_file
        return read_activitynet_file(
            self.ann_file, None if spec is None else load_class_names(spec))

    def label_ids_of(self, record: dict) -> List[int]:
        return label_ids_of_record(record, self.classes)

    def _feat_cfg(self) -> dict:
        cfg = super()._feat_cfg()
        cfg.update(clip_len=int(self.clip_len or self.num_frames),
                   decoder=self.decoder)
        return cfg

    def _feature_sources(self, name: str) -> List[dict]:
        return [video_source(osp.join(d, f'{self.feat_prefix}{name}'
                                      f'{self.feat_suffix}'))
                for d in self.feat_dirs]

    def _check_shapes(self, name: str, sources: List[dict], duration: float,
                      fps: float) -> int:
        """Open the video; its snippet count, checked against the
        annotated duration."""
        reader = VideoFrameReader(sources[0]['path'], self.decoder)
        grid = SnippetGrid.from_feat_cfg(self._feat_cfg(), fps)
        steps = grid.num_steps(reader.num_frames, reader.fps)
        if self.length_tolerance is not None and abs(
                reader.duration - duration) > (
                    self.length_tolerance * duration + 1.0):
            raise TADDataError(
                f"video {name}: {sources[0]['path']} lasts "
                f'{reader.duration:.2f} s ({reader.num_frames} frames at '
                f'{reader.fps:g} fps) but the annotation says {duration:.2f}'
                ' s; check the file (or raise length_tolerance)')
        return steps
