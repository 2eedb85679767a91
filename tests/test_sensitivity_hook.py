"""SensitivityStatsHook with a fake runner: expected keys and values."""
import math
from types import SimpleNamespace

import pytest
import torch
import torch.nn as nn
from mmengine.logging import MessageHub
from mmaction.registry import HOOKS, MODELS


class RecordingLogger:

    def __init__(self):
        self.infos, self.warnings = [], []

    def info(self, msg):
        self.infos.append(msg)

    def warning(self, msg):
        self.warnings.append(msg)


def fake_runner(model, name, it=0):
    return SimpleNamespace(model=model, logger=RecordingLogger(),
                           message_hub=MessageHub.get_instance(name),
                           epoch=0, iter=it)


def wrapped_evaluator(num_classes=12):
    ev = MODELS.build(dict(type='ClassSensitivityEvaluator',
                           num_classes=num_classes, in_channels=8))
    # nested like detector.head.class_sensitivity (DDP adds one more level)
    model = nn.Sequential(nn.Linear(2, 2), nn.Sequential(ev))
    return ev, model


def feed(ev):
    """One training forward with points of classes 3 and 11."""
    from asl_mmaction.models.task_modules import SegmentPoints
    ev.train()
    points = torch.tensor([4., 5., 20.5, 21.5, 22.])
    segments = torch.tensor([[2., 6.]] * 2 + [[20., 23.]] * 3)
    length = segments[:, 1] - segments[:, 0]
    w_cls, w_loc = ev(SegmentPoints(
        video=torch.zeros(5, dtype=torch.long), point=torch.arange(5),
        segment=torch.tensor([0, 0, 1, 1, 1]),
        label=torch.tensor([3, 3, 11, 11, 11]),
        position=(points - segments.mean(dim=1)) / length,
        stride=torch.ones(5), length=length))
    return dict(cls=w_cls.detach(), loc=w_loc.detach())


def test_epoch_end_logs_groups():
    ev, model = wrapped_evaluator()
    with torch.no_grad():
        ev.mu[:10, 0] = torch.arange(10.0)  # group 0 cls mu: mean 4.5
    out = feed(ev)
    hook = HOOKS.build(dict(type='SensitivityStatsHook', group_size=10))
    runner = fake_runner(model, 'sens_epoch')
    hook.after_train_epoch(runner)

    scalars = runner.message_hub.log_scalars
    for g in (0, 1):
        for task in ('cls', 'start', 'end'):
            for kind in ('mu', 'sigma'):
                assert f'sensitivity/{task}_{kind}/g{g}' in scalars
        for task in ('cls', 'loc'):
            assert f'sensitivity/{task}_weight/g{g}' in scalars
            assert f'sensitivity/{task}_weight_sq/g{g}' in scalars
    assert 'sensitivity/cls_mu/g2' not in scalars

    def value(key):
        return runner.message_hub.get_scalar(key).current()

    assert value('sensitivity/cls_mu/g0') == pytest.approx(4.5)
    assert value('sensitivity/start_mu/g1') == pytest.approx(-0.5)
    assert value('sensitivity/end_sigma/g0') == pytest.approx(1.0)
    # normalized weights: every segment's mean is 1, so each group's is too
    assert value('sensitivity/cls_weight/g0') == pytest.approx(
        out['cls'][:2].mean().item(), rel=1e-6)
    assert value('sensitivity/loc_weight/g1') == pytest.approx(
        out['loc'][2:].mean().item(), rel=1e-6)
    assert value('sensitivity/cls_weight_sq/g1') == pytest.approx(
        out['cls'][2:].pow(2).mean().item(), rel=1e-6)
    assert len(runner.logger.infos) == 2
    assert 'classes 10-11' in runner.logger.infos[1]
    assert 'cls_mu=4.5000' in runner.logger.infos[0]
    # stats were reset: the next epoch without points logs NaN weights
    hook.after_train_epoch(runner)
    assert math.isnan(value('sensitivity/cls_weight/g0'))


def test_reference_mode_shows_shrinking_weights():
    ev = MODELS.build(dict(type='ClassSensitivityEvaluator', num_classes=12,
                           mode='reference'))
    model = nn.Sequential(ev)
    with torch.no_grad():
        ev.sigma.fill_(0.05)  # a collapsed Gaussian ...
        ev.mu[:, 0] = 0.8  # ... that drifted out of the segments
    feed(ev)
    runner = fake_runner(model, 'sens_collapse')
    HOOKS.build(dict(type='SensitivityStatsHook')).after_train_epoch(runner)
    weight = runner.message_hub.get_scalar('sensitivity/cls_weight/g1')
    assert weight.current() < 0.01
    assert 'class sensitivity (reference)' in runner.logger.infos[0]


def test_iteration_interval():
    ev, model = wrapped_evaluator()
    hook = HOOKS.build(dict(type='SensitivityStatsHook', interval=2))
    runner = fake_runner(model, 'sens_iter', it=0)
    hook.after_train_iter(runner, batch_idx=0)
    assert runner.logger.infos == []
    runner.iter = 1  # the 2nd iteration
    feed(ev)
    hook.after_train_iter(runner, batch_idx=1)
    assert len(runner.logger.infos) == 2
    assert 'iter 2' in runner.logger.infos[0]


def test_model_without_evaluator_warns_once():
    hook = HOOKS.build(dict(type='SensitivityStatsHook'))
    runner = fake_runner(nn.Linear(2, 2), 'sens_none')
    hook.after_train_epoch(runner)
    hook.after_train_epoch(runner)
    assert len(runner.logger.warnings) == 1
    assert not any(k.startswith('sensitivity/')
                   for k in runner.message_hub.log_scalars)


def test_bad_arguments():
    with pytest.raises(ValueError, match='group_size'):
        HOOKS.build(dict(type='SensitivityStatsHook', group_size=0))
