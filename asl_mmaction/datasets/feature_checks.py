"""Check the values of every feature file before training.

Building a dataset checks each file's header (shape, channels, length);
the values are only read when a video is loaded, mid-epoch. This module
reads them all up front and stops on what would otherwise crash or silently
spoil training:

* NaN / inf values,
* values of absurd magnitude (``|x| > max_abs``, default 1e4: real clip
  features are O(1)-O(100); 1e30 means a wrong or corrupt file),
* a non-floating dtype (integer or boolean arrays are labels or indices
  saved by mistake, not features).

Reading every file takes time (measured in ``docs/troubleshooting.md``), so
what was checked is remembered in a JSON cache keyed on the file's path (and
array key), size and modification time: a re-run reads only new or changed
files. ``tools/train.py`` and ``tools/check_dataset.py`` keep the cache in
the work dir (``<work_dir>/feature_checks.json``), never next to the data,
which may be read-only or shared.
"""
import json
import os
import os.path as osp
import time
from typing import Dict, List, Optional, Tuple

import numpy as np

from asl_mmaction.utils.atomic_files import atomic_write_json
from .feature_io import _describe, stored_array
from .tad_errors import TADDataError

# Larger than any real clip feature, far below float32 overflow.
DEFAULT_MAX_ABS = 1e4
# Rows read at a time, so that a long video is never copied whole.
_CHUNK_VALUES = 1 << 22
CACHE_NAME = 'feature_checks.json'


def _dtype_problem(array) -> Optional[str]:
    if hasattr(array, 'is_floating_point'):  # torch.Tensor
        return None if array.is_floating_point() else str(array.dtype)
    dtype = np.dtype(array.dtype)
    return None if np.issubdtype(dtype, np.floating) else str(dtype)


def _as_float(chunk) -> np.ndarray:
    if hasattr(chunk, 'detach'):
        return chunk.detach().float().numpy()
    return np.asarray(chunk)


def _bad_rows(chunk: np.ndarray, max_abs: float) -> Tuple[np.ndarray, str]:
    """Rows of ``chunk`` with NaN / inf / huge values and the worst kind."""
    finite = np.isfinite(chunk)
    if not finite.all():
        kind = 'NaN' if np.isnan(chunk).any() else 'inf'
        return np.flatnonzero(~finite.all(axis=1)), kind
    return np.flatnonzero((np.abs(chunk) > max_abs).any(axis=1)), 'huge'


def scan_feature_values(source: dict, max_abs: float = DEFAULT_MAX_ABS,
                        video: Optional[str] = None) -> int:
    """Read one feature source and check its dtype and values.

    Args:
        source (dict): a feature source (``feature_io.make_source``).
        max_abs (float): largest magnitude accepted.
        video (str, optional): video name, for the message.

    Returns:
        int: the number of time steps ``T``.

    Raises:
        TADDataError: naming the file (and video), the problem and the
            first bad time step.
    """
    what = _describe(source) + (f' (video {video})' if video else '')
    try:
        array = stored_array(source)
    except TADDataError:
        raise
    except Exception as exc:  # corrupt file, wrong format, ...
        raise TADDataError(f'cannot read features {what}: '
                           f'{type(exc).__name__}: {exc}') from exc
    dtype = _dtype_problem(array)
    if dtype is not None:
        raise TADDataError(
            f'features {what} are stored as {dtype}; features must be '
            'floating point (float16/32/64); an integer or boolean array is '
            'usually labels or indices saved in place of features')
    if len(array.shape) != 2:
        raise TADDataError(f'features {what} have shape {tuple(array.shape)}'
                           '; expected a 2-D [T, C] or [C, T] array')
    time_first = source['layout'] == 'TC'
    steps, channels = (int(n) for n in (array.shape if time_first
                                          else array.shape[::-1]))
    rows = max(1, _CHUNK_VALUES // max(channels, 1))
    for start in range(0, steps, rows):
        # (an HDF5 dataset has no .T: slice along time, then transpose)
        if time_first:
            chunk = _as_float(array[start:start + rows])
        else:
            chunk = _as_float(array[:, start:start + rows]).T
        if not chunk.size:
            continue
        low, high = chunk.min(), chunk.max()  # NaN propagates
        if np.isfinite(low) and np.isfinite(high) and \
                max(-float(low), float(high)) <= max_abs:
            continue
        bad, kind = _bad_rows(chunk, max_abs)
        first = start + int(bad[0])
        if kind == 'huge':
            peak = float(np.abs(chunk).max())
            raise TADDataError(
                f'features {what} have values of magnitude up to {peak:.3g}'
                f' (first at step {first}); expected within +-{max_abs:g}: '
                'a wrong or corrupt file? (if the values are right, raise '
                'max_abs_feature in the dataset config)')
        raise TADDataError(f'features {what} contain {kind} values, first '
                           f'at step {first}')
    return steps


class FeatureCheckCache:
    """Which feature files passed :func:`scan_feature_values`, as JSON.

    An entry is valid while the file's size and modification time and the
    ``max_abs`` it was checked with are unchanged. Saved atomically.
    """

    def __init__(self, path: Optional[str]) -> None:
        self.path = path
        self.entries: Dict[str, dict] = {}
        if path and osp.isfile(path):
            try:
                with open(path) as f:
                    self.entries = json.load(f)
            except (OSError, ValueError):  # unreadable cache: start again
                self.entries = {}

    @staticmethod
    def _key(source: dict) -> str:
        return f"{osp.realpath(source['path'])}::{source.get('key') or ''}"

    @staticmethod
    def _stamp(source: dict, max_abs: float) -> Optional[dict]:
        try:
            stat = os.stat(source['path'])
        except OSError:
            return None
        return dict(size=stat.st_size, mtime_ns=stat.st_mtime_ns,
                    max_abs=max_abs)

    def steps_if_checked(self, source: dict, max_abs: float
                         ) -> Optional[int]:
        """``T`` recorded for an unchanged file, else None."""
        entry = self.entries.get(self._key(source))
        stamp = self._stamp(source, max_abs)
        if entry is None or stamp is None or \
                any(entry.get(k) != v for k, v in stamp.items()):
            return None
        return entry['steps']

    def record(self, source: dict, max_abs: float, steps: int) -> None:
        stamp = self._stamp(source, max_abs)
        if stamp is not None:
            self.entries[self._key(source)] = dict(stamp, steps=steps)

    def save(self) -> None:
        if not self.path:
            return
        atomic_write_json(self.entries, self.path)


def check_dataset_feature_values(dataset, cache_file: Optional[str] = None,
                                 progress: bool = False) -> dict:
    """Check every feature source of ``dataset`` (a ``BaseTADDataset``).

    Args:
        dataset: built dataset; its ``max_abs_feature`` is the limit.
        cache_file (str, optional): JSON cache of checked files (see
            :class:`FeatureCheckCache`); None checks everything.
        progress (bool): show a progress bar (tqdm).

    Returns:
        dict: ``bad`` (list of ``(video_name, reason)``), ``steps``
        (``{video_name: T}`` of the good videos, the shortest set),
        ``read`` / ``cached`` (number of sources read / skipped) and
        ``seconds``.
    """
    max_abs = float(getattr(dataset, 'max_abs_feature', DEFAULT_MAX_ABS))
    cache = FeatureCheckCache(cache_file)
    infos = [dataset.get_data_info(i) for i in range(len(dataset))]
    if progress:
        from tqdm import tqdm
        infos = tqdm(infos, desc='checking feature values', unit='video')
    bad: List[Tuple[str, str]] = []
    steps: Dict[str, int] = {}
    read = cached = 0
    start = time.perf_counter()
    for info in infos:
        name = info['video_name']
        lengths = []
        try:
            for source in info['feat_sources']:
                if source['fmt'] == 'video':  # VideoTADDataset: no values
                    lengths.append(int(info.get('feat_len_on_disk', 0)))
                    continue
                length = cache.steps_if_checked(source, max_abs)
                if length is None:
                    read += 1
                    length = scan_feature_values(source, max_abs, name)
                    cache.record(source, max_abs, length)
                else:
                    cached += 1
                lengths.append(length)
        except TADDataError as exc:
            bad.append((name, str(exc)))
            continue
        steps[name] = min(lengths)
    cache.save()
    return dict(bad=bad, steps=steps, read=read, cached=cached,
                seconds=time.perf_counter() - start)
