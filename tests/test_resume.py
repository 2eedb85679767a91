"""``tools/train.py --resume`` after the process was killed mid-epoch ends
with the same weights, EMA weights and optimizer state as a run that was
never interrupted (RNG states come back from the checkpoint too)."""
import signal

import torch

from run_helpers import losses_by_iter, run_tool, write_config, write_module

EPOCHS, CLIPS, BATCH = 3, 6, 2  # 3 iterations per epoch, 9 in all
KILL_AT = 5  # the middle of epoch 2, after epoch_1.pth was written

# SIGKILL (no clean-up, as a crash or an out-of-memory kill) before the given
# iteration, once: the marker file stops the resumed run from dying again.
KILL_HOOK = '''
import os
import signal
from mmengine.hooks import Hook
from mmaction.registry import HOOKS


@HOOKS.register_module()
class KillOnceHook(Hook):
    def __init__(self, at_iter, marker):
        self.at_iter, self.marker = at_iter, marker

    def before_train_iter(self, runner, batch_idx, data_batch=None):
        if runner.iter + 1 == self.at_iter and not os.path.exists(
                self.marker):
            open(self.marker, 'w').close()
            os.kill(os.getpid(), signal.SIGKILL)
'''


def load(path):
    return torch.load(path, map_location='cpu', weights_only=False)


def assert_same_tensors(a: dict, b: dict, what: str) -> None:
    assert a.keys() == b.keys(), what
    for key in a:
        if torch.is_tensor(a[key]):
            assert torch.equal(a[key], b[key]), f'{what}: {key} differs'


def test_resume_after_kill_matches_uninterrupted_run(demo_root, tmp_path):
    plain = write_config(tmp_path, demo_root, name='plain.py',
                         max_epochs=EPOCHS, num_train=CLIPS,
                         batch_size=BATCH)
    write_module(tmp_path, 'kill_once_hook', KILL_HOOK)
    killed = write_config(
        tmp_path, demo_root, name='killed.py', max_epochs=EPOCHS,
        num_train=CLIPS, batch_size=BATCH, extra=f"""
        custom_imports = dict(imports=['asl_mmaction', 'kill_once_hook'],
                              allow_failed_imports=False)
        custom_hooks = _base_.custom_hooks + [dict(
            type='KillOnceHook', at_iter={KILL_AT},
            marker={str(tmp_path / 'killed_once')!r})]
        """)
    work_a, work_b = tmp_path / 'uninterrupted', tmp_path / 'resumed'
    run_tool(['tools/train.py', plain, '--work-dir', work_a])

    first = run_tool(['tools/train.py', killed, '--work-dir', work_b],
                     extra_paths=[tmp_path], check=False)
    assert first.returncode == -signal.SIGKILL, first.stdout[-3000:]
    assert (work_b / 'epoch_1.pth').exists()
    assert not (work_b / 'epoch_2.pth').exists()
    run_tool(['tools/train.py', killed, '--work-dir', work_b, '--resume'],
             extra_paths=[tmp_path])

    ckpt_a = load(work_a / f'epoch_{EPOCHS}.pth')
    ckpt_b = load(work_b / f'epoch_{EPOCHS}.pth')
    assert ckpt_a['meta']['iter'] == ckpt_b['meta']['iter'] == EPOCHS * 3
    assert_same_tensors(ckpt_a['state_dict'], ckpt_b['state_dict'],
                        'state_dict')
    assert_same_tensors(ckpt_a['ema_state_dict'], ckpt_b['ema_state_dict'],
                        'ema_state_dict')
    for state_a, state_b in zip(ckpt_a['optimizer']['state'].values(),
                                ckpt_b['optimizer']['state'].values()):
        assert_same_tensors(state_a, state_b, 'optimizer state')
    assert 'rng_state' in ckpt_b
    # the resumed log continues with the uninterrupted run's losses
    resumed = losses_by_iter(work_b)
    assert losses_by_iter(work_a) == {it: resumed[it]
                                      for it in range(1, EPOCHS * 3 + 1)}
