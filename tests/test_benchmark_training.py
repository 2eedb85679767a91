"""THUMOS14, ActivityNet-1.3, MultiTHUMOS and Charades: the shipped ASL
configs train a few iterations through ``tools/train.py`` on generated
features laid out as docs/datasets.md says, validate with the benchmark's
tIoU set, and ``tools/check_dataset.py`` reports their statistics.

Only the model width, the epochs and the warm-up are shrunk; the data
pipeline, the dataset options and the metric are the configs' own.
"""
import json
import textwrap
from pathlib import Path

import numpy as np
import pytest

from benchmark_fixtures import (ANET_CLASSES, activitynet_file,
                                charades_files, i3d_like_features,
                                multithumos_files, per_second_h5)
from run_helpers import REPO, load_script, run_tool, train_scalars

THUMOS_CLASSES = ('BaseballPitch', 'BasketballDunk', 'Billiards',
                  'CleanAndJerk', 'CliffDiving', 'CricketBowling',
                  'CricketShot', 'Diving', 'FrisbeeCatch', 'GolfSwing',
                  'HammerThrow', 'HighJump', 'JavelinThrow', 'LongJump',
                  'PoleVault', 'Shotput', 'SoccerPenalty', 'TennisSwing',
                  'ThrowDiscus', 'VolleyballSpiking')


def thumos_like_json(path: Path, seed: int = 0):
    """ActionFormer's THUMOS14 layout: 4 Validation and 2 Test videos."""
    rng = np.random.default_rng(seed)
    database = {}
    for subset, prefix, count in (('Validation', 'video_validation_', 4),
                                  ('Test', 'video_test_', 2)):
        for i in range(count):
            duration = round(float(rng.uniform(40, 70)), 2)
            anns = []
            for k in range(3):
                start = float(rng.uniform(0, duration - 10))
                label_id = (5 * i + 7 * k) % 20
                anns.append(dict(segment=[round(start, 1),
                                          round(start + 6, 1)],
                                 label=THUMOS_CLASSES[label_id],
                                 label_id=label_id))
            database[f'{prefix}{i:07d}'] = dict(subset=subset,
                                                duration=duration, fps=30.0,
                                                annotations=anns)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(dict(version='Thumos14-30fps',
                                    database=database)))
    return {k: v['duration'] for k, v in database.items()}


def thumos14_data(root: Path):
    durations = thumos_like_json(root / 'annotations' / 'thumos14.json')
    i3d_like_features(root / 'i3d_features', durations, fps=30.0, stride=4,
                      window=16, channels=2048)


def activitynet_data(root: Path):
    (root / 'annotations').mkdir(parents=True)
    _, database = activitynet_file(root / 'annotations', n_per_subset=4)
    i3d_like_features(root / 'tsp_features',
                      {k: v['duration'] for k, v in database.items()},
                      fps=15.0, stride=16, window=16, channels=512,
                      prefix='v_')
    # the CUHK classifier's layout, read by the metric's score fusion
    rng = np.random.default_rng(0)
    scores = {v: rng.dirichlet(np.ones(len(ANET_CLASSES))).tolist()
              for v in database}
    (root / 'annotations' / 'cuhk_val_simp_share.json').write_text(
        json.dumps(dict(results=scores, **{'class': list(ANET_CLASSES)})))


def multithumos_data(root: Path):
    folder = root / 'annotations' / 'multithumos'
    ann_dir, _, _, durations = multithumos_files(folder)
    # durations and fps as ActionFormer's thumos14.json gives them
    info = {v: dict(subset='Validation' if 'validation' in v else 'Test',
                    duration=d, fps=30.0, annotations=[])
            for v, d in durations.items()}
    (root / 'annotations' / 'thumos14.json').write_text(
        json.dumps(dict(database=info)))
    i3d_like_features(root / 'i3d_features', durations, fps=30.0, stride=4,
                      window=16, channels=2048)


def charades_data(root: Path):
    _, _, _, lengths = charades_files(root / 'annotations')
    per_second_h5(root / 'features' / 'rgb_Charades_v1_480.h5', lengths,
                  rate=3.0, channels=1024)


BENCHMARKS = {
    # config, data writer, metric keys (the benchmark's tIoU set),
    # (train videos, val videos)
    'thumos14': ('asl_thumos14_i3d.py', thumos14_data,
                 ('0.3', '0.4', '0.5', '0.6', '0.7'), (4, 2)),
    'activitynet13': ('asl_activitynet13_tsp.py', activitynet_data,
                      ('0.5', '0.55', '0.6', '0.65', '0.7', '0.75', '0.8',
                       '0.85', '0.9', '0.95'), (4, 4)),
    'multithumos': ('asl_multithumos_i3d_rgb.py', multithumos_data,
                    ('0.1', '0.2', '0.3', '0.4', '0.5', '0.6', '0.7', '0.8',
                     '0.9'), (3, 2)),
    'charades': ('asl_charades_i3d_rgb.py', charades_data,
                 ('0.1', '0.2', '0.3', '0.4', '0.5', '0.6', '0.7', '0.8',
                  '0.9'), (4, 2)),
}


def tiny_config(tmp_path: Path, config: str, data_root: Path) -> Path:
    """The shipped config on ``data_root``: 1 epoch, no warm-up, a 32-wide
    model, batch 2, no worker processes; everything else as shipped."""
    base = REPO / 'configs' / 'asl' / config
    # a data_root set here does not reach paths the base built from its own
    score_file = data_root / 'annotations' / 'cuhk_val_simp_share.json'
    evaluator = (f'val_evaluator = dict(score_fusion=dict(score_file='
                 f'{str(score_file)!r}))' if score_file.exists() else '')
    text = textwrap.dedent(f"""\
        _base_ = [{str(base)!r}]
        data_root = {str(data_root)!r}
        loader = dict(batch_size=2, num_workers=0, persistent_workers=False)
        train_dataloader = dict(**loader, dataset=dict(data_root=data_root))
        val_dataloader = dict(**loader, dataset=dict(data_root=data_root))
        test_dataloader = val_dataloader
        {evaluator}
        model = dict(
            backbone=dict(embed_channels=32),
            neck=dict(in_channels=32, out_channels=32),
            head=dict(in_channels=32, feat_channels=32))
        train_cfg = dict(max_epochs=1, val_interval=1)
        param_scheduler = [dict(type='LinearWarmupCosineLR', warmup=0,
                                by_epoch=True, convert_to_iter_based=True)]
        default_hooks = dict(logger=dict(interval=1),
                             checkpoint=dict(save_best=None))
        randomness = dict(seed=0)
        """)
    path = tmp_path / f'tiny_{config}'
    path.write_text(text)
    return path


@pytest.fixture(scope='module')
def check_dataset():
    return load_script('tools/check_dataset.py')


@pytest.mark.parametrize('name', list(BENCHMARKS))
def test_config_trains_validates_and_checks(name, tmp_path, capsys,
                                            check_dataset):
    config, write_data, tious, (n_train, n_val) = BENCHMARKS[name]
    root = tmp_path / 'data'
    write_data(root)
    cfg = tiny_config(tmp_path, config, root)

    for split, count in (('train', n_train), ('val', n_val)):
        assert check_dataset.main([str(cfg), '--split', split]) == 0
        out = capsys.readouterr().out
        assert f'videos: {count}' in out and 'all videos OK' in out
        assert 'actions per class:' in out

    work = tmp_path / 'work'
    result = run_tool(['tools/train.py', str(cfg), '--work-dir', str(work)],
                      timeout=300)
    records = train_scalars(work)
    assert records and all(np.isfinite(r['loss']) for r in records)
    assert (work / 'epoch_1.pth').exists()
    for tiou in tious:
        assert f'mAP@{tiou}:' in result.stdout, result.stdout[-3000:]
