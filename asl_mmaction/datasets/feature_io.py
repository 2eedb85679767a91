"""Reading pre-extracted clip features from .npy / .npz / .pt / HDF5 files,
and MMAction2's ``.pkl`` feature files.

A *feature source* is a plain dict (picklable, so it travels through
MMEngine's serialised data list and into dataloader workers)::

    dict(path=str, fmt='npy'|'npz'|'pt'|'h5'|'pkl', key=str|None,
         layout='TC'|'CT')

``key`` is the array name inside an ``.npz`` file or the dataset name (the
video id) inside an HDF5 file. Every function returns / checks ``[T, C]``
(time first), whatever the layout on disk.

``peek_shape`` is cheap (memory map or header only) so that datasets can
check every file when they are built; ``load_array`` reads the values.
``.pkl`` files (what MMAction2's ``tools/misc/clip_feature_extraction.py``
writes: a pickled tensor or array) have no header and are read whole, through
an unpickler that only rebuilds tensors and arrays (see ``_TensorUnpickler``).

Features written by ``tools/extract_features.py`` carry a *sidecar*, a JSON
file ``<feature file>.json`` recording the grid they were extracted on (fps,
``feat_stride``, ``num_frames``), the video and the recognizer; see
:func:`read_sidecar` and :func:`check_feature_grid`.
"""
import io
import json
import os
import pickle
import zipfile
from typing import Dict, Optional, Tuple

import numpy as np

from .tad_errors import TADDataError

SUFFIX_TO_FMT = {'.npy': 'npy', '.npz': 'npz', '.pt': 'pt', '.pth': 'pt',
                 '.h5': 'h5', '.hdf5': 'h5', '.pkl': 'pkl'}
SIDECAR_SUFFIX = '.json'

# HDF5 handles stay open per process: opening a file costs far more than
# reading one clip. Keyed by pid so forked dataloader workers open their own.
_H5_HANDLES: Dict[Tuple[int, str], object] = {}


def make_source(path: str, key: Optional[str] = None,
                layout: str = 'TC') -> dict:
    """A feature source for ``path``; the format comes from its suffix."""
    suffix = os.path.splitext(path)[1].lower()
    if suffix not in SUFFIX_TO_FMT:
        raise TADDataError(f'unsupported feature file type {suffix!r} '
                           f'({path}); use one of {sorted(SUFFIX_TO_FMT)}')
    if layout not in ('TC', 'CT'):
        raise TADDataError(f"feat_layout must be 'TC' or 'CT', got {layout!r}")
    return dict(path=path, fmt=SUFFIX_TO_FMT[suffix], key=key, layout=layout)


def _describe(source: dict) -> str:
    if source['fmt'] in ('npz', 'h5'):
        return f"{source['path']}[{source['key']}]"
    return source['path']


def _h5_file(path: str):
    import h5py  # optional dependency, only needed for HDF5 features
    handle_key = (os.getpid(), path)
    if handle_key not in _H5_HANDLES:
        _H5_HANDLES[handle_key] = h5py.File(path, 'r')
    return _H5_HANDLES[handle_key]


def _npz_member_shape(path: str, key: str) -> Tuple[int, ...]:
    """Shape of one array in an .npz archive, from its header only."""
    with zipfile.ZipFile(path) as archive:
        name = f'{key}.npy'
        if name not in archive.namelist():
            keys = [n[:-4] for n in archive.namelist()]
            raise TADDataError(f'{path}: no array {key!r} in the .npz file '
                               f'(it holds {keys}); set npz_key')
        with archive.open(name) as f:
            version = np.lib.format.read_magic(f)
            if version == (1, 0):
                shape, _, _ = np.lib.format.read_array_header_1_0(f)
            else:
                shape, _, _ = np.lib.format.read_array_header_2_0(f)
    return shape


def _load_storage_safely(data: bytes):
    """Stand-in for ``torch.storage._load_from_bytes``, which a pickled
    tensor calls on its storage bytes: the same ``torch.load``, but with
    ``weights_only=True`` (the original loads them with full unpickling)."""
    import torch
    return torch.load(io.BytesIO(data), weights_only=True)


class _TensorUnpickler(pickle.Unpickler):
    """Unpickles tensors, arrays and plain containers, nothing else.

    A pickled CPU tensor names ``torch._utils._rebuild_tensor_v2`` and
    ``torch.storage._load_from_bytes`` (the storage, itself a small
    ``torch.save`` file); a numpy array names ``_reconstruct``, ``ndarray``
    and ``dtype``; protocol 2 spells bytes with ``_codecs.encode``. Any
    other global (``os.system``, ``builtins.eval``, ...) is refused, so a
    feature file cannot run code when it is read.
    """

    def find_class(self, module: str, name: str):
        import numpy.core.multiarray
        import torch
        allowed = {
            ('torch._utils', '_rebuild_tensor_v2'):
                torch._utils._rebuild_tensor_v2,
            ('torch._utils', '_rebuild_tensor'): torch._utils._rebuild_tensor,
            ('torch.storage', '_load_from_bytes'): _load_storage_safely,
            ('collections', 'OrderedDict'): __import__(
                'collections').OrderedDict,
            ('_codecs', 'encode'): __import__('codecs').encode,
            ('numpy.core.multiarray', '_reconstruct'):
                numpy.core.multiarray._reconstruct,
            ('numpy', 'ndarray'): np.ndarray,
            ('numpy', 'dtype'): np.dtype,
        }
        if (module, name) in allowed:
            return allowed[(module, name)]
        raise pickle.UnpicklingError(
            f'refused to load {module}.{name}: a feature .pkl may only hold '
            'a tensor or an array')


def _load_pickle(path: str) -> np.ndarray:
    """The tensor / array of an MMAction2 ``.pkl`` feature file."""
    with open(path, 'rb') as f:
        value = _TensorUnpickler(f).load()
    if hasattr(value, 'numpy'):  # torch.Tensor
        value = value.detach().float().numpy()
    if not isinstance(value, np.ndarray):
        raise TADDataError(f'{path}: holds a {type(value).__name__}, not a '
                           'tensor or array of features')
    if value.ndim == 1:
        raise TADDataError(
            f'{path}: holds one vector {value.shape} for the whole video; '
            'extract one feature per clip (MMAction2: --long-video-mode '
            '--clip-interval N; or tools/extract_features.py)')
    return value


def _open_lazy(source: dict):
    """The stored array without reading its values (shape is cheap)."""
    path, fmt = source['path'], source['fmt']
    if fmt == 'h5':
        if not os.path.isfile(path):
            raise TADDataError(f'feature file not found: {path}')
        handle = _h5_file(path)
        if source['key'] not in handle:
            raise TADDataError(f'{path}: no entry for video '
                               f"{source['key']!r} in the HDF5 file")
        return handle[source['key']]
    if not os.path.isfile(path):
        raise TADDataError(f'feature file not found: {path}')
    if fmt == 'npy':
        return np.load(path, mmap_mode='r')
    if fmt == 'pt':
        import torch
        try:
            return torch.load(path, map_location='cpu', mmap=True,
                              weights_only=True)
        except RuntimeError:  # legacy (non-zip) files cannot be mapped
            return torch.load(path, map_location='cpu', weights_only=True)
    if fmt == 'pkl':
        return _load_pickle(path)
    raise AssertionError(fmt)


def stored_array(source: dict):
    """The array as stored (lazily where the format allows): a memory map
    (.npy), an HDF5 dataset, a tensor (.pt), an unpickled value (.pkl) or
    an array read from its .npz archive."""
    if source['fmt'] != 'npz':
        return _open_lazy(source)
    if not os.path.isfile(source['path']):
        raise TADDataError(f"feature file not found: {source['path']}")
    with np.load(source['path']) as archive:
        if source['key'] not in archive.files:
            raise TADDataError(
                f"{source['path']}: no array {source['key']!r} in the "
                f'.npz file (it holds {archive.files}); set npz_key')
        return archive[source['key']]


def peek_shape(source: dict) -> Tuple[int, int]:
    """``(T, C)`` of a feature source without reading the values.

    Raises:
        TADDataError: missing / unreadable file, or an array that is not 2-D.
    """
    try:
        if source['fmt'] == 'npz':
            if not os.path.isfile(source['path']):
                raise TADDataError(f"feature file not found: {source['path']}")
            shape = _npz_member_shape(source['path'], source['key'])
        else:
            shape = tuple(_open_lazy(source).shape)
    except TADDataError:
        raise
    except Exception as exc:  # corrupt file, wrong format, ...
        raise TADDataError(f'cannot read features {_describe(source)}: '
                           f'{type(exc).__name__}: {exc}') from exc
    if len(shape) != 2:
        raise TADDataError(f'features {_describe(source)} have shape '
                           f'{tuple(shape)}; expected a 2-D [T, C] or '
                           '[C, T] array')
    return tuple(shape) if source['layout'] == 'TC' else tuple(shape[::-1])


def load_array(source: dict) -> np.ndarray:
    """The features of one source as ``float32 [T, C]``."""
    try:
        array = stored_array(source)
        if source['fmt'] == 'pt':
            array = array.float().numpy() if hasattr(array, 'numpy') else array
        elif source['fmt'] == 'h5':
            array = array[()]
    except TADDataError:
        raise
    except Exception as exc:
        raise TADDataError(f'cannot read features {_describe(source)}: '
                           f'{type(exc).__name__}: {exc}') from exc
    if array.ndim != 2:
        raise TADDataError(f'features {_describe(source)} have shape '
                           f'{array.shape}; expected a 2-D array')
    if source['layout'] == 'CT':
        array = array.T
    # Always a private in-memory copy: memory-mapped arrays must not leak
    # into the pipeline (they would keep files open and be read lazily).
    return np.array(array, dtype=np.float32, order='C')


def check_finite(array: np.ndarray, what: str) -> None:
    """Raise naming ``what`` and the first bad step if NaN / inf is present."""
    finite = np.isfinite(array)
    if not finite.all():
        steps = np.nonzero(~finite.all(axis=1))[0]
        kind = 'NaN' if np.isnan(array).any() else 'inf'
        raise TADDataError(f'features {what} contain {kind} values at '
                           f'{len(steps)} time step(s), first at step '
                           f'{int(steps[0])}')


# ------------------------------------------------------------------ sidecars
def sidecar_path(feature_path: str) -> str:
    """``<feature file>.json``: the grid record of an extracted file."""
    return feature_path + SIDECAR_SUFFIX


def read_sidecar(feature_path: str) -> Optional[dict]:
    """The sidecar of ``feature_path`` as a dict, None when there is none.

    Keys written by ``tools/extract_features.py``: ``fps``, ``feat_stride``,
    ``num_frames`` (the grid: one feature per window of ``num_frames``
    frames at ``fps``, every ``feat_stride`` frames), ``clip_len``,
    ``num_steps``, ``channels``, ``duration`` (s), ``video``, ``backbone``,
    ``recognizer_config``, ``checkpoint``.
    """
    path = sidecar_path(feature_path)
    if not os.path.isfile(path):
        return None
    try:
        with open(path, encoding='utf-8') as f:
            meta = json.load(f)
    except (OSError, ValueError) as exc:
        raise TADDataError(f'cannot read the feature sidecar {path}: '
                           f'{exc}') from exc
    missing = ([k for k in ('fps', 'feat_stride', 'num_frames')
                if k not in meta] if isinstance(meta, dict) else ['fps'])
    if missing:
        raise TADDataError(f'feature sidecar {path} lacks {missing}')
    return meta


def check_feature_grid(feature_path: str, fps: Optional[float],
                       feat_stride: float, num_frames: float) -> None:
    """Raise when the sidecar of ``feature_path`` (if any) records another
    grid than ``fps`` / ``feat_stride`` / ``num_frames`` (``fps`` None:
    not checked). Catches features extracted at another stride or frame rate
    than the config assumes, which would shift every detection in time."""
    meta = read_sidecar(feature_path)
    if meta is None:
        return
    asked = dict(fps=fps, feat_stride=feat_stride, num_frames=num_frames)
    wrong = {k: (v, meta[k]) for k, v in asked.items()
             if v is not None and abs(float(v) - float(meta[k])) > 1e-6}
    if wrong:
        detail = ', '.join(f'{k}={got} but the features have {k}={have}'
                           for k, (got, have) in wrong.items())
        raise TADDataError(f'features {feature_path}: {detail} (from '
                           f'{sidecar_path(feature_path)}); set the '
                           'dataset / tool to the grid they were extracted on')
