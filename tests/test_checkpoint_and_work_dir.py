import os

import pytest
import torch
from mmengine.logging import HistoryBuffer
from mmengine.runner import CheckpointLoader

from asl_mmaction.utils import checkpoint as ckpt
from asl_mmaction.utils.work_dir import check_work_dir


@pytest.fixture
def mmengine_style_checkpoint(tmp_path):
    buf = HistoryBuffer()
    buf.update(1.5)
    path = tmp_path / 'epoch_1.pth'
    torch.save(dict(state_dict=dict(w=torch.ones(2)),
                    message_hub=dict(log_scalars=dict(loss=buf))), path)
    return path


def test_untrusted_training_state_is_refused_with_advice(
        mmengine_style_checkpoint):
    with pytest.raises(RuntimeError, match='--resume'):
        CheckpointLoader.load_checkpoint(str(mmengine_style_checkpoint))


def test_trusted_file_loads_in_full(mmengine_style_checkpoint, monkeypatch):
    monkeypatch.setattr(ckpt, '_TRUSTED', set())
    ckpt.trust_checkpoint(str(mmengine_style_checkpoint.parent))
    loaded = CheckpointLoader.load_checkpoint(str(mmengine_style_checkpoint))
    assert isinstance(loaded['message_hub']['log_scalars']['loss'],
                      HistoryBuffer)


def test_env_variable_trusts_a_folder(mmengine_style_checkpoint, monkeypatch):
    monkeypatch.setenv('ASL_TRUSTED_CHECKPOINTS',
                       str(mmengine_style_checkpoint.parent))
    assert 'message_hub' in CheckpointLoader.load_checkpoint(
        str(mmengine_style_checkpoint))


def test_plain_weights_load_safely_without_trust(tmp_path):
    path = tmp_path / 'weights.pth'
    torch.save(dict(state_dict=dict(w=torch.arange(3.))), path)
    loaded = CheckpointLoader.load_checkpoint(str(path))
    assert loaded['state_dict']['w'].tolist() == [0., 1., 2.]


def test_work_dir_unwritable_is_reported(tmp_path):
    blocker = tmp_path / 'a_file'
    blocker.write_text('x')
    with pytest.raises(RuntimeError, match='not writable'):
        check_work_dir(str(blocker / 'work'))


def test_work_dir_without_space_is_reported(tmp_path):
    with pytest.raises(RuntimeError, match='MiB free'):
        check_work_dir(str(tmp_path), min_free_bytes=2**62)
    check_work_dir(str(tmp_path / 'ok'))
    assert os.path.isdir(tmp_path / 'ok')
