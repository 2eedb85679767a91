"""The README's test-side commands on a briefly trained demo checkpoint:
tools/test.py (--out both formats, --show-dir, --format-only),
tools/eval_predictions.py on what it wrote, and tools/infer.py."""
import json
import os
import subprocess
import sys

import numpy as np
import pytest
from mmengine.config import Config
from mmengine.runner import Runner

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEMO_CFG = os.path.join(REPO, 'configs', 'asl', 'asl_demo.py')
VAL_CLIPS = 3


def run_tool(*args, cwd):
    env = dict(os.environ, OMP_NUM_THREADS='1')
    proc = subprocess.run([sys.executable, *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return proc.stdout + proc.stderr


@pytest.fixture(scope='module')
def trained(demo_root, tmp_path_factory):
    """A demo checkpoint after one short epoch, and a config that finds the
    demo data."""
    work = tmp_path_factory.mktemp('cli')
    cfg = Config.fromfile(DEMO_CFG)
    cfg.work_dir = str(work / 'train')
    cfg.merge_from_dict({
        'train_dataloader.dataset.data_root': str(demo_root),
        'train_dataloader.dataset.indices': 6,
        'val_dataloader.dataset.data_root': str(demo_root),
        'val_dataloader.dataset.indices': VAL_CLIPS,
        'test_dataloader.dataset.data_root': str(demo_root),
        'test_dataloader.dataset.indices': VAL_CLIPS,
        'train_cfg.max_epochs': 1, 'train_cfg.val_interval': 10})
    Runner.from_cfg(cfg).train()
    cfg_path = work / 'demo_small.py'
    cfg.dump(str(cfg_path))
    return dict(cfg=str(cfg_path), ckpt=str(work / 'train' / 'epoch_1.pth'),
                work=work, demo_root=demo_root)


@pytest.mark.parametrize('fmt', ['ego4d_mq', 'actionformer'])
def test_test_tool_writes_predictions_and_eval_tool_scores_them(trained,
                                                                fmt):
    out = trained['work'] / f'preds_{fmt}.json'
    log = run_tool(os.path.join(REPO, 'tools', 'test.py'), trained['cfg'],
                   trained['ckpt'], '--out', str(out), '--out-format', fmt,
                   '--work-dir', str(trained['work'] / f'test_{fmt}'),
                   '--protocol', 'official' if fmt == 'ego4d_mq' else fmt,
                   cwd=trained['work'])
    assert 'mAP' in log
    protocol = 'official' if fmt == 'ego4d_mq' else 'actionformer'
    assert f'{protocol} protocol' in log
    preds = json.loads(out.read_text())
    if fmt == 'ego4d_mq':
        assert preds['challenge'] == 'ego4d_moment_queries'
        assert len(preds['detect_results']) == VAL_CLIPS
    else:
        assert len(preds['database']) == VAL_CLIPS
    # the same file, scored without the model
    ann = os.path.join(trained['demo_root'], 'demo_clip_annotations.json')
    metrics_file = trained['work'] / f'metrics_{fmt}.json'
    run_tool(os.path.join(REPO, 'tools', 'eval_predictions.py'), str(out),
             ann, '--dataset', 'ego4d_mq', '--subset', 'val',
             '--ignore-extra-videos', '--out', str(metrics_file),
             cwd=trained['work'])
    assert 0.0 <= json.loads(metrics_file.read_text())['mAP'] <= 1.0


def test_test_tool_show_dir_and_format_only(trained):
    show = trained['work'] / 'timelines'
    out = trained['work'] / 'submission.json'
    run_tool(os.path.join(REPO, 'tools', 'test.py'), trained['cfg'],
             trained['ckpt'], '--show-dir', str(show), '--format-only',
             '--out-format', 'ego4d_mq',
             '--out', str(out), '--work-dir', str(trained['work'] / 't2'),
             cwd=trained['work'])
    assert len(list(show.glob('*.png'))) == VAL_CLIPS
    assert len(json.loads(out.read_text())['detect_results']) == VAL_CLIPS


def test_infer_tool_on_new_feature_files(trained, tmp_path):
    feats = []
    for i, steps in enumerate((150, 260)):
        path = tmp_path / f'new_video_{i}.npy'
        np.save(path, np.random.default_rng(i).normal(
            size=(steps, 32)).astype(np.float32))
        feats.append(str(path))
    out = tmp_path / 'dets.json'
    log = run_tool(os.path.join(REPO, 'tools', 'infer.py'), trained['cfg'],
                   trained['ckpt'], *feats, '--score-thr', '0', '--top-k',
                   '3', '--out', str(out), cwd=tmp_path)
    dets = json.loads(out.read_text())
    assert set(dets) == {'new_video_0', 'new_video_1'}
    duration = (259 * 16 + 16) / 30.0
    for det in dets['new_video_1']:
        assert det['label'].startswith('demo_action_')
        assert 0.0 <= det['segment'][0] <= det['segment'][1] <= duration
    assert 'new_video_1: 3 action(s)' in log
