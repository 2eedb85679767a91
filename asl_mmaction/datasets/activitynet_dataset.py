"""ActivityNet-style datasets: ActivityNet-1.3 and the common machinery of
THUMOS14, MultiTHUMOS and Charades (one sample per video)."""
import logging
import os.path as osp
from typing import List, Optional, Sequence, Tuple

import numpy as np
from mmengine.logging import print_log
from mmaction.registry import DATASETS

from .activitynet_annotations import read_activitynet_file
from .annotation_files import label_ids_of_record, load_class_names
from .base_tad_dataset import BaseTADDataset
from .feature_io import peek_shape
from .tad_errors import TADDataError

RESIZE_SPANS = ('duration', 'features')
PAST_END_POLICIES = ('error', 'keep')


@DATASETS.register_module()
class ActivityNetTADDataset(BaseTADDataset):
    """Videos of an ActivityNet-style JSON (``activitynet_annotations``):
    ActivityNet-1.3's ``activity_net.v1-3.min.json`` or the files of the
    ActionFormer family (``anet1.3_tsp_filtered.json``...).

    Subclasses (THUMOS14, MultiTHUMOS, Charades) read other formats through
    :meth:`parse_annotations` and share the options below.

    Args (besides those of :class:`BaseTADDataset`):
        class_agnostic (bool): Training targets are all class 0 (a 1-class
            detector, ActionFormer's ActivityNet setting, whose detections
            are then labelled by video-level classification scores:
            ``post_processing/score_fusion.py``). ``ann_labels`` and the
            class list keep the real classes, which the metric scores.
        ignore_labels (sequence[str]): Segments with these labels are left
            out (THUMOS14's ``Ambiguous``).
        segments_past_end (str): ``'error'`` (default): a segment further
            outside ``[0, duration]`` than ``boundary_tolerance`` is an
            error. ``'keep'``: one that ends further past the video's end
            is kept as annotated for scoring (the benchmark scores it) and
            clipped to the video, or left out if nothing is left, in the
            training targets; the videos concerned are logged once. (Public
            THUMOS14 annotations have such segments.)
        resize_span (str): With ``resize_length``, what the resized steps
            tile: ``'duration'`` (the video, as for Ego4D-MQ) or
            ``'features'``, the frames the original windows cover,
            ``(T - 1) * feat_stride + num_frames`` (ActionFormer's
            ActivityNet ``force_upsampling``; right also for videos whose
            features miss their last frames).
        duration_from_features (bool): A video without a duration in its
            annotations gets ``((T - 1) * feat_stride + num_frames) / fps``
            from its feature length ``T`` (formats without durations:
            THUMOS14 / MultiTHUMOS text files).
        fps_from_features (bool): ``fps = T / duration``, the features' own
            rate (the ASL authors' MultiTHUMOS / Charades loaders); use with
            ``feat_stride=1`` and ``num_frames=1``. Excludes ``fps``.
    """

    METAINFO = dict(dataset_name='activitynet')

    def __init__(self, *args, class_agnostic: bool = False,
                 ignore_labels: Sequence[str] = (),
                 segments_past_end: str = 'error',
                 resize_span: str = 'duration',
                 duration_from_features: bool = False,
                 fps_from_features: bool = False, **kwargs) -> None:
        name = type(self).__name__
        if segments_past_end not in PAST_END_POLICIES:
            raise TADDataError(f'{name}: segments_past_end must be one of '
                               f'{PAST_END_POLICIES}, got '
                               f'{segments_past_end!r}')
        if resize_span not in RESIZE_SPANS:
            raise TADDataError(f'{name}: resize_span must be one of '
                               f'{RESIZE_SPANS}, got {resize_span!r}')
        if fps_from_features and kwargs.get('fps') is not None:
            raise TADDataError(f'{name}: fps_from_features=True computes fps '
                               'from each feature file; do not set fps too')
        if (fps_from_features or duration_from_features) and \
                kwargs.get('feat_file') is None and \
                kwargs.get('feat_dirs') is None:
            raise TADDataError(f'{name}: fps / duration from features needs '
                               'feat_dirs or feat_file')
        self.class_agnostic = class_agnostic
        self.ignore_labels = tuple(ignore_labels)
        self.segments_past_end = segments_past_end
        self.resize_span = resize_span
        self.duration_from_features = duration_from_features
        self.fps_from_features = fps_from_features
        self.past_end_videos: List[Tuple[str, int]] = []
        super().__init__(*args, **kwargs)

    # -------------------------------------------------------------- parsing
    def given_class_names(self) -> Optional[List[str]]:
        """The configured class list (``class_names``), or None."""
        return (None if self.class_names is None else
                load_class_names(self.class_names))

    def parse_annotations(self) -> Tuple[List[dict], List[str]]:
        return read_activitynet_file(self.ann_file, self.given_class_names(),
                                     self.ignore_labels)

    def label_ids_of(self, record: dict) -> List[int]:
        return label_ids_of_record(record, self.classes)

    # ------------------------------------------------------------- building
    def load_data_list(self) -> List[dict]:
        self.past_end_videos = []
        data_list = super().load_data_list()
        if self.past_end_videos:
            total = sum(n for _, n in self.past_end_videos)
            print_log(f'{type(self).__name__}: {total} segments of '
                      f'{len(self.past_end_videos)} videos end past their '
                      f'video in {self.ann_file} (e.g. '
                      f'{self.past_end_videos[:3]}); scored as annotated, '
                      'clipped to the video or left out for training '
                      '(segments_past_end=keep)',
                      logger='current', level=logging.WARNING)
        return data_list

    def build_data_info(self, record: dict) -> dict:
        if self.fps_from_features or (record.get('duration') is None and
                                      self.duration_from_features):
            record = self._times_from_features(record)
        info = super().build_data_info(record)
        if self.class_agnostic:
            info['labels'] = np.zeros_like(info['labels'])
        return info

    def _times_from_features(self, record: dict) -> dict:
        """The record with its duration and / or fps from the features."""
        name = record['video_name']
        length = peek_shape(self._feature_sources(name)[0])[0]
        record = dict(record)
        if record.get('duration') is None:
            fps = self.fps if self.fps is not None else record.get('fps')
            if not fps:
                raise TADDataError(f'video {name}: no duration in '
                                   f'{self.ann_file} and no fps to derive it '
                                   'from the features; set fps')
            record['duration'] = ((length - 1) * self.feat_stride +
                                  self.num_frames) / float(fps)
        if self.fps_from_features:
            if not record['duration'] or record['duration'] <= 0:
                raise TADDataError(f'video {name}: fps_from_features needs '
                                   f'a positive duration in {self.ann_file}')
            record['fps'] = length / float(record['duration'])
        return record

    def _check_segments(self, record: dict, duration: float) -> np.ndarray:
        segments = np.asarray(record['segments'], dtype=np.float64)
        segments = segments.reshape(-1, 2)
        if self.segments_past_end == 'error' or not len(segments):
            return super()._check_segments(record, duration)
        abs_tol, rel_tol = self.boundary_tolerance
        past = segments[:, 1] > duration + max(abs_tol, rel_tol * duration)
        # The rest as usual; those past the end still need finite values
        # and end > start (an infinite duration has no boundary to check).
        super()._check_segments(dict(record, segments=segments[~past]),
                                duration)
        super()._check_segments(dict(record, segments=segments[past]),
                                float('inf'))
        if past.any():
            self.past_end_videos.append((record['video_name'],
                                         int(past.sum())))
        return segments

    def _feat_cfg(self) -> dict:
        cfg = super()._feat_cfg()
        cfg['resize_span'] = self.resize_span
        return cfg

    def _join_prefix(self):
        super()._join_prefix()
        # Subclasses' extra annotation files, relative to data_root too.
        root = self.data_root or ''
        for key in ('video_info_file', 'class_file'):
            value = getattr(self, key, None)
            if value:
                setattr(self, key, osp.join(root, value))
