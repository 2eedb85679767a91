"""Reading pre-extracted clip features from .npy / .npz / .pt / HDF5 files.

A *feature source* is a plain dict (picklable, so it travels through
MMEngine's serialised data list and into dataloader workers)::

    dict(path=str, fmt='npy'|'npz'|'pt'|'h5', key=str|None, layout='TC'|'CT')

``key`` is the array name inside an ``.npz`` file or the dataset name (the
video id) inside an HDF5 file. Every function returns / checks ``[T, C]``
(time first), whatever the layout on disk.

``peek_shape`` is cheap (memory map or header only) so that datasets can
check every file when they are built; ``load_array`` reads the values.
"""
import os
import zipfile
from typing import Dict, Optional, Tuple

import numpy as np

from .tad_errors import TADDataError

SUFFIX_TO_FMT = {'.npy': 'npy', '.npz': 'npz', '.pt': 'pt', '.pth': 'pt',
                 '.h5': 'h5', '.hdf5': 'h5'}

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
    raise AssertionError(fmt)


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
        if source['fmt'] == 'npz':
            if not os.path.isfile(source['path']):
                raise TADDataError(f"feature file not found: {source['path']}")
            with np.load(source['path']) as archive:
                if source['key'] not in archive.files:
                    raise TADDataError(
                        f"{source['path']}: no array {source['key']!r} in the "
                        f'.npz file (it holds {archive.files}); set npz_key')
                array = archive[source['key']]
        elif source['fmt'] == 'pt':
            array = _open_lazy(source)
            array = array.float().numpy() if hasattr(array, 'numpy') else array
        elif source['fmt'] == 'h5':
            array = _open_lazy(source)[()]
        else:
            array = _open_lazy(source)
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
