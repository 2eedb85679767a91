"""tools/analyze_logs.py and the JSON-log reader behind it."""
import json
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn as nn
from mmengine.evaluator import BaseMetric
from mmengine.model import BaseModel

from asl_mmaction.visualization.training_curves import (available_keys,
                                                        curve, load_json_log,
                                                        plot_curves,
                                                        resolve_key,
                                                        train_time_stats)
from run_helpers import load_script

REPO = Path(__file__).resolve().parents[1]


def _tool():
    return load_script('tools/analyze_logs.py', 'tool_analyze_logs')


def write_log(path, epochs=3, iters_per_epoch=20, interval=10, seed=0,
              hierarchy=False):
    """Lines as MMEngine's LoggerHook writes them (epoch-based loop)."""
    rng = np.random.default_rng(seed)
    lines, it = [], 0
    for epoch in range(1, epochs + 1):
        for _ in range(iters_per_epoch // interval):
            it += interval
            lines.append(dict(
                lr=1e-3, loss=2.0 / it, loss_cls=1.0 / it,
                time=0.1 * epoch + rng.uniform(0, 0.01), data_time=0.01,
                epoch=epoch, iter=it, memory=100, step=it))
        lines.append({'mmaction/mAP': 0.1 * epoch,
                      'mmaction/mAP@0.5': 0.15 * epoch, 'data_time': 0.01,
                      'time': 0.05, 'step': epoch})
    if hierarchy:
        lines = [{(k if k in ('step', 'iter', 'epoch') else
                   ('train/' if 'iter' in line else 'val/') + k): v
                  for k, v in line.items()} for line in lines]
    path.write_text(''.join(json.dumps(line) + '\n' for line in lines))
    return path


def test_load_json_log_splits_train_and_val(tmp_path):
    log = load_json_log(str(write_log(tmp_path / 'a.json')))
    assert len(log['train']) == 6 and len(log['val']) == 3
    assert log['by_epoch']
    assert resolve_key(log, 'mAP') == 'mmaction/mAP'
    assert resolve_key(log, 'mAP@0.5') == 'mmaction/mAP@0.5'
    assert resolve_key(log, 'missing') is None
    assert 'loss_cls' in available_keys(log)
    assert 'step' not in available_keys(log)
    c = curve(log, 'loss')
    np.testing.assert_allclose(c['x'], [10, 20, 30, 40, 50, 60])
    assert c['xlabel'] == 'iteration' and c['source'] == 'train'
    c = curve(log, 'mAP')
    np.testing.assert_allclose(c['x'], [1, 2, 3])
    np.testing.assert_allclose(c['y'], [0.1, 0.2, 0.3])
    assert c['xlabel'] == 'epoch'


def test_hierarchical_keys_are_read(tmp_path):
    log = load_json_log(str(write_log(tmp_path / 'h.json', hierarchy=True)))
    assert len(log['train']) == 6 and len(log['val']) == 3
    np.testing.assert_allclose(curve(log, 'mAP')['y'], [0.1, 0.2, 0.3])


def test_ambiguous_and_bad_logs(tmp_path):
    path = tmp_path / 'amb.json'
    path.write_text(json.dumps({'a/mAP': 1.0, 'b/mAP': 2.0, 'step': 1}))
    with pytest.raises(ValueError, match='ambiguous'):
        resolve_key(load_json_log(str(path)), 'mAP')
    path.write_text('{"loss": 1.0, "iter": 1, "step": 1}\nnot json\n')
    with pytest.raises(ValueError, match='line 2'):
        load_json_log(str(path))
    path.write_text('{"loss": 1.0}\n')
    with pytest.raises(ValueError, match='not an MMEngine scalar log'):
        load_json_log(str(path))


def test_plot_curves_one_panel_per_key(tmp_path):
    logs = [load_json_log(str(write_log(tmp_path / f'{i}.json', seed=i)))
            for i in range(2)]
    out = tmp_path / 'curves.png'
    fig = plot_curves(logs, ['loss', 'loss_cls', 'mAP'], str(out),
                      legend=['run a', 'run b'])
    assert len(fig.axes) == 3
    assert out.stat().st_size > 1000
    assert [len(ax.get_lines()) for ax in fig.axes] == [2, 2, 2]
    assert fig.axes[2].get_xlabel() == 'epoch'
    with pytest.raises(KeyError, match='loss_cls'):  # lists what exists
        plot_curves(logs, ['nope'], None)


def test_train_time_stats(tmp_path):
    path = tmp_path / 't.json'
    lines = [dict(time=t, epoch=e, iter=i, step=i, loss=1.0) for i, (e, t) in
             enumerate([(1, 0.2), (1, 0.4), (2, 0.1), (2, 0.1)], 1)]
    lines.append({'mAP': 0.5, 'time': 9.0, 'step': 2})  # val: ignored
    path.write_text('\n'.join(json.dumps(x) for x in lines))
    stats = train_time_stats(load_json_log(str(path)))
    assert stats['mean'] == pytest.approx(0.2)
    assert stats['slowest_epoch'] == 1 and stats['slowest'] == \
        pytest.approx(0.3)
    assert stats['fastest_epoch'] == 2 and stats['fastest'] == \
        pytest.approx(0.1)
    assert stats['std'] == pytest.approx(0.1)


def test_cli(tmp_path, capsys):
    log = write_log(tmp_path / 'a.json')
    tool = _tool()
    out = tmp_path / 'c.png'
    tool.main(['plot_curve', str(log), '--keys', 'loss', 'mAP', '--out',
               str(out)])
    assert out.stat().st_size > 1000
    tool.main(['plot_curve', str(log)])  # lists the keys
    tool.main(['cal_train_time', str(log)])
    printed = capsys.readouterr().out
    assert 'mmaction/mAP' in printed and 'slowest epoch 3' in printed
    with pytest.raises(SystemExit):
        tool.main(['cal_train_time', str(tmp_path / 'missing.json')])


# A real MMEngine run, so the reader is checked against the actual format.
class _ToyModel(BaseModel):

    def __init__(self):
        super().__init__()
        self.linear = nn.Linear(2, 1)

    def forward(self, inputs, labels=None, mode='tensor'):
        pred = self.linear(inputs)  # default_collate: [B, 2]
        if mode == 'loss':
            loss = (pred.squeeze(1) - labels).pow(2).mean()
            return dict(loss=loss, loss_cls=loss.detach() * 0.5)
        return [dict(pred=p) for p in pred]


class _ToyMetric(BaseMetric):
    default_prefix = 'mmaction'

    def process(self, data_batch, data_samples):
        self.results.extend(float(s['pred']) for s in data_samples)

    def compute_metrics(self, results):
        return {'mAP': float(np.mean(results))}


def test_reads_a_real_mmengine_log(tmp_path):
    from mmengine.runner import Runner
    data = [dict(inputs=torch.randn(2), labels=torch.randn(())) for _ in
            range(8)]
    loader = dict(dataset=data, batch_size=2, num_workers=0,
                  sampler=dict(type='DefaultSampler', shuffle=False),
                  collate_fn=dict(type='default_collate'))
    runner = Runner(
        model=_ToyModel(), work_dir=str(tmp_path), train_dataloader=loader,
        val_dataloader=loader, val_evaluator=[_ToyMetric()],
        optim_wrapper=dict(optimizer=dict(type='SGD', lr=0.01)),
        train_cfg=dict(by_epoch=True, max_epochs=2, val_interval=1),
        val_cfg=dict(), default_hooks=dict(
            logger=dict(type='LoggerHook', interval=2),
            checkpoint=dict(type='CheckpointHook', interval=100)),
        default_scope='mmengine')
    runner.train()
    logs = list(tmp_path.glob('*/vis_data/scalars.json'))
    assert len(logs) == 1
    log = load_json_log(str(logs[0]))
    assert [e['iter'] for e in log['train']] == [2, 4, 6, 8]
    c = curve(log, 'mAP')
    assert c['source'] == 'val' and c['xlabel'] == 'epoch'
    np.testing.assert_allclose(c['x'], [1, 2])
    fig = plot_curves([log], ['loss', 'loss_cls', 'mAP'], None)
    assert len(fig.axes) == 3
    assert train_time_stats(log)['num_epochs'] == 2
