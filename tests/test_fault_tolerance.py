"""Faults during training: bad features, NaN / inf losses (one process and
under DDP), a rank that dies, a work dir that cannot be written."""
import math
import shutil

import numpy as np
import pytest
import torch
from mmengine.config import Config
from mmengine.logging import MessageHub
from mmengine.runner import Runner

from asl_mmaction.models.heads.asl_head import ASLHead
from run_helpers import run_tool, train_scalars, write_config, write_module

# Test-only: makes the head's loss_cls NaN on one rank at one call, imported
# by the subprocess through custom_imports.
NAN_LOSS_MODULE = '''
import torch.distributed as dist
from asl_mmaction.models.heads.asl_head import ASLHead

_original, _calls = ASLHead.loss, [0]


def _loss(self, *args, **kwargs):
    losses = _original(self, *args, **kwargs)
    _calls[0] += 1
    rank = dist.get_rank() if dist.is_initialized() else 0
    if rank == {rank} and _calls[0] == {at_call}:
        losses['loss_cls'] = losses['loss_cls'] * float('nan')
        open({marker!r}, 'w').close()  # tells the test it happened
    return losses


ASLHead.loss = _loss
'''
# Test-only: ends rank 1 abruptly (no exception, no clean-up) before an
# iteration, as a crash or an out-of-memory kill would.
EXIT_HOOK = '''
import os
from mmengine.hooks import Hook
from mmaction.registry import HOOKS


@HOOKS.register_module()
class ExitRankHook(Hook):
    def before_train_iter(self, runner, batch_idx, data_batch=None):
        if runner.rank == 1 and runner.iter + 1 == 2:
            os._exit(1)
'''


def nan_at_call(monkeypatch, at_call: int) -> list:
    """Make the head's loss_cls NaN at its ``at_call``-th call (in this
    process); returns the video names of every call."""
    original, batches = ASLHead.loss, []

    def loss(self, feats, masks, data_samples):
        losses = original(self, feats, masks, data_samples)
        batches.append([s.metainfo['video_name'] for s in data_samples])
        if len(batches) == at_call:
            losses['loss_cls'] = losses['loss_cls'] * float('nan')
        return losses

    monkeypatch.setattr(ASLHead, 'loss', loss)
    return batches


def in_process_runner(cfg_path, work_dir, **overrides) -> Runner:
    cfg = Config.fromfile(str(cfg_path))
    cfg.work_dir = str(work_dir)
    # deterministic mode is global to the process: leave pytest's alone
    cfg.randomness = dict(seed=0, deterministic=False)
    cfg.merge_from_dict(overrides)
    return Runner.from_cfg(cfg)


def test_nan_in_a_feature_file_is_named(demo_root, tmp_path):
    data = tmp_path / 'data'
    shutil.copytree(demo_root, data)
    bad = data / 'features' / 'demo_clip_002.npy'
    feats = np.load(bad)
    feats[10, 3] = np.nan
    np.save(bad, feats)
    cfg = write_config(tmp_path, data, num_train=4)
    result = run_tool(['tools/train.py', cfg, '--work-dir', tmp_path / 'w'],
                      check=False)
    assert result.returncode != 0
    assert 'TADDataError' in result.stdout
    assert f'features {bad} (video demo_clip_002) contain NaN' in \
        result.stdout


def test_nonfinite_loss_stops_naming_iteration_and_videos(
        demo_root, tmp_path, monkeypatch):
    batches = nan_at_call(monkeypatch, at_call=2)
    cfg = write_config(tmp_path, demo_root, name='raise.py', num_train=6)
    runner = in_process_runner(cfg, tmp_path / 'w')
    with pytest.raises(FloatingPointError) as info:
        runner.train()
    message = str(info.value)
    assert 'iteration 2 (epoch 1)' in message
    assert 'loss_cls not finite' in message
    assert len(batches) == 2 and all(name in message for name in batches[1])


def test_skip_nonfinite_continues_and_counts(demo_root, tmp_path,
                                              monkeypatch):
    nan_at_call(monkeypatch, at_call=2)
    cfg = write_config(tmp_path, demo_root, name='skip.py', num_train=6)
    runner = in_process_runner(cfg, tmp_path / 'w',
                               **{'model.skip_nonfinite': True})
    runner.train()
    assert MessageHub.get_current_instance().get_info('nonfinite_skips') == 1
    records = train_scalars(tmp_path / 'w')
    assert [r['iter'] for r in records] == [1, 2, 3]
    assert records[1]['loss'] == 0.0 and records[1]['nonfinite_skips'] == 1
    assert math.isfinite(records[2]['loss']) and records[2]['loss'] > 0
    state = torch.load(tmp_path / 'w' / 'epoch_1.pth', map_location='cpu',
                       weights_only=False)['state_dict']
    assert all(torch.isfinite(v).all() for v in state.values()
               if v.is_floating_point())


def test_skip_nonfinite_on_one_rank_keeps_ddp_in_step(demo_root, tmp_path):
    """Only rank 1 skips; its zero loss still reaches every parameter, so
    the gradient all-reduce runs on both ranks and training ends."""
    write_module(tmp_path, 'nan_loss', NAN_LOSS_MODULE.format(
        rank=1, at_call=2, marker=str(tmp_path / 'nan_injected')))
    cfg = write_config(tmp_path, demo_root, num_train=6, batch_size=1,
                       extra="""
        custom_imports = dict(imports=['asl_mmaction', 'nan_loss'],
                              allow_failed_imports=False)
        model = dict(skip_nonfinite=True)
        """)
    run_tool(['tools/dist_train.sh', cfg, 2, '--work-dir', tmp_path / 'w'],
             timeout=180, extra_paths=[tmp_path])
    assert (tmp_path / 'nan_injected').exists()
    records = train_scalars(tmp_path / 'w')
    assert [r['iter'] for r in records] == [1, 2, 3]
    # the log averages the ranks: rank 0's loss plus rank 1's zero
    assert all(math.isfinite(r['loss']) and r['loss'] > 0 for r in records)
    assert (tmp_path / 'w' / 'epoch_1.pth').exists()


@pytest.mark.parametrize('fault', ['exit', 'nan'])
def test_failing_rank_stops_the_job_promptly(demo_root, tmp_path, fault):
    """Rank 1 dies before its 2nd iteration (``os._exit``), or raises the
    non-finite loss error there while rank 0 waits in a collective: the
    launcher must exit non-zero, not hang until the gloo timeout."""
    if fault == 'exit':
        module = write_module(tmp_path, 'exit_hook', EXIT_HOOK)
        hooks = ("custom_hooks = _base_.custom_hooks + "
                 "[dict(type='ExitRankHook')]")
    else:
        module = write_module(tmp_path, 'nan_loss', NAN_LOSS_MODULE.format(
            rank=1, at_call=2, marker=str(tmp_path / 'nan_injected')))
        hooks = ''
    cfg = write_config(tmp_path, demo_root, num_train=8, batch_size=1,
                       extra=f"custom_imports = dict(imports=['asl_mmaction', "
                       f"{module!r}], allow_failed_imports=False)\n{hooks}\n")
    result = run_tool(['tools/dist_train.sh', cfg, 2, '--work-dir',
                       tmp_path / 'w'], timeout=150, extra_paths=[tmp_path],
                      check=False)
    assert result.returncode != 0
    assert result.wall_s < 90, f'took {result.wall_s:.0f} s to fail'
    # it failed where intended: after iteration 1, before the checkpoint
    assert [r['iter'] for r in train_scalars(tmp_path / 'w')] == [1]
    assert not (tmp_path / 'w' / 'epoch_1.pth').exists()
    if fault == 'exit':
        assert 'exitcode  : 1 (pid' in result.stdout
    else:
        assert (tmp_path / 'nan_injected').exists()
        assert 'FloatingPointError: non-finite loss at iteration 2 (epoch 1)' \
            in result.stdout


def test_unwritable_work_dir_fails_at_start(demo_root, tmp_path):
    blocker = tmp_path / 'a_file'
    blocker.write_text('not a folder')
    cfg = write_config(tmp_path, demo_root, num_train=4)
    result = run_tool(['tools/train.py', cfg, '--work-dir',
                       blocker / 'work'], check=False)
    assert result.returncode != 0
    assert f'work dir {blocker / "work"} is not writable' in result.stdout
    # before the Runner is built, let alone the data read
    assert 'Config:' not in result.stdout


@pytest.mark.skipif(torch.cuda.is_available(), reason='CPU-only behaviour')
def test_amp_without_cuda_is_refused_at_start(demo_root, tmp_path):
    cfg = write_config(tmp_path, demo_root, num_train=4)
    result = run_tool(['tools/train.py', cfg, '--work-dir', tmp_path / 'w',
                       '--amp'], check=False)
    assert result.returncode != 0
    assert '--amp needs a CUDA device' in result.stdout
    assert not (tmp_path / 'w').exists()
