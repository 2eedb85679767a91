"""ActionFormer's learning-rate schedule as one MMEngine scheduler.

ActionFormer (and the ASL authors' code) step the learning rate every
iteration: a linear warm-up from ``warmup_start_lr`` (0) to the base rate
over ``W`` iterations, then a cosine from the base rate down to ``eta_min``
(1e-8) at the last iteration. MMEngine's ``LinearLR`` cannot start at 0 and
its chained ``CosineAnnealingLR`` needs its length copied into every
config; this scheduler has neither problem: its ``end`` defaults to the
train loop's ``max_epochs`` (MMEngine fills it in), so a config that changes
``train_cfg.max_epochs`` gets the matching cosine.
"""
import logging
import math

from mmengine.logging import print_log

from mmengine.optim.scheduler.lr_scheduler import LRSchedulerMixin
from mmengine.optim.scheduler.param_scheduler import INF, _ParamScheduler
from mmaction.registry import PARAM_SCHEDULERS


def warmup_cosine_factor(step: int, warmup_steps: int, total_steps: int,
                         start_factor: float = 0.0,
                         min_factor: float = 0.0) -> float:
    """Multiplier of the base value at ``step`` (0-based), closed form.

    Warm-up: ``start + step * (1 - start) / (W - 1)`` for ``step < W`` (so
    step ``W - 1`` reaches the base value, as ActionFormer's scheduler);
    then ``min + (1 - min) * (1 + cos(pi * (step - W) / (N - W))) / 2``.

    Args:
        step (int): Iteration (or epoch) index since the scheduler began.
        warmup_steps (int): ``W``; 0 or 1 disables the warm-up.
        total_steps (int): ``N``, the length of the whole schedule.
        start_factor (float): Warm-up start over the base value.
        min_factor (float): Cosine end over the base value.
    """
    if step < warmup_steps and warmup_steps > 1:
        return start_factor + step * (1.0 - start_factor) / (warmup_steps - 1)
    span = max(total_steps - warmup_steps, 1)
    progress = min(max(step - warmup_steps, 0), span) / span
    return min_factor + (1.0 - min_factor) * 0.5 * (
        1.0 + math.cos(math.pi * progress))


@PARAM_SCHEDULERS.register_module()
class LinearWarmupCosineLR(LRSchedulerMixin, _ParamScheduler):
    """Linear warm-up then cosine annealing of the learning rate.

    Args:
        optimizer (Optimizer | OptimWrapper): The optimizer.
        warmup (int): Warm-up length in epochs (``by_epoch=True``) or
            iterations. Defaults to 5, ActionFormer's ``warmup_epochs``.
        warmup_start_lr (float): Learning rate at step 0 (absolute).
            Defaults to 0 (ActionFormer).
        eta_min (float): Learning rate at the end of the cosine (absolute,
            as ActionFormer's ``eta_min``). Defaults to 1e-8.
        begin (int): First step. Defaults to 0.
        end (int): Last step (exclusive); MMEngine's runner sets it to
            ``max_epochs`` when left out.
        by_epoch (bool): ``warmup`` / ``begin`` / ``end`` count epochs.
            Use ``convert_to_iter_based=True`` to step every iteration, as
            ActionFormer does.
    """

    def __init__(self, optimizer, warmup: int = 5,
                 warmup_start_lr: float = 0.0, eta_min: float = 1e-8,
                 begin: int = 0, end: int = INF, last_step: int = -1,
                 by_epoch: bool = True, verbose: bool = False) -> None:
        if end == INF:
            raise ValueError('LinearWarmupCosineLR needs an end: leave `end` '
                             'out of the config inside a Runner (it becomes '
                             'max_epochs) or set it')
        if warmup < 0:
            raise ValueError(f'LinearWarmupCosineLR: warmup must be >= 0, '
                             f'got {warmup}')
        if warmup > end - begin:
            # e.g. a short test run of a config with a long warm-up
            print_log(f'LinearWarmupCosineLR: the warm-up ({warmup} steps) '
                      f'is longer than the schedule ({end - begin}); it is '
                      'cut to the schedule, which then never reaches its '
                      'cosine part', logger='current', level=logging.WARNING)
            warmup = end - begin
        self.warmup = warmup
        self.warmup_start_lr = warmup_start_lr
        self.eta_min = eta_min
        super().__init__(optimizer, begin=begin, end=end, last_step=last_step,
                         by_epoch=by_epoch, verbose=verbose)

    @classmethod
    def build_iter_from_epoch(cls, *args, warmup: int = 5, begin: int = 0,
                              end: int = INF, by_epoch: bool = True,
                              epoch_length: int = None, **kwargs):
        """The epoch-based config converted to iterations (the warm-up
        too)."""
        if not by_epoch or not epoch_length:
            raise ValueError('LinearWarmupCosineLR: convert_to_iter_based '
                             'needs by_epoch=True and the epoch length')
        if end != INF:
            end = int(end * epoch_length)
        return cls(*args, warmup=int(warmup * epoch_length),
                   begin=int(begin * epoch_length), end=end, by_epoch=False,
                   **kwargs)

    def _get_value(self):
        total = self.end - self.begin
        values = []
        for base in self.base_values:
            if base <= 0:  # a frozen group stays frozen
                values.append(base)
                continue
            values.append(base * warmup_cosine_factor(
                self.last_step, self.warmup, total,
                self.warmup_start_lr / base, self.eta_min / base))
        return values
