"""``RandomTemporalCrop``: a training window over long feature sequences."""
from typing import Optional, Tuple

import numpy as np
from mmcv.transforms import BaseTransform
from mmaction.registry import TRANSFORMS


@TRANSFORMS.register_module()
class RandomTemporalCrop(BaseTransform):
    """Cut a random window of at most ``max_seq_len`` steps (ActionFormer's
    truncation).

    Only sequences longer than ``max_seq_len`` are cut, unless
    ``crop_ratio`` is set: then shorter ones are cut to a random length in
    ``[lo * T, hi * T]`` as well. As in ActionFormer, segments are
    intersected with the window **widened by the feature offset** ``o``
    (``feat_offset``, half a clip in steps) on both sides: a window
    ``[a, b)`` keeps ``[max(s, a - o), min(e, b + o)]`` of a segment
    ``[s, e]``, and keeps the segment only if that part is at least
    ``min_overlap`` of its length. (Feature step ``i`` covers a clip centred
    ``o`` steps after its start, so an action just outside the window's
    steps is still seen by its edge clips.) Up to ``max_trials`` windows are
    drawn until one keeps an action (``require_action``); the last one is
    used otherwise. Randomness comes from ``np.random``, which MMEngine's
    seeding controls.

    Required keys: ``feats`` ``[C, T]``, ``gt_segments`` (steps),
    ``gt_labels``; ``feat_offset`` (steps, 0 when absent). Modified: the
    first three, ``feat_len``, ``crop_start``.

    Args:
        max_seq_len (int): Longest window.
        min_overlap (float): Kept fraction of a segment (``trunc_thresh``).
        crop_ratio (tuple[float, float] | None): Random shortening of
            sequences that already fit.
        max_trials (int): Windows drawn before giving up on an action.
        require_action (bool): Look for a window with an action.
    """

    def __init__(self, max_seq_len: int, min_overlap: float = 0.5,
                 crop_ratio: Optional[Tuple[float, float]] = None,
                 max_trials: int = 200, require_action: bool = True) -> None:
        if max_seq_len < 1:
            raise ValueError(f'max_seq_len must be >= 1, got {max_seq_len}')
        if crop_ratio is not None and not (
                len(crop_ratio) == 2 and 0 < crop_ratio[0] <= crop_ratio[1]):
            raise ValueError(f'crop_ratio must be (lo, hi) with 0 < lo <= hi, '
                             f'got {crop_ratio}')
        self.max_seq_len = int(max_seq_len)
        self.min_overlap = float(min_overlap)
        self.crop_ratio = crop_ratio
        self.max_trials = int(max_trials)
        self.require_action = require_action

    def _window_length(self, length: int) -> int:
        if length > self.max_seq_len:
            return self.max_seq_len
        if self.crop_ratio is None:
            return length
        low = max(int(round(self.crop_ratio[0] * length)), 1)
        high = min(int(round(self.crop_ratio[1] * length)), length)
        return int(np.random.randint(low, high + 1))

    def transform(self, results: dict) -> dict:
        feats = results['feats']
        length = feats.shape[1]
        window = self._window_length(length)
        if window >= length:
            return results
        segments = np.asarray(results['gt_segments'], dtype=np.float32)
        offset = float(results.get('feat_offset', 0.0))
        seg_len = np.abs(segments[:, 1] - segments[:, 0])
        for _ in range(self.max_trials):
            start = int(np.random.randint(0, length - window + 1))
            left = np.maximum(segments[:, 0], start - offset)
            right = np.minimum(segments[:, 1], start + window + offset)
            with np.errstate(divide='ignore', invalid='ignore'):
                # a zero-length segment gives NaN and is dropped
                inside = np.clip(right - left, 0, None) / seg_len
            keep = inside >= self.min_overlap
            if not self.require_action or keep.any() or not len(segments):
                break
        results['feats'] = feats[:, start:start + window]
        results['gt_segments'] = np.stack([left[keep], right[keep]],
                                          axis=1).reshape(-1, 2) - start
        results['gt_labels'] = np.asarray(results['gt_labels'])[keep]
        results['feat_len'] = window
        results['crop_start'] = results.get('crop_start', 0) + start
        return results

    def __repr__(self) -> str:
        return (f'{type(self).__name__}(max_seq_len={self.max_seq_len}, '
                f'min_overlap={self.min_overlap}, '
                f'crop_ratio={self.crop_ratio})')
