"""End to end on the embedded demo: the real Runner, dataset and metric."""
import json
import os
import subprocess
import sys
import textwrap

from mmengine.config import Config
from mmengine.runner import Runner

from asl_mmaction.evaluation.random_baseline import (dataset_ground_truth,
                                                     random_baseline_metrics)
from asl_mmaction.utils.checkpoint import last_checkpoint_cfg

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEMO_CFG = os.path.join(REPO, 'configs', 'asl', 'asl_demo.py')


def demo_cfg(demo_root, work_dir, **overrides) -> Config:
    cfg = Config.fromfile(DEMO_CFG)
    cfg.work_dir = str(work_dir)
    for loader in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        cfg[loader].dataset.data_root = str(demo_root)
    cfg.merge_from_dict(overrides)
    return cfg


def test_few_iterations_through_runner_and_metric(demo_root, tmp_path):
    cfg = demo_cfg(demo_root, tmp_path / 'work', **{
        'train_cfg.max_epochs': 1, 'train_cfg.val_interval': 1,
        'train_dataloader.dataset.indices': 8,
        'default_hooks.logger.interval': 1})
    runner = Runner.from_cfg(cfg)
    runner.train()
    metrics = runner.test()
    assert {'mAP', 'mAP@0.1', 'mAP@0.5'} <= set(metrics)
    assert 0.0 <= metrics['mAP'] <= 1.0
    assert (tmp_path / 'work' / 'epoch_1.pth').exists()
    # every loss term is logged
    logs = list((tmp_path / 'work').glob('*/vis_data/scalars.json'))
    first = json.loads(logs[0].read_text().splitlines()[0])
    assert {'loss_cls', 'loss_reg', 'loss_inst', 'loss_contrast'} <= set(
        first)


def test_demo_beats_random_segments_threefold(demo_root, tmp_path):
    """The full demo budget, as `python tools/demo.py` runs it."""
    cfg = demo_cfg(demo_root, tmp_path / 'work')
    Runner.from_cfg(cfg).train()
    runner = Runner.from_cfg(last_checkpoint_cfg(cfg))  # the saved (EMA) weights
    model = runner.test()
    dataset = runner.test_dataloader.dataset
    chance = random_baseline_metrics(runner.test_evaluator.metrics[0],
                                     dataset_ground_truth(dataset),
                                     len(dataset.metainfo['classes']))
    print(f'demo mAP {model["mAP"]:.4f}, random {chance["mAP"]:.4f}')
    assert chance['mAP'] > 0.0
    assert model['mAP'] >= 3 * chance['mAP']


def test_config_in_another_folder_runs_through_train_tool(demo_root,
                                                          tmp_path):
    """A user's config outside the repo: custom_imports + our _base_."""
    user_dir = tmp_path / 'my_project'
    user_dir.mkdir()
    (user_dir / 'my_asl.py').write_text(textwrap.dedent(f"""
        _base_ = [{DEMO_CFG!r}]
        custom_imports = dict(imports=['asl_mmaction'],
                              allow_failed_imports=False)
        data_root = {str(demo_root)!r}
        train_dataloader = dict(dataset=dict(data_root=data_root, indices=4))
        val_dataloader = dict(dataset=dict(data_root=data_root, indices=2))
        test_dataloader = val_dataloader
        train_cfg = dict(max_epochs=1, val_interval=1)
        default_hooks = dict(logger=dict(interval=1))
        """))
    work = tmp_path / 'work'
    env = dict(os.environ, OMP_NUM_THREADS='1')
    env.pop('PYTHONPATH', None)  # the installed package, not the checkout
    proc = subprocess.run(
        [sys.executable, os.path.join(REPO, 'tools', 'train.py'),
         str(user_dir / 'my_asl.py'), '--work-dir', str(work)],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert (work / 'epoch_1.pth').exists()
    assert 'mAP' in proc.stdout + proc.stderr
