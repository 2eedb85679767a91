"""Checkpoints that load under torch's ``weights_only=True`` default.

torch >= 2.6 loads with ``weights_only=True``: only tensors and plain
Python containers and scalars unpickle. An MMEngine checkpoint holds more:
the message hub's ``HistoryBuffer`` objects (which pickle bound methods
through ``getattr``) and numpy arrays and scalars. Rather than loosening the
loader, this project writes checkpoints that need no loosening:
:func:`to_plain` turns every such object into tensors and plain types when a
checkpoint is saved and :func:`from_plain` turns them back when it is
loaded (``PlainCheckpointHook``, registered in
``configs/_base_/default_runtime.py``). MMEngine's own loader, unchanged,
then reads them: ``load_from``, ``resume`` and ``Pretrained`` init behave
as in any MMEngine process.

Older checkpoints (or foreign MMEngine ones) still hold pickled objects.
Loading those is opt-in and scoped: inside :func:`trusted_checkpoints`
(used by this repository's tools for the files the user named on the
command line) a named file that torch's safe loader refuses is loaded in
full, with a warning; every other file goes to MMEngine's loader as usual,
and leaving the block restores MMEngine's loader.
"""
import contextlib
import logging
import os
import os.path as osp
import pickle
from typing import Any, Callable, Iterable, Iterator, Optional, Set

import numpy as np
import torch
from mmengine.logging import HistoryBuffer, print_log
from mmengine.runner import CheckpointLoader

# Tags of the plain encodings (dict keys no MMEngine checkpoint uses).
_NUMPY_TAG = '__numpy__'
_HISTORY_TAG = '__history_buffer__'


# ----------------------------------------------------------------- codec
def _encode_numpy(value) -> dict:
    """An ndarray or numpy scalar as ``{tag: kind, dtype, shape, data}``:
    the raw bytes in a uint8 tensor, so every dtype round-trips exactly."""
    array = np.asarray(value)
    raw = torch.frombuffer(bytearray(array.tobytes()), dtype=torch.uint8) \
        if array.nbytes else torch.zeros(0, dtype=torch.uint8)
    return {_NUMPY_TAG: 'scalar' if isinstance(value, np.generic) else
            'ndarray', 'dtype': array.dtype.str,
            'shape': list(array.shape), 'data': raw}


def _decode_numpy(value: dict):
    array = np.frombuffer(value['data'].numpy().tobytes(),
                          dtype=np.dtype(value['dtype'])).reshape(
                              value['shape']).copy()
    return array[()] if value[_NUMPY_TAG] == 'scalar' else array


def _same_dict(original: dict, items) -> dict:
    """A dict of ``original``'s type with ``items``, keeping the
    ``_metadata`` attribute that module state dicts carry."""
    new = type(original)(items)
    if hasattr(original, '_metadata'):
        new._metadata = original._metadata
    return new


def to_plain(obj: Any) -> Any:
    """A copy of ``obj`` that ``torch.load(weights_only=True)`` accepts.

    ``HistoryBuffer`` and numpy arrays / scalars (not of ``object`` dtype)
    become tagged dicts of tensors and plain values; containers are
    rebuilt with their own type
    (``dict``, ``OrderedDict``, ``list``, ``tuple``); tensors and plain
    values are kept as they are (not copied). :func:`from_plain` inverts it.
    """
    if isinstance(obj, HistoryBuffer):
        return {_HISTORY_TAG: dict(
            log_history=_encode_numpy(obj._log_history),
            count_history=_encode_numpy(obj._count_history),
            max_length=int(obj.max_length))}
    if isinstance(obj, (np.ndarray, np.generic)) and obj.dtype != object:
        return _encode_numpy(obj)
    if isinstance(obj, dict):
        return _same_dict(obj, ((k, to_plain(v)) for k, v in obj.items()))
    if isinstance(obj, (list, tuple)) and not hasattr(obj, '_fields'):
        return type(obj)(to_plain(v) for v in obj)
    return obj


def from_plain(obj: Any) -> Any:
    """Invert :func:`to_plain` (untagged input comes back unchanged)."""
    if isinstance(obj, dict):
        if _HISTORY_TAG in obj:
            state = obj[_HISTORY_TAG]
            return HistoryBuffer(_decode_numpy(state['log_history']),
                                 _decode_numpy(state['count_history']),
                                 state['max_length'])
        if _NUMPY_TAG in obj:
            return _decode_numpy(obj)
        return _same_dict(obj, ((k, from_plain(v)) for k, v in obj.items()))
    if isinstance(obj, (list, tuple)) and not hasattr(obj, '_fields'):
        return type(obj)(from_plain(v) for v in obj)
    return obj


# ------------------------------------------- opt-in, scoped full loading
_TRUSTED: Set[str] = set()
_MMENGINE_LOADER: Optional[Callable] = None


def _is_trusted(path: str) -> bool:
    real = osp.realpath(path)
    return any(real == root or real.startswith(root + os.sep)
               for root in _TRUSTED)


def _load_local(filename: str, map_location=None):
    """MMEngine's local loader for every file; a trusted file that torch's
    safe loader refuses (an old or foreign checkpoint holding pickled
    objects) is loaded again in full."""
    try:
        return _MMENGINE_LOADER(filename, map_location)
    except pickle.UnpicklingError:
        if not _is_trusted(filename):
            raise
        print_log(f'{filename} holds Python objects that torch\'s safe '
                  'loader refuses (an older or foreign MMEngine checkpoint); '
                  'you named it, so it is loaded in full. Checkpoints written '
                  'with this version load safely.', logger='current',
                  level=logging.WARNING)
        return torch.load(osp.expanduser(filename),
                          map_location=map_location, weights_only=False)


def trust_checkpoint(path: Optional[str]) -> None:
    """Trust a checkpoint file, or every file under a folder, for the rest
    of this process: only for a file the user named (a tool's argument).

    Installs :func:`_load_local` as MMEngine's local loader; it behaves as
    MMEngine's for every file not trusted here. Prefer
    :func:`trusted_checkpoints`, which undoes both on exit.
    """
    global _MMENGINE_LOADER
    if not path:
        return
    _TRUSTED.add(osp.realpath(osp.expanduser(path)))
    current = CheckpointLoader._schemes.get('')
    if current is not _load_local:
        _MMENGINE_LOADER = current
        CheckpointLoader.register_scheme(prefixes='', force=True)(_load_local)


@contextlib.contextmanager
def trusted_checkpoints(paths: Iterable[Optional[str]]) -> Iterator[None]:
    """Inside the block, the files (or folders) in ``paths`` load in full
    when torch's safe loader refuses them; on exit the trust is withdrawn
    and MMEngine's loader is back. ``None`` entries are ignored.

    Example (a tool, for the checkpoint named on its command line)::

        with trusted_checkpoints([args.checkpoint]):
            runner.test()
    """
    saved_trust = set(_TRUSTED)
    saved_loader = CheckpointLoader._schemes.get('')
    try:
        for path in paths:
            trust_checkpoint(path)
        yield
    finally:
        _TRUSTED.clear()
        _TRUSTED.update(saved_trust)
        if saved_loader is not None and \
                CheckpointLoader._schemes.get('') is not saved_loader:
            CheckpointLoader.register_scheme(prefixes='', force=True)(
                saved_loader)


def last_checkpoint_cfg(cfg):
    """A copy of an MMEngine ``cfg`` that loads the newest checkpoint of its
    work dir (``last_checkpoint``), to test the saved weights in a fresh
    Runner: testing inside the training Runner would rebuild the EMA copy
    from the raw weights."""
    cfg = cfg.copy()
    with open(osp.join(cfg.work_dir, 'last_checkpoint')) as f:
        cfg.load_from = f.read().strip()
    cfg.resume = False
    return cfg
