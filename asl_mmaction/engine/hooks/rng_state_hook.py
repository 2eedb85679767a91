"""Save the random number generators' state in checkpoints.

MMEngine re-seeds every generator when a run starts, so a resumed run would
draw different random crops, dropout masks and contrastive background
samples than the run it continues. Restoring the state saved with the
checkpoint makes ``--resume`` end with the same weights as an uninterrupted
run (on the same device and number of processes).

The states are stored as tensors and plain Python values, so that the
checkpoint loads under torch's ``weights_only=True`` default (see
``PlainCheckpointHook``); checkpoints that hold numpy's own tuple still
load.
"""
import random

import numpy as np
import torch
from mmengine.hooks import Hook
from mmaction.registry import HOOKS


def numpy_state_to_plain(state: tuple) -> dict:
    """``np.random.get_state()`` (``('MT19937', uint32[624] key, pos,
    has_gauss, cached_gaussian)``) as a dict of a tensor and Python values."""
    name, key, pos, has_gauss, cached = state
    return dict(name=name, key=torch.from_numpy(key.astype(np.int64)),
                pos=int(pos), has_gauss=int(has_gauss),
                cached_gaussian=float(cached))


def numpy_state_from_plain(state) -> tuple:
    """Invert :func:`numpy_state_to_plain`; numpy's own tuple passes."""
    if not isinstance(state, dict):
        return state
    return (state['name'], state['key'].numpy().astype(np.uint32),
            state['pos'], state['has_gauss'], state['cached_gaussian'])


@HOOKS.register_module()
class RNGStateHook(Hook):
    """Store / restore Python, NumPy, torch (and CUDA) generator states."""

    priority = 'VERY_LOW'

    def before_save_checkpoint(self, runner, checkpoint: dict) -> None:
        state = dict(python=random.getstate(),
                     numpy=numpy_state_to_plain(np.random.get_state()),
                     torch=torch.get_rng_state())
        if torch.cuda.is_available():
            state['cuda'] = torch.cuda.get_rng_state_all()
        checkpoint['rng_state'] = state

    def after_load_checkpoint(self, runner, checkpoint: dict) -> None:
        # Only a resume continues the stream; load_from starts a new run.
        state = checkpoint.get('rng_state')
        if state is None or not runner._resume:
            return
        random.setstate(state['python'])
        np.random.set_state(numpy_state_from_plain(state['numpy']))
        torch.set_rng_state(state['torch'])
        if 'cuda' in state and torch.cuda.is_available():
            torch.cuda.set_rng_state_all(state['cuda'])
