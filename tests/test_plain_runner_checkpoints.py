"""MMEngine's plain Runner (no project tool in between) tests and resumes a
checkpoint this project wrote, in a process that imported asl_mmaction,
under torch's weights_only=True default."""
import json
import subprocess
import sys

import torch

from run_helpers import REPO, run_tool, tool_env, write_config

RUNNER_SCRIPT = '''
import json, sys
import asl_mmaction  # noqa: F401  (what a config's custom_imports does)
from mmengine.config import Config
from mmengine.runner import CheckpointLoader, Runner
from mmengine.runner.checkpoint import load_from_local

config, work_dir, ckpt = sys.argv[1:4]
cfg = Config.fromfile(config)
cfg.work_dir = work_dir
cfg.load_from = ckpt
metrics = Runner.from_cfg(cfg.copy()).test()

cfg.merge_from_dict({'train_cfg.max_epochs': 3})
cfg.resume, cfg.load_from = True, None  # the newest checkpoint of work_dir
runner = Runner.from_cfg(cfg)
runner.train()
print(json.dumps(dict(
    mAP=metrics['mAP'], iter=runner.iter, epoch=runner.epoch,
    loss_history=len(runner.message_hub.get_scalar('train/loss')._log_history),
    mmengine_loader=CheckpointLoader._schemes[''] is load_from_local)))
'''


def test_plain_runner_tests_and_resumes_our_checkpoint(demo_root, tmp_path):
    config = write_config(tmp_path, demo_root, max_epochs=2, num_train=4,
                          batch_size=2)
    work = tmp_path / 'work'
    run_tool(['tools/train.py', config, '--work-dir', work])
    ckpt = work / 'epoch_2.pth'
    # loadable without any allow-list
    raw = torch.load(ckpt, map_location='cpu', weights_only=True)
    assert 'message_hub' in raw and 'rng_state' in raw

    proc = subprocess.run(
        [sys.executable, '-c', RUNNER_SCRIPT, str(config), str(work),
         str(ckpt)], cwd=str(REPO), env=tool_env(), capture_output=True,
        text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    assert 0.0 <= result['mAP'] <= 1.0
    # resumed at iteration 4 (2 epochs x 2 iterations), trained epoch 3
    assert (result['epoch'], result['iter']) == (3, 6)
    # the message hub came back: the loss history holds the first 4 values
    assert result['loss_history'] == 6
    assert result['mmengine_loader'] is True
    assert (work / 'epoch_3.pth').exists()
