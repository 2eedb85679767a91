"""Bad input is stopped before training, by tools/check_dataset.py and by
tools/train.py before its first iteration, with a message naming the video
and the problem, printed as one block (no traceback) with exit status 1."""
import json
import shutil
import textwrap
from pathlib import Path

import numpy as np
import pytest

from asl_mmaction.datasets import TADDataError
from asl_mmaction.datasets.feature_checks import (FeatureCheckCache,
                                                  scan_feature_values)
from asl_mmaction.datasets.feature_io import make_source
from asl_mmaction.utils.work_dir import WorkDirError, check_work_dir, mount_of
from run_helpers import ASL_DEMO, run_tool

TRAIN = [f'demo_clip_{i:03d}' for i in range(4)]
VAL = ['demo_clip_060', 'demo_clip_061']


@pytest.fixture
def data(demo_root, tmp_path):
    """A 4 + 2 clip copy of the demo data that a test may break."""
    database = json.loads((demo_root / 'demo_clip_annotations.json')
                          .read_text())
    root = tmp_path / 'data'
    (root / 'features').mkdir(parents=True)
    for name in TRAIN + VAL:
        shutil.copy(demo_root / 'features' / f'{name}.npy',
                    root / 'features' / f'{name}.npy')
    subset = {name: database[name] for name in TRAIN + VAL}
    (root / 'ann.json').write_text(json.dumps(subset))
    return root


def annotations(root: Path) -> dict:
    return json.loads((root / 'ann.json').read_text())


def save_annotations(root: Path, database: dict) -> None:
    (root / 'ann.json').write_text(json.dumps(database))


def write_config(tmp_path: Path, root: Path) -> Path:
    """The demo model (6 classes) on the copy, class names from the file's
    labels (as a converted Ego4D file without class_names)."""
    dataset = (f"dict(type='Ego4DMQDataset', data_root={str(root)!r}, "
               "ann_file='ann.json', feat_dirs='features', class_names=None)")
    path = tmp_path / 'cfg.py'
    path.write_text(textwrap.dedent(f"""\
        _base_ = [{str(ASL_DEMO)!r}]
        train_dataloader = dict(batch_size=2, dataset={dataset})
        val_dataloader = dict(dataset={dataset})
        test_dataloader = val_dataloader
        train_cfg = dict(max_epochs=1, val_interval=1)
        default_hooks = dict(logger=dict(interval=1))
        """))
    return path


def train(config, work, *extra):
    return run_tool(['tools/train.py', config, '--work-dir', work, *extra],
                    check=False)


def check(config, work, split='train'):
    return run_tool(['tools/check_dataset.py', config, '--split', split,
                     '--work-dir', work], check=False)


def assert_stopped_before_training(proc, *needles):
    out = proc.stdout
    assert proc.returncode == 1, out[-3000:]
    assert 'ERROR (TADDataError)' in out and 'Traceback' not in out, out
    assert 'Epoch(train)' not in out  # not one iteration ran
    for needle in needles:
        assert needle in out, out[-3000:]


def test_label_outside_the_models_classes(data, tmp_path):
    database = annotations(data)
    database[TRAIN[1]]['annotations'][0].update(label='weird',
                                                label_id=99)
    save_annotations(data, database)
    config, work = write_config(tmp_path, data), tmp_path / 'work'
    needle = (f"{TRAIN[1]}: label id(s) 99 ('weird') outside the model's 6 "
              'classes (model.head.num_classes=6)')
    result = check(config, work)
    assert result.returncode == 1 and needle in result.stdout
    assert 'all videos OK' not in result.stdout
    assert_stopped_before_training(train(config, work), needle)


BAD_VALUES = {
    'nan': (lambda f: f.__setitem__((7, 3), np.nan),
            'contain NaN values, first at step 7'),
    'huge': (lambda f: f.__setitem__((5, 0), 1e30),
             'have values of magnitude up to 1e+30 (first at step 5)'),
    'int': (None, 'are stored as int64; features must be floating point'),
}


@pytest.mark.parametrize('kind', sorted(BAD_VALUES))
def test_bad_feature_values_are_found_before_training(data, tmp_path, kind):
    path = data / 'features' / f'{TRAIN[2]}.npy'
    feats = np.load(path)
    edit, message = BAD_VALUES[kind]
    if edit is None:
        feats = np.ones(feats.shape, np.int64)
    else:
        edit(feats)
    np.save(path, feats)
    config, work = write_config(tmp_path, data), tmp_path / 'work'
    needle = f'{TRAIN[2]}.npy (video {TRAIN[2]}) {message}'
    result = check(config, work)
    assert result.returncode == 1 and needle in result.stdout, \
        result.stdout[-2000:]
    assert_stopped_before_training(train(config, work), needle)


def test_class_list_larger_than_the_model(data, tmp_path):
    from mmengine.config import Config
    from asl_mmaction.datasets.preflight import preflight_check
    cfg = Config.fromfile(str(write_config(tmp_path, data)))
    cfg.train_dataloader.dataset.class_names = [
        f'demo_action_{i}' for i in range(7)]
    with pytest.raises(TADDataError, match=r'give 7 classes but the model '
                       r'has model\.head\.num_classes=6'):
        preflight_check(cfg, splits=['train'], check_values=False)


def test_debug_flag_shows_the_traceback(data, tmp_path):
    path = data / 'features' / f'{TRAIN[0]}.npy'
    np.save(path, np.ones(np.load(path).shape, np.int64))
    proc = train(write_config(tmp_path, data), tmp_path / 'w', '--debug')
    assert proc.returncode == 1 and 'Traceback' in proc.stdout
    assert 'stored as int64' in proc.stdout


def test_check_dataset_caches_checked_files(data, tmp_path):
    config, work = write_config(tmp_path, data), tmp_path / 'work'
    first = check(config, work)
    assert first.returncode == 0, first.stdout[-2000:]
    assert '4 file(s) read, 0 unchanged' in first.stdout
    assert (work / 'feature_checks.json').is_file()
    second = check(config, work)
    assert '0 file(s) read, 4 unchanged' in second.stdout
    # a changed file is read again, and its new problem found
    path = data / 'features' / f'{TRAIN[3]}.npy'
    feats = np.load(path)
    feats[2] = 1e30
    np.save(path, feats)
    third = check(config, work)
    assert third.returncode == 1
    assert '1 file(s) read, 3 unchanged' in third.stdout
    assert 'values of magnitude up to 1e+30 (first at step 2)' in \
        third.stdout


def test_empty_datasets_say_why(data, tmp_path):
    database = annotations(data)
    for name in TRAIN:
        database[name]['annotations'] = []
    save_annotations(data, database)
    config, work = write_config(tmp_path, data), tmp_path / 'work'
    # labels for the class list come from the val clips
    needle = ("none of the 4 videos of subset ['train'] has a ground-truth "
              'segment')
    result = check(config, work)
    assert result.returncode == 1 and needle in result.stdout
    proc = train(config, work)
    assert_stopped_before_training(
        proc, needle, 'filter_empty_gt=True drops such videos')
    assert 'need at least one array' not in proc.stdout
    proc = train(config, work, '--cfg-options',
                 'train_dataloader.dataset.subset=test')
    assert_stopped_before_training(
        proc, "no video of subset ['test'] in", "(it holds ['train', 'val'])")


def test_feature_value_problems_name_file_and_step(tmp_path):
    def scan(array, layout='TC'):
        path = tmp_path / 'f.npy'
        np.save(path, array)
        return scan_feature_values(make_source(str(path), layout=layout),
                                   video='v1')

    assert scan(np.zeros((5, 3), np.float16)) == 5
    assert scan(np.zeros((3, 6), np.float32), layout='CT') == 6
    bad = np.zeros((6, 3), np.float32)
    bad[4, 1] = np.inf
    with pytest.raises(TADDataError, match=r'f\.npy \(video v1\) contain '
                       r'inf values, first at step 4'):
        scan(bad)
    with pytest.raises(TADDataError, match='first at step 4'):
        scan(bad.T.copy(), layout='CT')
    bad[4, 1] = -3e5
    with pytest.raises(TADDataError, match='magnitude up to 3e\\+05'):
        scan(bad)
    with pytest.raises(TADDataError, match='stored as bool'):
        scan(np.zeros((4, 2), bool))


def test_cache_entry_invalid_after_change(tmp_path):
    path = tmp_path / 'f.npy'
    np.save(path, np.zeros((4, 2), np.float32))
    source = make_source(str(path))
    cache = FeatureCheckCache(str(tmp_path / 'c.json'))
    cache.record(source, 1e4, 4)
    cache.save()
    reread = FeatureCheckCache(str(tmp_path / 'c.json'))
    assert reread.steps_if_checked(source, 1e4) == 4
    assert reread.steps_if_checked(source, 1e3) is None  # other limit
    np.save(path, np.zeros((5, 2), np.float32))
    assert reread.steps_if_checked(source, 1e4) is None


@pytest.mark.skipif(mount_of('/proc') != ('/proc', 'proc'),
                    reason='no procfs at /proc')
def test_work_dir_on_a_pseudo_filesystem(tmp_path):
    with pytest.raises(WorkDirError, match='/proc is on the proc pseudo-'
                       'filesystem'):
        check_work_dir('/proc/asl_mmaction_test/work')
    proc = run_tool(['tools/train.py', str(ASL_DEMO), '--work-dir',
                     '/proc/asl_mmaction_test/work'], check=False)
    assert proc.returncode == 1
    assert 'ERROR (WorkDirError)' in proc.stdout
    assert 'No such file or directory' not in proc.stdout
