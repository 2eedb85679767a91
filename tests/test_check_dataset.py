"""tools/check_dataset.py on a config over real clips + generated features."""
import json
from pathlib import Path

import numpy as np
import pytest

from asl_mmaction.utils.cli import run_main
from dataset_fixtures import features_for_clips, small_ego4d_file
from run_helpers import load_script

TOOL = Path(__file__).resolve().parents[1] / 'tools' / 'check_dataset.py'


@pytest.fixture(scope='module')
def check_dataset():
    return load_script(TOOL)


def write_config(tmp_path, ann):
    config = tmp_path / 'cfg.py'
    config.write_text(f"""
default_scope = 'mmaction'
dataset = dict(type='Ego4DMQDataset', data_root={str(tmp_path)!r},
               ann_file={ann.name!r}, feat_dirs='feats', feat_dims=[8],
               fps=30.0, feat_stride=16, num_frames=32)
train_dataloader = dict(dataset=dict(dataset, subset='train'))
val_dataloader = dict(dataset=dict(dataset, subset='val', test_mode=True))
""")
    return config


def test_good_dataset_passes_with_statistics(tmp_path, capsys,
                                             check_dataset):
    ann = small_ego4d_file(tmp_path, per_subset=2, subsets=('train', 'val'))
    features_for_clips(ann, tmp_path / 'feats')
    config = write_config(tmp_path, ann)
    assert check_dataset.main([str(config), '--split', 'val']) == 0
    out = capsys.readouterr().out
    clips = json.loads(ann.read_text())
    n_val = sum(len(c['annotations']) for c in clips.values()
                if c['subset'] == 'val')
    assert 'videos: 2' in out and f'actions: {n_val} as scored' in out
    assert 'feature length (steps)' in out and 'all videos OK' in out


def test_bad_videos_are_listed_and_exit_non_zero(tmp_path, capsys,
                                                 check_dataset):
    ann = small_ego4d_file(tmp_path, per_subset=3, subsets=('train',))
    names = list(features_for_clips(ann, tmp_path / 'feats'))
    feats = np.load(tmp_path / 'feats' / f'{names[0]}.npy')
    feats[3] = np.nan
    np.save(tmp_path / 'feats' / f'{names[0]}.npy', feats)
    (tmp_path / 'feats' / f'{names[1]}.npy').unlink()
    config = write_config(tmp_path, ann)
    assert check_dataset.main([str(config)]) == 1
    out = capsys.readouterr().out
    assert '2 bad video(s)' in out and 'videos: 1' in out
    assert f'{names[0]}: features' in out and 'contain NaN' in out
    assert f'{names[1]}.npy' in out and 'not found' in out
    # --cfg-options reach the dataset: pointing at an empty split fails,
    # with the tools' one-block message and no traceback
    assert run_main(check_dataset.main, [
        str(config), '--cfg-options',
        'train_dataloader.dataset.subset=test']) == 1
    err = capsys.readouterr().err
    assert err.startswith('ERROR (TADDataError): no video of subset')
    assert 'Traceback' not in err and '--debug' in err
