"""Common machinery of the temporal action detection datasets.

A subclass only parses its annotation file into *records* (see
``ego4d_annotations``) and maps label names to ids; this class selects the
subsets, validates every video (segments, labels, feature files: cheap
checks, so bad data fails before training starts), and writes the data
infos that ``LoadTADFeatures`` reads. Times stay in seconds here; the
loader converts them to feature steps.
"""
import logging
import os.path as osp
from typing import List, Optional, Sequence, Tuple, Union

import numpy as np
from mmengine.dataset import BaseDataset
from mmengine.logging import print_log

from .annotation_files import normalize_subsets
from .feature_checks import DEFAULT_MAX_ABS
from .feature_io import check_feature_grid, make_source, peek_shape
from .tad_errors import TADDataError, summarize_bad_videos


def deduplicate(segments: np.ndarray, labels: np.ndarray,
                tol: float = 1e-3) -> np.ndarray:
    """Indices of the first of each group of same-label segments whose ends
    agree within ``tol`` seconds (several annotators drew the same action)."""
    keep: List[int] = []
    for i in range(len(segments)):
        if not any(labels[j] == labels[i] and
                   np.abs(segments[j] - segments[i]).max() <= tol
                   for j in keep):
            keep.append(i)
    return np.asarray(keep, dtype=np.int64)


class BaseTADDataset(BaseDataset):
    """Clip features + action segments, for the ActionFormer-style detector.

    Args:
        ann_file (str): Annotation file (joined with ``data_root``).
        pipeline (list): Transforms, e.g. ``LoadTADFeatures``,
            ``RandomTemporalCrop``, ``PackTADInputs``.
        subset (str | list[str] | None): ``'train'``, ``'val'``, ``'test'``
            or several; None keeps every video.
        feat_dirs (str | list[str] | None): Folder(s) of per-video feature
            files ``{feat_prefix}{video_name}{feat_suffix}``. Several folders
            are concatenated along channels, in this order.
        feat_suffix (str): ``'.npy'`` (default), ``'.npz'`` or ``'.pt'``.
        npz_key (str): Array name inside ``.npz`` files. Defaults to
            ``'feats'`` (ActionFormer's EPIC features).
        feat_file (str | list[str] | None): HDF5 file(s) keyed by video name,
            one per feature set, instead of ``feat_dirs``.
        feat_prefix (str): File name prefix. Defaults to ''.
        feat_layout (str): ``'TC'`` (time first, ActionFormer) or ``'CT'``.
        feat_dims (int | list[int] | None): Expected channels of each feature
            set; checked when given.
        fps (float | None): Frame rate of the features' frame indices;
            None uses each video's ``fps`` from the annotation file.
        feat_stride (float): Frames between two feature steps.
        num_frames (float | None): Frames in one feature window (defaults to
            ``feat_stride``).
        length_align (str): How feature sets of slightly different length
            are matched: ``'crop'`` to the shortest or ``'resample'`` to the
            first set's length.
        resize_length (int | None): Resize every sequence to this many steps
            (linear interpolation, the ASL Ego4D setting).
        downsample_rate (int): Keep every n-th step.
        filter_empty_gt (bool | None): Drop videos without ground truth;
            None means ``not test_mode``.
        skip_bad_videos (bool): Skip invalid videos (one logged summary)
            instead of raising at the first.
        class_names (list[str] | str | None): Class names or a file of them.
        boundary_tolerance (tuple[float, float]): A segment may extend past
            ``[0, duration]`` by ``max(abs_s, rel * duration)`` seconds:
            training targets are clipped (dropped if nothing is left),
            ``ann_segments`` keep the annotated values, as the benchmark
            scores them. Further out is an error.
        length_tolerance (float | None): Relative difference allowed between
            a feature file's length and the length implied by duration, fps,
            stride and window (catches a wrong ``fps`` / ``feat_stride``);
            None disables the check.
        check_features (bool): Check every feature file's shape at build
            time (memory-mapped, cheap).
        max_abs_feature (float): Largest feature magnitude accepted by the
            value check that ``tools/train.py`` and
            ``tools/check_dataset.py`` run on every file
            (``feature_checks.py``). Defaults to 1e4.
        dedup_tol (float): Tolerance in seconds of the training-target
            de-duplication.
        **kwargs: ``data_root``, ``data_prefix``, ``test_mode``,
            ``indices``, ``metainfo``... for ``mmengine.dataset.BaseDataset``.
    """

    METAINFO = dict(dataset_name='tad')

    def __init__(self,
                 ann_file: str = '',
                 pipeline: Sequence = (),
                 subset: Union[str, Sequence[str], None] = None,
                 feat_dirs: Union[str, Sequence[str], None] = None,
                 feat_suffix: str = '.npy',
                 npz_key: str = 'feats',
                 feat_file: Union[str, Sequence[str], None] = None,
                 feat_prefix: str = '',
                 feat_layout: str = 'TC',
                 feat_dims: Union[int, Sequence[int], None] = None,
                 fps: Optional[float] = None,
                 feat_stride: float = 16,
                 num_frames: Optional[float] = None,
                 length_align: str = 'crop',
                 resize_length: Optional[int] = None,
                 downsample_rate: int = 1,
                 filter_empty_gt: Optional[bool] = None,
                 skip_bad_videos: bool = False,
                 class_names: Union[str, Sequence[str], None] = None,
                 boundary_tolerance: Tuple[float, float] = (1.0, 0.02),
                 length_tolerance: Optional[float] = 0.2,
                 check_features: bool = True,
                 max_abs_feature: float = DEFAULT_MAX_ABS,
                 dedup_tol: float = 1e-3,
                 data_prefix: Optional[dict] = None,
                 **kwargs) -> None:
        if length_align not in ('crop', 'resample'):
            raise ValueError("length_align must be 'crop' or 'resample', got "
                             f'{length_align!r}')
        if (feat_dirs is None) == (feat_file is None):
            raise ValueError('set exactly one of feat_dirs (per-video files) '
                             'and feat_file (HDF5)')
        if int(downsample_rate) < 1:
            raise ValueError(f'downsample_rate must be >= 1, got '
                             f'{downsample_rate}')
        if resize_length and int(downsample_rate) > 1:
            raise ValueError('resize_length and downsample_rate > 1 exclude '
                             'each other (resizing fixes the length)')
        self.subsets = normalize_subsets(subset)
        self.feat_dirs = _as_list(feat_dirs)
        self.feat_files = _as_list(feat_file)
        self.feat_suffix, self.npz_key = feat_suffix, npz_key
        self.feat_prefix, self.feat_layout = feat_prefix, feat_layout
        n_sets = len(self.feat_dirs or self.feat_files)
        self.feat_dims = None if feat_dims is None else _as_list(feat_dims)
        if self.feat_dims is not None and len(self.feat_dims) != n_sets:
            raise ValueError(f'feat_dims {self.feat_dims} must give one '
                             f'channel count per feature set ({n_sets})')
        self.fps = fps
        self.feat_stride = float(feat_stride)
        self.num_frames = float(feat_stride if num_frames is None
                                else num_frames)
        self.length_align = length_align
        self.resize_length = resize_length
        self.downsample_rate = int(downsample_rate)
        self.filter_empty_gt = filter_empty_gt
        self.skip_bad_videos = skip_bad_videos
        self.class_names = class_names
        self.boundary_tolerance = tuple(boundary_tolerance)
        self.length_tolerance = length_tolerance
        self.check_features = check_features
        self.max_abs_feature = float(max_abs_feature)
        self.dedup_tol = dedup_tol
        self.bad_videos: List[Tuple[str, str]] = []
        super().__init__(ann_file=ann_file, pipeline=list(pipeline),
                         data_prefix=data_prefix or {}, **kwargs)

    # ------------------------------------------------------------ subclasses
    def parse_annotations(self) -> Tuple[List[dict], List[str]]:
        """``(records, class_names)`` from ``self.ann_file``."""
        raise NotImplementedError

    def label_ids_of(self, record: dict) -> List[int]:
        """Label ids of a record's segments (raise on unknown labels)."""
        raise NotImplementedError

    # ------------------------------------------------------------- building
    def _join_prefix(self):
        super()._join_prefix()
        root = self.data_root or ''
        self.feat_dirs = [osp.join(root, d) for d in self.feat_dirs or []]
        self.feat_files = [osp.join(root, f) for f in self.feat_files or []]
        if isinstance(self.class_names, str):
            self.class_names = osp.join(root, self.class_names)

    def load_data_list(self) -> List[dict]:
        records, classes = self.parse_annotations()
        self.classes = list(classes)
        self._metainfo.update(classes=tuple(self.classes))
        present = sorted({r['subset'] for r in records})
        if self.subsets is not None:
            records = [r for r in records if r['subset'] in self.subsets]
        if not records:
            raise TADDataError(
                f'no video of subset {sorted(self.subsets or [])} in '
                f'{self.ann_file} (it holds {present})')
        data_list, self.bad_videos = [], []
        for record in records:
            try:
                data_list.append(self.build_data_info(record))
            except TADDataError as exc:
                if not self.skip_bad_videos:
                    raise
                self.bad_videos.append((record['video_name'], str(exc)))
        if self.bad_videos:
            print_log(f'{type(self).__name__}: skipped {len(self.bad_videos)}'
                      f' of {len(records)} videos with bad input:\n'
                      + summarize_bad_videos(self.bad_videos),
                      logger='current', level=logging.WARNING)
        if not data_list:
            raise TADDataError(
                f'every one of the {len(records)} videos of {self.ann_file} '
                'is bad (skip_bad_videos skipped them all):\n'
                + summarize_bad_videos(self.bad_videos))
        return data_list

    def filter_data(self) -> List[dict]:
        drop = (not self.test_mode if self.filter_empty_gt is None else
                self.filter_empty_gt)
        if not drop:
            return self.data_list
        kept = [d for d in self.data_list if len(d['segments'])]
        if self.data_list and not kept:
            raise TADDataError(self._why_no_ground_truth())
        if len(kept) < len(self.data_list):
            print_log(f'{type(self).__name__}: dropped '
                      f'{len(self.data_list) - len(kept)} videos without '
                      'ground truth (filter_empty_gt)', logger='current')
        return kept

    def _why_no_ground_truth(self) -> str:
        """The message when ``filter_empty_gt`` would drop every video."""
        n = len(self.data_list)
        annotated = sum(len(d['ann_segments']) for d in self.data_list)
        subsets = sorted(self.subsets) if self.subsets else 'all'
        if annotated:  # segments exist, but none survived clipping
            reason = (f'their {annotated} annotated segments all lie '
                      'outside the videos once clipped to [0, duration]')
        else:
            reason = ('the annotation file has no labelled segment for them '
                      '(an unlabelled split, or a missing label column?)')
        return (f'{self.ann_file}: none of the {n} videos of subset '
                f'{subsets} has a ground-truth segment: {reason}; '
                'filter_empty_gt=True drops such videos, so nothing is left '
                'to train on')

    def build_data_info(self, record: dict) -> dict:
        """Validate one record; the data info ``LoadTADFeatures`` reads."""
        name = record['video_name']
        fps = self.fps if self.fps is not None else record.get('fps')
        if not fps or fps <= 0:
            raise TADDataError(f'video {name}: no fps in {self.ann_file}; '
                               'set fps in the dataset config')
        duration = record.get('duration')
        if duration is None or not duration > 0:
            raise TADDataError(f'video {name}: missing or non-positive '
                               f'duration {duration!r} in {self.ann_file}')
        labels = np.asarray(self.label_ids_of(record), dtype=np.int64)
        segments = self._check_segments(record, float(duration))
        # Training targets: clipped to the video, minus what lies wholly
        # past its end (within the tolerance) and duplicates.
        clipped = np.clip(segments, 0.0, float(duration))
        inside = np.nonzero(clipped[:, 1] - clipped[:, 0] > 1e-6)[0]
        keep = inside[deduplicate(clipped[inside], labels[inside],
                                  self.dedup_tol)]
        sources = self._feature_sources(name)
        info = dict(
            video_name=name, subset=record['subset'],
            duration=float(duration), fps=float(fps),
            feat_sources=sources, feat_cfg=self._feat_cfg(),
            segments=clipped[keep], labels=labels[keep],
            ann_segments=segments, ann_labels=labels)
        if self.check_features:
            info['feat_len_on_disk'] = self._check_shapes(
                name, sources, float(duration), float(fps))
        return info

    def feature_length(self, index: int) -> int:
        """Steps the model will see for video ``index`` (before any crop),
        from the file headers when they were checked, else from the
        duration; what length-sorted samplers order by."""
        info = self.get_data_info(index)
        if self.resize_length:
            return int(self.resize_length)
        length = info.get('feat_len_on_disk')
        if length is None:
            length = max((info['duration'] * info['fps'] - self.num_frames)
                         / self.feat_stride + 1, 1.0)
        return int(np.ceil(length / self.downsample_rate))

    def _feat_cfg(self) -> dict:
        return dict(feat_stride=self.feat_stride, num_frames=self.num_frames,
                    feat_dims=self.feat_dims, length_align=self.length_align,
                    resize_length=self.resize_length,
                    downsample_rate=self.downsample_rate)

    def _check_segments(self, record: dict, duration: float) -> np.ndarray:
        """``float64 [N, 2]`` seconds as annotated (the benchmark scores them
        unclipped); a segment with end <= start, or further than the
        tolerance outside ``[0, duration]``, raises."""
        name = record['video_name']
        segments = np.asarray(record['segments'], dtype=np.float64)
        segments = segments.reshape(-1, 2)
        abs_tol, rel_tol = self.boundary_tolerance
        tol = max(abs_tol, rel_tol * duration)
        for start, end in segments:
            if not (np.isfinite(start) and np.isfinite(end)):
                raise TADDataError(f'video {name}: segment [{start}, {end}] '
                                   'is not finite')
            if end <= start:
                raise TADDataError(f'video {name}: segment [{start}, {end}] '
                                   'has end <= start')
            if start < -tol or end > duration + tol:
                raise TADDataError(
                    f'video {name}: segment [{start}, {end}] lies outside '
                    f'the video [0, {duration}] (tolerance {tol:.2f} s)')
        return segments

    def _feature_sources(self, name: str) -> List[dict]:
        if self.feat_files:
            return [make_source(f, key=name, layout=self.feat_layout)
                    for f in self.feat_files]
        key = self.npz_key if self.feat_suffix == '.npz' else None
        return [make_source(osp.join(d, f'{self.feat_prefix}{name}'
                                     f'{self.feat_suffix}'),
                            key=key, layout=self.feat_layout)
                for d in self.feat_dirs]

    def _check_shapes(self, name: str, sources: List[dict], duration: float,
                      fps: float) -> int:
        """Check channels and lengths from file headers; return ``T``."""
        shapes = [peek_shape(s) for s in sources]
        for source in sources:  # features extracted on another grid
            check_feature_grid(source['path'], fps, self.feat_stride,
                               self.num_frames)
        for i, (source, (length, channels)) in enumerate(zip(sources,
                                                              shapes)):
            if self.feat_dims is not None and channels != self.feat_dims[i]:
                raise TADDataError(
                    f"video {name}: features {source['path']} have "
                    f'{channels} channels, expected feat_dims[{i}]='
                    f'{self.feat_dims[i]} (or the layout is wrong: '
                    f'feat_layout={self.feat_layout!r})')
            if length < 1:
                raise TADDataError(f"video {name}: features {source['path']} "
                                   'are empty (0 steps)')
        lengths = [s[0] for s in shapes]
        if self.length_tolerance is not None:
            expected = max((duration * fps - self.num_frames)
                           / self.feat_stride + 1, 1.0)
            for source, length in zip(sources, lengths):
                slack = self.length_tolerance * expected + 2
                if abs(length - expected) > slack:
                    raise TADDataError(
                        f"video {name}: features {source['path']} have "
                        f'{length} steps, but {duration:.2f} s at fps={fps} '
                        f'with feat_stride={self.feat_stride} and num_frames='
                        f'{self.num_frames} implies about {expected:.0f}; '
                        'check fps / feat_stride (or raise length_tolerance)')
        return min(lengths) if self.length_align == 'crop' else lengths[0]


def _as_list(value) -> Optional[list]:
    if value is None:
        return None
    return [value] if isinstance(value, (str, int, float)) else list(value)
