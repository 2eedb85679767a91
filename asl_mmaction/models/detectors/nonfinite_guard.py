"""What to do when a training loss is NaN or inf.

By default training stops with a message naming the iteration, the videos of
the batch and every loss term, so the culprit can be found. With
``skip_nonfinite=True`` the batch is skipped instead: its losses are replaced
by a zero that is still connected to every parameter (so DDP's gradient
all-reduce runs on all ranks and nobody hangs), and the number of skipped
batches is kept in the message hub as ``train/nonfinite_skips``.
"""
from typing import Dict, List, Optional

import torch
from mmengine.logging import MessageHub


def nonfinite_terms(losses: Dict[str, torch.Tensor]) -> Dict[str, float]:
    """Loss terms (``loss*`` keys) whose value is not finite."""
    bad = {}
    for name, value in losses.items():
        if 'loss' not in name:
            continue
        values = value if isinstance(value, (list, tuple)) else [value]
        total = sum(v.detach().float().sum() for v in values)
        if not torch.isfinite(total):
            bad[name] = float(total)
    return bad


def guard_losses(losses: Dict[str, torch.Tensor], params: List[torch.Tensor],
                 data_samples: Optional[list],
                 skip: bool) -> Dict[str, torch.Tensor]:
    """Raise, or zero the losses, when a term is not finite.

    Raises:
        FloatingPointError: naming iteration, videos and loss terms.
    """
    bad = nonfinite_terms(losses)
    if not bad:
        return losses
    hub = MessageHub.get_current_instance()
    if skip:
        zero = sum(p.sum() * 0.0 for p in params if p.requires_grad)
        skips = hub.get_info('nonfinite_skips', 0) + 1
        hub.update_info('nonfinite_skips', skips)
        hub.update_scalar('train/nonfinite_skips', skips)
        return {name: (zero if 'loss' in name else value)
                for name, value in losses.items()}
    videos = [s.metainfo.get('video_name', '?') for s in data_samples or []]
    terms = ', '.join(f'{k}={v:.4g}' for k, v in losses_as_floats(
        losses).items())
    raise FloatingPointError(
        f'non-finite loss at iteration {_one_based(hub, "iter")} (epoch '
        f'{_one_based(hub, "epoch")}): '
        f'{", ".join(sorted(bad))} not finite; videos: {videos}; loss terms: '
        f'{terms}. Check these videos\' features (tools/check_dataset.py), '
        'lower the learning rate, or set model.skip_nonfinite=True to skip '
        'such batches.')


def _one_based(hub: MessageHub, key: str) -> str:
    """The runtime info ``key`` counted from 1, as the training log (and
    ``scalars.json``) counts iterations and epochs; '?' outside a Runner."""
    value = hub.get_info(key)
    return '?' if value is None else str(int(value) + 1)


def losses_as_floats(losses: Dict[str, torch.Tensor]) -> Dict[str, float]:
    return {k: float(sum(v.detach().float().sum() for v in (
        v if isinstance(v, (list, tuple)) else [v])))
        for k, v in losses.items()}
