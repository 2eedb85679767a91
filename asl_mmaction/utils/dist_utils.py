"""Distributed set-up that also works on machines without CUDA.

MMEngine's ``init_dist`` calls ``torch.cuda.set_device`` and the Runner wraps
the model with ``device_ids=[LOCAL_RANK]``; both fail on CPU. Here, when CUDA
is absent, the process group is created with gloo before the Runner sees it
(the Runner then skips its own ``init_dist``) and DDP gets
``device_ids=None``. Nothing changes on GPU machines.
"""
import os
import shutil
import subprocess
from collections import OrderedDict
from datetime import timedelta
from typing import Dict

import torch
import torch.distributed as dist
from mmengine.config import Config


def prepare_distributed(cfg: Config, launcher: str) -> None:
    """Edit ``cfg`` (and init the process group on CPU) for ``launcher``."""
    if launcher == 'none' or torch.cuda.is_available():
        return
    if launcher == 'slurm':
        export_slurm_env()
    elif launcher != 'pytorch':
        raise RuntimeError(
            f'launcher "{launcher}" needs CUDA; on a CPU-only machine use '
            '--launcher pytorch (tools/dist_train.sh) or slurm')
    dist_cfg = cfg.setdefault('env_cfg', {}).setdefault('dist_cfg', {})
    dist_cfg['backend'] = 'gloo'
    if not dist.is_initialized():
        timeout = timedelta(seconds=dist_cfg.get('timeout', 1800))
        dist.init_process_group(backend='gloo', timeout=timeout)
    wrapper = cfg.get('model_wrapper_cfg') or dict(
        type='MMDistributedDataParallel', broadcast_buffers=False,
        find_unused_parameters=cfg.get('find_unused_parameters', False))
    wrapper['device_ids'] = None  # CPU modules take no device ids
    cfg.model_wrapper_cfg = wrapper
    # Sync-BN needs CUDA; the models here use LayerNorm only.
    cfg.pop('sync_bn', None)


def export_slurm_env(default_port: int = 29500) -> None:
    """torchrun-style variables from Slurm's, as MMEngine's slurm launcher
    sets them (it cannot run here: it calls ``torch.cuda.set_device``)."""
    os.environ['RANK'] = os.environ['SLURM_PROCID']
    os.environ['WORLD_SIZE'] = os.environ['SLURM_NTASKS']
    os.environ['LOCAL_RANK'] = os.environ.get('SLURM_LOCALID', '0')
    if 'MASTER_ADDR' not in os.environ:
        nodes = os.environ.get('SLURM_NODELIST', '127.0.0.1')
        first = subprocess.run(['scontrol', 'show', 'hostnames', nodes],
                               capture_output=True, text=True) if \
            shutil.which('scontrol') else None
        os.environ['MASTER_ADDR'] = (first.stdout.split() or [nodes])[0] \
            if first else nodes.split(',')[0]
    os.environ.setdefault('MASTER_PORT', str(default_port))


def shutdown_distributed(clean: bool = True) -> None:
    """Destroy the process group; after a clean run, barrier first (gloo
    can abort at interpreter exit when a peer is still tearing down its
    sockets).

    After a failure (``clean=False``) there is no barrier: the other ranks
    are blocked in some other collective and would never reach it, so the
    failing rank would hang instead of exiting, and torchrun only stops the
    survivors once a rank has exited.
    """
    if dist.is_available() and dist.is_initialized():
        if clean:
            dist.barrier()
        dist.destroy_process_group()


def mean_over_ranks(
        values: Dict[str, torch.Tensor]) -> Dict[str, torch.Tensor]:
    """Average scalar tensors over the processes (one all-reduce), for
    logging only: the values are detached copies.

    Only rank 0 writes the log, and under DDP each rank's loss is its own
    share of the global loss times the world size (see
    ``LossNormalizer``); the mean over ranks is the loss of the global
    batch, the number a single-process run with that batch would log.
    """
    if not (dist.is_available() and dist.is_initialized()) or \
            dist.get_world_size() == 1 or not values:
        return values
    names = list(values)
    stacked = torch.stack([values[n].detach().float().reshape(())
                           for n in names])
    dist.all_reduce(stacked, op=dist.ReduceOp.SUM)
    stacked /= dist.get_world_size()
    return OrderedDict(zip(names, stacked.unbind(0)))


def run_runner(cfg: Config, launcher: str, action: str):
    """Build MMEngine's Runner from ``cfg`` and call ``runner.<action>()``
    (``'train'`` / ``'test'``), set up for ``launcher`` and shut down
    afterwards; returns what the action returns."""
    from mmengine.runner import Runner
    prepare_distributed(cfg, launcher)
    finished = False
    try:
        result = getattr(Runner.from_cfg(cfg), action)()
        finished = True
        return result
    finally:
        # no barrier after an error: the other ranks could not reach it
        shutdown_distributed(clean=finished)


def local_rank() -> int:
    return int(os.environ.get('LOCAL_RANK', 0))
