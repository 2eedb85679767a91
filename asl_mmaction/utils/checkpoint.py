"""Checkpoint loading under torch >= 2.6 (``weights_only=True`` by default).

MMEngine checkpoints hold the message hub's ``HistoryBuffer`` objects, which
pickle bound methods through ``getattr``; allow-listing ``getattr`` would
make every load unsafe. So the safety default stays on, and a checkpoint is
loaded in full only when the user named it (or the work dir holding it)
explicitly: ``tools/train.py`` trusts its ``--resume`` file, ``load_from``
and its own work dir, ``tools/test.py`` / ``tools/infer.py`` their
checkpoint argument. Other paths can be trusted with
``ASL_TRUSTED_CHECKPOINTS`` (paths or folders separated by ``os.pathsep``).
Anything else is loaded with ``weights_only=True`` plus a short allow-list
of numpy types, which is enough for plain weight files.
"""
import os
import os.path as osp
from typing import Optional, Set

import numpy as np
import torch
from mmengine.runner import CheckpointLoader

_TRUSTED: Set[str] = set()

# Plain data types seen in MMEngine checkpoints, none of them callable in a
# harmful way.
_SAFE_CLASSES = [np.core.multiarray._reconstruct, np.ndarray, np.dtype] + [
    type(np.dtype(t)) for t in ('float64', 'float32', 'float16', 'int64',
                                'int32', 'int16', 'int8', 'uint8', 'bool')]


def trust_checkpoint(path: Optional[str]) -> None:
    """Mark a checkpoint file, or every file under a folder, as trusted."""
    if path:
        _TRUSTED.add(osp.realpath(path))


def is_trusted(path: str) -> bool:
    real = osp.realpath(path)
    roots = set(_TRUSTED)
    roots.update(osp.realpath(p) for p in os.environ.get(
        'ASL_TRUSTED_CHECKPOINTS', '').split(os.pathsep) if p)
    return any(real == r or real.startswith(r + os.sep) for r in roots)


def load_local_checkpoint(filename: str, map_location=None):
    """MMEngine's local-file loader, with the trust rule above."""
    if not osp.isfile(filename):
        raise FileNotFoundError(f'checkpoint {filename} does not exist')
    if is_trusted(filename):
        return torch.load(filename, map_location=map_location,
                          weights_only=False)
    try:
        with torch.serialization.safe_globals(_SAFE_CLASSES):
            return torch.load(filename, map_location=map_location,
                              weights_only=True)
    except Exception as err:  # pickle.UnpicklingError and friends
        raise RuntimeError(
            f'checkpoint {filename} holds Python objects that torch\'s safe '
            'loader refuses (MMEngine training state). If you trust this '
            'file, pass it explicitly (--resume / --cfg-options load_from=.. '
            'or as the checkpoint argument of tools/test.py) or add it to '
            f'ASL_TRUSTED_CHECKPOINTS. Loader said: {str(err)[:300]}') from err


def last_checkpoint_cfg(cfg):
    """A copy of an MMEngine ``cfg`` that loads the newest checkpoint of its
    work dir (``last_checkpoint``), to test the saved weights in a fresh
    Runner: testing inside the training Runner would rebuild the EMA copy
    from the raw weights."""
    cfg = cfg.copy()
    trust_checkpoint(cfg.work_dir)  # the run's own output
    with open(osp.join(cfg.work_dir, 'last_checkpoint')) as f:
        cfg.load_from = f.read().strip()
    cfg.resume = False
    return cfg


def install_checkpoint_loader() -> None:
    """Install :func:`load_local_checkpoint` as MMEngine's local loader."""
    CheckpointLoader.register_scheme(prefixes='', force=True)(
        load_local_checkpoint)
