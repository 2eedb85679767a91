"""EpicKitchensDataset on the real EPIC-Kitchens-100 validation CSV."""
import csv
import json

import numpy as np
import pytest
from mmaction.registry import DATASETS

from asl_mmaction.datasets import TADDataError
from asl_mmaction.datasets.epic_annotations import (format_timestamp,
                                                    parse_timestamp)
from dataset_fixtures import (EPIC_DIR, FPS, STRIDE, WINDOW, num_steps,
                              shared_file, write_features)

VAL_CSV = EPIC_DIR / 'EPIC_100_validation.csv'
INFO_CSV = EPIC_DIR / 'EPIC_100_video_info.csv'


def epic_cfg(ann_file, feat_dir, task='verb', **kwargs):
    cfg = dict(type='EpicKitchensDataset', ann_file=str(ann_file),
               feat_dirs=str(feat_dir), task=task,
               video_info_file=str(shared_file(INFO_CSV)),
               class_file=str(EPIC_DIR / f'EPIC_100_{task}_classes.csv'),
               fps=FPS, feat_stride=STRIDE, num_frames=WINDOW, pipeline=[])
    cfg.update(kwargs)
    return cfg


@pytest.mark.parametrize('task,num_classes', [('verb', 97), ('noun', 300)])
def test_validation_csv_counts(task, num_classes, tmp_path):
    ds = DATASETS.build(epic_cfg(shared_file(VAL_CSV), tmp_path, task=task,
                                 subset='val', test_mode=True,
                                 check_features=False))
    assert len(ds) == 138
    assert len(ds.metainfo['classes']) == num_classes
    assert ds.metainfo['dataset_name'] == 'epic_kitchens_100'
    infos = [ds.get_data_info(i) for i in range(len(ds))]
    assert sum(len(d['ann_segments']) for d in infos) == 9668
    with open(VAL_CSV, newline='') as f:
        rows = list(csv.DictReader(f))
    by_class = np.bincount([int(r[f'{task}_class']) for r in rows],
                           minlength=num_classes)
    got = np.bincount(np.concatenate([d['ann_labels'] for d in infos]),
                      minlength=num_classes)
    np.testing.assert_array_equal(got, by_class)
    first = next(d for d in infos if d['video_name'] == rows[0]['video_id'])
    assert first['fps'] == FPS  # the config's feature fps, not the video's
    if task == 'verb':
        assert ds.metainfo['classes'][:2] == ('take', 'put')


def test_timestamps_are_parsed_exactly():
    assert parse_timestamp('00:00:01.89') == 1.89
    assert parse_timestamp('01:02:03.07') == 3723.07
    assert parse_timestamp('00:10:00.1') == 600.1
    assert format_timestamp(3723.07) == '01:02:03.07'
    for bad in ('1:2', '00:61:00.00', 'aa:00:00.00', ''):
        with pytest.raises(TADDataError, match='malformed timestamp'):
            parse_timestamp(bad, where='f.csv, line 3')


def test_subset_must_match_the_csv(tmp_path):
    with pytest.raises(TADDataError, match="holds the 'val' split"):
        DATASETS.build(epic_cfg(shared_file(VAL_CSV), tmp_path,
                                subset='train', check_features=False))


def small_csv(tmp_path, n_videos=2):
    """The first ``n_videos`` of the real validation CSV."""
    with open(shared_file(VAL_CSV), newline='') as f:
        reader = csv.DictReader(f)
        rows, videos = [], []
        for row in reader:
            if row['video_id'] not in videos:
                if len(videos) == n_videos:
                    break
                videos.append(row['video_id'])
            rows.append(row)
    path = tmp_path / 'EPIC_100_validation.csv'
    with open(path, 'w', newline='') as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return path, videos, rows


def test_real_videos_through_pipeline_with_npz(tmp_path):
    path, videos, rows = small_csv(tmp_path)
    with open(INFO_CSV, newline='') as f:
        duration = {r['video_id']: float(r['duration'])
                    for r in csv.DictReader(f)}
    arrays = write_features(tmp_path / 'feats',
                            {v: num_steps(duration[v]) for v in videos},
                            suffix='.npz')
    ds = DATASETS.build(epic_cfg(path, tmp_path / 'feats', task='noun',
                                 subset='val', test_mode=True,
                                 feat_suffix='.npz', feat_dims=8,
                                 pipeline=[dict(type='LoadTADFeatures'),
                                           dict(type='PackTADInputs')]))
    out = ds[0]
    sample = out['data_samples']
    np.testing.assert_array_equal(out['inputs'].numpy(),
                                  arrays[sample.video_name].T)
    n_rows = sum(r['video_id'] == sample.video_name for r in rows)
    assert len(sample.ann_segments) == n_rows
    starts = sorted(parse_timestamp(r['start_timestamp']) for r in rows
                    if r['video_id'] == sample.video_name)
    steps = sample.gt_instances.segments_in_steps[:, 0].numpy().astype(
        np.float64)
    back = (steps * STRIDE + WINDOW / 2) / FPS
    # every (de-duplicated) target starts where an annotated action starts
    gap = np.abs(back[:, None] - np.array(starts)[None]).min(axis=1)
    assert gap.max() < 1e-4 and len(steps) > 0


def test_actionformer_json_layout(tmp_path):
    database = {
        'P01_11': dict(subset='Validation', duration=100.0, fps=30.0,
                       annotations=[dict(segment=[1.0, 3.5], label='take',
                                         label_id=0),
                                    dict(segment=[2.0, 4.0], label='open',
                                         label_id=3)]),
        'P01_12': dict(subset='Training', duration=50.0, fps=30.0,
                       annotations=[])}
    path = tmp_path / 'epic.json'
    path.write_text(json.dumps(dict(database=database)))
    val = DATASETS.build(dict(type='EpicKitchensDataset', ann_file=str(path),
                              feat_dirs=str(tmp_path), subset='val',
                              check_features=False, fps=30.0))
    assert len(val) == 1
    assert val.metainfo['classes'] == ('take', 'unseen_class_1',
                                       'unseen_class_2', 'open')
    np.testing.assert_array_equal(val.get_data_info(0)['ann_labels'], [0, 3])
    train = DATASETS.build(dict(type='EpicKitchensDataset',
                                ann_file=str(path), feat_dirs=str(tmp_path),
                                subset='train', check_features=False,
                                filter_empty_gt=False))
    assert len(train) == 1 and train.get_data_info(0)['fps'] == 30.0
