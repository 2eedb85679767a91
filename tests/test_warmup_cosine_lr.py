"""ActionFormer's warm-up + cosine schedule as an MMEngine scheduler."""
import math

import pytest
import torch
from mmaction.registry import PARAM_SCHEDULERS

from asl_mmaction.engine.schedulers import warmup_cosine_factor


def reference_lr(step, warmup, total, base, eta_min=1e-8):
    """ActionFormer's closed form (``_get_closed_form_lr``): from 0 to base
    over ``warmup`` steps (``warmup - 1`` intervals), then cosine to
    ``eta_min`` at ``total``."""
    if step < warmup:
        return step * base / (warmup - 1)
    return eta_min + 0.5 * (base - eta_min) * (
        1 + math.cos(math.pi * (step - warmup) / (total - warmup)))


def lrs_of(scheduler_cfg, epoch_length, steps, base=1e-4):
    model = torch.nn.Linear(2, 2)
    opt = torch.optim.AdamW(model.parameters(), lr=base)
    sched = PARAM_SCHEDULERS.build(
        scheduler_cfg, default_args=dict(optimizer=opt,
                                         epoch_length=epoch_length))
    out = []
    for _ in range(steps):
        out.append(opt.param_groups[0]['lr'])
        opt.step()
        sched.step()
    return out


def test_per_iteration_values_equal_actionformers_schedule():
    # 2 warm-up epochs + 4 cosine epochs of 10 iterations
    lrs = lrs_of(dict(type='LinearWarmupCosineLR', warmup=2, end=6,
                      by_epoch=True, convert_to_iter_based=True), 10, 60)
    expected = [reference_lr(i, 20, 60, 1e-4) for i in range(60)]
    assert lrs[0] == 0.0  # ActionFormer's first iteration has lr 0
    assert lrs[19] == pytest.approx(1e-4) and lrs[20] == pytest.approx(1e-4)
    assert lrs == pytest.approx(expected, rel=1e-9, abs=1e-15)


def test_end_comes_from_the_runner_and_is_required_without_it():
    with pytest.raises(ValueError, match='needs an end'):
        lrs_of(dict(type='LinearWarmupCosineLR', warmup=1, by_epoch=False),
               1, 1)


def test_factor_without_warmup_is_a_plain_cosine():
    assert warmup_cosine_factor(0, 0, 10) == 1.0
    assert warmup_cosine_factor(5, 0, 10) == pytest.approx(0.5)
    assert warmup_cosine_factor(10, 0, 10) == pytest.approx(0.0)
    assert warmup_cosine_factor(99, 0, 10) == pytest.approx(0.0)
