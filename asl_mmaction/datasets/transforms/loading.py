"""``LoadTADFeatures``: feature files -> one ``[C, T]`` sequence, ground
truth converted from seconds to feature steps."""
from typing import Dict, List, Optional, Tuple

import numpy as np
import torch
import torch.nn.functional as F
from mmcv.transforms import BaseTransform
from mmaction.registry import TRANSFORMS

from asl_mmaction.structures import seconds_to_steps
from ..feature_io import check_finite, load_array
from ..tad_errors import TADDataError


def resize_linear(feats: np.ndarray, length: int) -> np.ndarray:
    """``[T, C] -> [length, C]`` by linear interpolation along time.

    Same sampling as ``F.interpolate(mode='linear', align_corners=False)``
    (the ActionFormer / ASL resize): output step ``j`` reads input position
    ``(j + 0.5) * T / length - 0.5``.
    """
    if feats.shape[0] == length:
        return feats
    x = torch.from_numpy(np.ascontiguousarray(feats.T))[None]  # [1, C, T]
    out = F.interpolate(x, size=length, mode='linear', align_corners=False)
    return np.ascontiguousarray(out[0].numpy().T)


def combine_feature_sets(arrays: List[np.ndarray], cfg: dict, duration: float,
                         fps: float) -> Tuple[np.ndarray, float, float]:
    """Align, concatenate and resize / down-sample feature sets.

    Args:
        arrays: ``[T_i, C_i]`` per feature set.
        cfg: ``feat_stride``, ``num_frames``, ``length_align``,
            ``resize_length``, ``downsample_rate`` (the dataset's) and,
            optionally, ``resize_span`` (``'duration'``, the default, or
            ``'features'``: what the resized steps tile).

    Returns:
        ``(feats [T, sum C_i], feat_stride, num_frames)`` with the
        *effective* stride and window (frames) of the returned sequence.
    """
    stride, window = cfg['feat_stride'], cfg['num_frames']
    if cfg['resize_length']:
        length = int(cfg['resize_length'])
        feats = np.concatenate([resize_linear(a, length) for a in arrays], 1)
        if cfg.get('resize_span', 'duration') == 'features':
            # ActionFormer's ActivityNet rule: the steps tile the frames the
            # original windows cover, each step a centred window (offset
            # 0.5), so videos missing their last frames stay aligned.
            span = (arrays[0].shape[0] - 1) * stride + window
            return feats, span / length, span / length
        new_stride = duration * fps / length
        # The resized steps tile the span covered by the original window
        # centres; the window overhang beyond one stride is kept, so that
        # with num_frames == feat_stride (ASL's setting) the offset is 0.5.
        return feats, new_stride, new_stride + (window - stride)
    lengths = [a.shape[0] for a in arrays]
    if len(set(lengths)) > 1:
        if cfg['length_align'] == 'crop':
            arrays = [a[:min(lengths)] for a in arrays]
        else:
            arrays = [resize_linear(a, lengths[0]) for a in arrays]
    feats = np.concatenate(arrays, axis=1) if len(arrays) > 1 else arrays[0]
    rate = int(cfg['downsample_rate'])
    if rate > 1:
        feats = np.ascontiguousarray(feats[::rate])
    return feats, stride * rate, window


@TRANSFORMS.register_module()
class LoadTADFeatures(BaseTransform):
    """Read a video's features and put its ground truth in feature steps.

    Required keys (written by the TAD datasets): ``video_name``,
    ``duration``, ``fps``, ``feat_sources``, ``feat_cfg``, ``segments``
    (seconds), ``labels``.

    Added keys: ``feats`` (``float32 [C, T]``), ``feat_stride``,
    ``feat_offset``, ``feat_len``, ``crop_start`` (0), ``gt_segments``
    (``float32 [N, 2]`` steps; may be slightly outside ``[0, T]``, the crop
    trims them), ``gt_labels`` (``int64 [N]``).

    Args:
        check_finite (bool): Raise on NaN / inf, naming the file.
        cache_features (bool): Keep every loaded sequence in memory (per
            process: each dataloader worker holds its own copy) so later
            epochs skip the disk. Worth it when the features fit in RAM.
    """

    def __init__(self, check_finite: bool = True,
                 cache_features: bool = False) -> None:
        self.check_finite = check_finite
        self.cache_features = cache_features
        self._cache: Dict[str, Tuple[np.ndarray, float, float]] = {}

    def _read(self, results: dict) -> Tuple[np.ndarray, float, float]:
        cfg, name = results['feat_cfg'], results['video_name']
        arrays = []
        for i, source in enumerate(results['feat_sources']):
            array = load_array(source)
            dims: Optional[list] = cfg.get('feat_dims')
            if dims is not None and array.shape[1] != dims[i]:
                raise TADDataError(
                    f"video {name}: features {source['path']} have "
                    f'{array.shape[1]} channels, expected feat_dims[{i}]='
                    f'{dims[i]}')
            if self.check_finite:
                check_finite(array, f"{source['path']} (video {name})")
            arrays.append(array)
        feats, stride, window = combine_feature_sets(
            arrays, cfg, results['duration'], results['fps'])
        return np.ascontiguousarray(feats.T), stride, window

    def transform(self, results: dict) -> dict:
        name = results['video_name']
        if self.cache_features and name in self._cache:
            feats, stride, window = self._cache[name]
            feats = feats.copy()  # the pipeline may modify its input
        else:
            feats, stride, window = self._read(results)
            if self.cache_features:
                self._cache[name] = (feats.copy(), stride, window)
        offset = 0.5 * window / stride
        segments = seconds_to_steps(np.asarray(results['segments']),
                                    results['fps'], stride, offset)
        results.update(
            feats=feats, feat_stride=float(stride),
            feat_offset=float(offset), feat_len=int(feats.shape[1]),
            crop_start=0,
            gt_segments=segments.astype(np.float32).reshape(-1, 2),
            gt_labels=np.asarray(results['labels'], dtype=np.int64))
        return results

    def __repr__(self) -> str:
        return (f'{type(self).__name__}(check_finite={self.check_finite}, '
                f'cache_features={self.cache_features})')
