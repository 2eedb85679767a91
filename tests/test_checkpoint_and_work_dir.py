"""Checkpoints under torch's weights_only=True default, with MMEngine's own
loader; opt-in full loading of old files; work-dir checks."""
import os
import pickle
from collections import OrderedDict

import numpy as np
import pytest
import torch
from mmengine.logging import HistoryBuffer
from mmengine.runner import CheckpointLoader, load_checkpoint
from mmengine.runner.checkpoint import load_from_local

from asl_mmaction.utils import checkpoint as ckpt
from asl_mmaction.utils.work_dir import check_work_dir


def history(*values) -> HistoryBuffer:
    buf = HistoryBuffer()
    for value in values:
        buf.update(value)
    return buf


@pytest.fixture
def old_style_checkpoint(tmp_path):
    """What MMEngine writes without PlainCheckpointHook."""
    path = tmp_path / 'epoch_1.pth'
    torch.save(dict(state_dict=dict(w=torch.ones(2)),
                    message_hub=dict(log_scalars=dict(loss=history(1.5)))),
               path)
    return path


def test_plain_codec_round_trips_and_loads_weights_only(tmp_path):
    state = OrderedDict(w=torch.arange(3.))
    state._metadata = OrderedDict({'': dict(version=2)})
    checkpoint = dict(
        state_dict=state,
        message_hub=dict(log_scalars=OrderedDict(loss=history(1.5, 0.25)),
                         runtime_info=dict(best=np.float64(0.68),
                                           step=np.int64(7)),
                         resumed_keys=dict(loss=True)),
        meta=dict(rng=(np.arange(4, dtype=np.uint32), 3),
                  empty=np.zeros((0, 2), np.float16)))
    path = tmp_path / 'plain.pth'
    torch.save(ckpt.to_plain(checkpoint), path)
    loaded = ckpt.from_plain(torch.load(path, weights_only=True))
    assert loaded['state_dict']._metadata == state._metadata
    assert torch.equal(loaded['state_dict']['w'], state['w'])
    buf = loaded['message_hub']['log_scalars']['loss']
    assert isinstance(buf, HistoryBuffer) and buf.mean() == 0.875
    assert buf.max_length == 1000000 and buf._count_history.tolist() == [1, 1]
    info = loaded['message_hub']['runtime_info']
    assert type(info['best']) is np.float64 and info['best'] == 0.68
    assert type(info['step']) is np.int64 and info['step'] == 7
    array, pos = loaded['meta']['rng']
    assert array.dtype == np.uint32 and array.tolist() == [0, 1, 2, 3]
    assert pos == 3 and loaded['meta']['empty'].shape == (0, 2)
    # untagged input comes back as it was
    assert ckpt.from_plain(dict(a=[1, (2, 'x')])) == dict(a=[1, (2, 'x')])


def test_importing_the_package_leaves_mmengines_loader(old_style_checkpoint):
    # (tests/test_import_side_effects.py checks a fresh process)
    assert CheckpointLoader._schemes[''] is load_from_local
    with pytest.raises(pickle.UnpicklingError):
        CheckpointLoader.load_checkpoint(str(old_style_checkpoint))


def test_foreign_plain_state_dict_loads_through_mmengine(tmp_path):
    model = torch.nn.Linear(2, 1)
    path = tmp_path / 'weights.pth'
    torch.save(model.state_dict(), path)
    other = torch.nn.Linear(2, 1)
    load_checkpoint(other, str(path), map_location='cpu', logger='silent')
    assert torch.equal(other.weight, model.weight)
    loaded = CheckpointLoader.load_checkpoint(str(path))
    assert torch.equal(loaded['bias'], model.bias)


def test_old_checkpoint_loads_only_inside_trusted_block(
        old_style_checkpoint, tmp_path):
    other = tmp_path / 'other' / 'epoch_1.pth'
    other.parent.mkdir()
    torch.save(torch.load(old_style_checkpoint, weights_only=False), other)
    with ckpt.trusted_checkpoints([str(old_style_checkpoint), None]):
        loaded = CheckpointLoader.load_checkpoint(str(old_style_checkpoint))
        assert isinstance(loaded['message_hub']['log_scalars']['loss'],
                          HistoryBuffer)
        with pytest.raises(pickle.UnpicklingError):  # not named: refused
            CheckpointLoader.load_checkpoint(str(other))
    assert CheckpointLoader._schemes[''] is load_from_local
    with pytest.raises(pickle.UnpicklingError):
        CheckpointLoader.load_checkpoint(str(old_style_checkpoint))


def test_trusted_folder_covers_its_files(old_style_checkpoint):
    with ckpt.trusted_checkpoints([str(old_style_checkpoint.parent)]):
        assert 'message_hub' in CheckpointLoader.load_checkpoint(
            str(old_style_checkpoint))
    assert CheckpointLoader._schemes[''] is load_from_local


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
