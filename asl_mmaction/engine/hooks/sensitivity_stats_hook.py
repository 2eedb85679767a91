"""Log the learned class-sensitivity Gaussians during training.

A collapse of the class-level weights does not show in the loss, which
simply gets smaller: in ``reference`` mode sigma shrinks or mu drifts out of
the segments and the mean positive weight falls towards 0; in
``normalized`` mode the mean stays 1 and the mean *squared* weight grows as
the weight piles onto a few points. This hook puts the learned parameters
and both statistics in the log so either can be seen.
"""
import math
from typing import Dict, Optional

import torch
from mmengine.dist import all_reduce
from mmengine.hooks import Hook
from mmaction.registry import HOOKS

from asl_mmaction.models.heads.plugins import SENSITIVITY_TASKS
from asl_mmaction.models.sensitivity import ClassSensitivityEvaluator


def find_class_sensitivity(model) -> Optional[ClassSensitivityEvaluator]:
    """The first ``ClassSensitivityEvaluator`` inside ``model`` (wrapped in
    DDP or not), None if there is none."""
    for module in model.modules():
        if isinstance(module, ClassSensitivityEvaluator):
            return module
    return None


def group_stats(stats: dict, group_size: int) -> Dict[str, float]:
    """Per group of ``group_size`` consecutive class ids: mean mu and sigma
    of every Gaussian and the mean positive weight of the group's points.

    Args:
        stats (dict): Output of ``ClassSensitivityEvaluator.stats()``.
        group_size (int): Classes per group.

    Returns:
        dict: ``{'sensitivity/<task>_mu/g<i>': value, ...}`` with tasks
        ``cls``, ``start``, ``end`` for mu and sigma and ``cls`` / ``loc``
        for ``weight`` and ``weight_sq`` (mean and mean square of the
        positive points' weights; NaN when the group had no point).
    """
    scalars = {}
    num_classes = stats['mu'].shape[0]
    for g, lo in enumerate(range(0, num_classes, group_size)):
        hi = min(lo + group_size, num_classes)
        for t, task in enumerate(SENSITIVITY_TASKS):
            scalars[f'sensitivity/{task}_mu/g{g}'] = \
                float(stats['mu'][lo:hi, t].mean())
            scalars[f'sensitivity/{task}_sigma/g{g}'] = \
                float(stats['sigma'][lo:hi, t].mean())
        count = float(stats['count'][lo:hi].sum())
        for t, task in enumerate(('cls', 'loc')):
            for kind, key in (('weight', 'weight_sum'),
                              ('weight_sq', 'weight_sq_sum')):
                total = float(stats[key][lo:hi, t].sum())
                scalars[f'sensitivity/{task}_{kind}/g{g}'] = \
                    total / count if count > 0 else math.nan
    return scalars


@HOOKS.register_module()
class SensitivityStatsHook(Hook):
    """Log the class-sensitivity statistics at the end of every training
    epoch and, optionally, every ``interval`` iterations.

    Values go to ``runner.logger.info`` (one line per class group) and to
    ``runner.message_hub.update_scalar`` under ``sensitivity/...`` keys.
    The running weight sums of all ranks are summed first, so the mean
    weights cover the whole global batch (every rank must run the hook,
    which MMEngine does).

    Args:
        interval (int): Also log every ``interval`` training iterations;
            0 disables it. Defaults to 0.
        group_size (int): Class ids per logged group. Defaults to 10.
    """

    priority = 'LOW'

    def __init__(self, interval: int = 0, group_size: int = 10) -> None:
        if group_size < 1:
            raise ValueError(f'group_size must be >= 1, got {group_size}')
        if interval < 0:
            raise ValueError(f'interval must be >= 0, got {interval}')
        self.interval = interval
        self.group_size = group_size
        self._warned = False

    def after_train_iter(self, runner, batch_idx: int, data_batch=None,
                         outputs=None) -> None:
        if self.interval and self.every_n_train_iters(runner, self.interval):
            self._log(runner, f'iter {runner.iter + 1}')

    def after_train_epoch(self, runner) -> None:
        self._log(runner, f'epoch {runner.epoch + 1}')

    def _log(self, runner, when: str) -> None:
        evaluator = find_class_sensitivity(runner.model)
        if evaluator is None:
            if not self._warned:
                runner.logger.warning(
                    'SensitivityStatsHook: the model has no '
                    'ClassSensitivityEvaluator; nothing to log')
                self._warned = True
            return
        stats = evaluator.stats()
        # sum the running totals of all ranks (no-op without distribution)
        k = stats['count'].numel()
        totals = torch.cat([stats['weight_sum'].flatten(),
                            stats['weight_sq_sum'].flatten(), stats['count']])
        all_reduce(totals, op='sum')
        stats['weight_sum'] = totals[:2 * k].view(k, 2)
        stats['weight_sq_sum'] = totals[2 * k:4 * k].view(k, 2)
        stats['count'] = totals[4 * k:]

        scalars = group_stats(stats, self.group_size)
        for key, value in scalars.items():
            runner.message_hub.update_scalar(key, value)
        num_groups = math.ceil(k / self.group_size)
        for g in range(num_groups):
            parts = [f'{name}={scalars[f"sensitivity/{name}/g{g}"]:.4f}'
                     for name in [f'{t}_{p}' for t in SENSITIVITY_TASKS
                                  for p in ('mu', 'sigma')] +
                     ['cls_weight', 'loc_weight', 'cls_weight_sq',
                      'loc_weight_sq']]
            lo = g * self.group_size
            hi = min(lo + self.group_size, k) - 1
            runner.logger.info(f'class sensitivity ({evaluator.mode}) '
                               f'{when}, classes {lo}-{hi}: '
                               + ' '.join(parts))
