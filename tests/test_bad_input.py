"""Every kind of bad input fails with a message naming the file / video."""
import json
import logging

import numpy as np
import pytest
from mmaction.registry import DATASETS

from asl_mmaction.datasets import TADDataError, base_tad_dataset
from dataset_fixtures import num_steps, write_features

DURATION = 20.0


def clip(segments=((1.0, 4.0),), labels=('a',), **extra):
    return dict(subset='train', duration=DURATION, fps=30.0, **extra,
                annotations=[dict(segment=list(s), label=lab)
                             for s, lab in zip(segments, labels)])


def make(tmp_path, clips=None, features=True, channels=8, **kwargs):
    """A converted-layout file (clips 'c0', 'c1' by default) + features."""
    clips = clips if clips is not None else {'c0': clip(), 'c1': clip()}
    (tmp_path / 'ann.json').write_text(json.dumps(clips))
    if features:
        write_features(tmp_path / 'f', {k: num_steps(DURATION)
                                        for k in clips}, channels=channels)
    cfg = dict(type='Ego4DMQDataset', ann_file=str(tmp_path / 'ann.json'),
               feat_dirs=str(tmp_path / 'f'), feat_stride=16, num_frames=32,
               feat_dims=8, pipeline=[dict(type='LoadTADFeatures')])
    cfg.update(kwargs)
    return cfg


def test_missing_feature_file_fails_at_build(tmp_path):
    cfg = make(tmp_path)
    (tmp_path / 'f' / 'c1.npy').unlink()
    with pytest.raises(TADDataError,
                       match=r'feature file not found: .*c1\.npy'):
        DATASETS.build(cfg)


def test_unreadable_feature_file(tmp_path):
    cfg = make(tmp_path)
    (tmp_path / 'f' / 'c0.npy').write_bytes(b'not a numpy file')
    with pytest.raises(TADDataError, match=r'cannot read features .*c0\.npy'):
        DATASETS.build(cfg)


def test_wrong_feature_dimension(tmp_path):
    cfg = make(tmp_path, channels=5)
    with pytest.raises(TADDataError,
                       match=r'video c0: features .*c0\.npy have 5 channels,'
                             r' expected feat_dims\[0\]=8'):
        DATASETS.build(cfg)


def test_three_dimensional_features(tmp_path):
    cfg = make(tmp_path)
    np.save(tmp_path / 'f' / 'c0.npy', np.zeros((3, 4, 5), np.float32))
    with pytest.raises(TADDataError, match=r'c0\.npy have shape \(3, 4, 5\)'):
        DATASETS.build(cfg)


def test_npz_without_the_key(tmp_path):
    cfg = make(tmp_path, features=False, feat_suffix='.npz')
    write_features(tmp_path / 'f', {'c0': 37, 'c1': 37}, suffix='.npz',
                   npz_key='x')
    with pytest.raises(TADDataError, match=r"no array 'feats' .* set npz_key"):
        DATASETS.build(cfg)


@pytest.mark.parametrize('value,kind', [(np.nan, 'NaN'), (np.inf, 'inf')])
def test_non_finite_features_fail_at_load(tmp_path, value, kind):
    cfg = make(tmp_path)
    feats = np.load(tmp_path / 'f' / 'c1.npy')
    feats[5, 2] = value
    np.save(tmp_path / 'f' / 'c1.npy', feats)
    ds = DATASETS.build(cfg)  # cheap checks pass: values are not read
    ds[0]
    with pytest.raises(TADDataError,
                       match=rf'c1\.npy \(video c1\) contain {kind} values '
                             r'at 1 time step\(s\), first at step 5'):
        ds[1]


def test_segment_end_before_start(tmp_path):
    cfg = make(tmp_path, {'c0': clip(segments=[(5.0, 5.0)])})
    with pytest.raises(TADDataError, match=r'video c0: segment \[5.0, 5.0\] '
                                           'has end <= start'):
        DATASETS.build(cfg)


def test_segment_outside_the_video(tmp_path):
    cfg = make(tmp_path, {'c0': clip(segments=[(10.0, 35.0)])})
    with pytest.raises(TADDataError, match=r'video c0: segment \[10.0, 35.0\]'
                                           r' lies outside the video'):
        DATASETS.build(cfg)


def test_small_overshoot_is_clipped_for_training_only(tmp_path):
    cfg = make(tmp_path, {'c0': clip(segments=[(-0.5, 3.0), (18.0, 20.6),
                                               (20.2, 20.8)],
                                     labels=['a', 'a', 'a'])})
    info = DATASETS.build(cfg).get_data_info(0)
    np.testing.assert_allclose(info['segments'], [[0.0, 3.0], [18.0, 20.0]])
    # scored as annotated, the one past the end included
    np.testing.assert_allclose(info['ann_segments'],
                               [[-0.5, 3.0], [18.0, 20.6], [20.2, 20.8]])


def test_unknown_label(tmp_path):
    cfg = make(tmp_path, {'c0': clip(labels=['mystery'])},
               class_names=['a', 'b'])
    with pytest.raises(TADDataError, match=r"clip c0: unknown label\(s\) "
                                           r"\['mystery'\]"):
        DATASETS.build(cfg)


def test_unknown_epic_class_id(tmp_path):
    db = {'P01_01': dict(subset='training', duration=DURATION, fps=30.0,
                         annotations=[dict(segment=[1, 2], label_id=120)])}
    (tmp_path / 'epic.json').write_text(json.dumps(dict(database=db)))
    with pytest.raises(TADDataError, match=r'video P01_01: unknown verb class'
                                           r' id\(s\) \[120\] \(there are 2 '):
        DATASETS.build(dict(type='EpicKitchensDataset',
                            ann_file=str(tmp_path / 'epic.json'),
                            feat_dirs=str(tmp_path), check_features=False,
                            class_names=['take', 'put']))


@pytest.mark.parametrize('text,message', [
    ('', 'annotation file is empty'),
    ('{"c0": {"subset": ', 'is not valid JSON'),
    ('[1, 2]', 'not an Ego4D moments file'),
    ('{}', 'holds no clips'),
    ('{"c0": {"subset": "train", "duration": 5, "annotations": '
     '[{"label": "a"}]}}', "clip c0: missing field 'segment'"),
    ('{"c0": {"subset": "holdout", "duration": 5}}',
     "unknown subset 'holdout'"),
])
def test_malformed_annotation_files(tmp_path, text, message):
    (tmp_path / 'ann.json').write_text(text)
    with pytest.raises(TADDataError, match=message) as info:
        DATASETS.build(dict(type='Ego4DMQDataset',
                            ann_file=str(tmp_path / 'ann.json'),
                            feat_dirs=str(tmp_path), check_features=False,
                            fps=30.0))
    if text:
        assert 'ann.json' in str(info.value)


def test_missing_annotation_file_and_subset(tmp_path):
    with pytest.raises(TADDataError, match=r'annotation file not found: .*'
                                           r'nope\.json'):
        DATASETS.build(dict(type='Ego4DMQDataset', ann_file='nope.json',
                            data_root=str(tmp_path), feat_dirs='f'))
    cfg = make(tmp_path, subset='val')
    with pytest.raises(TADDataError, match=r"no video of subset \['val'\] in "
                                           r".*ann\.json \(it holds "
                                           r"\['train'\]\)"):
        DATASETS.build(cfg)


def test_missing_fps(tmp_path):
    c = clip()
    del c['fps']
    with pytest.raises(TADDataError, match='video c0: no fps .* set fps'):
        DATASETS.build(make(tmp_path, {'c0': c}))


def test_wrong_fps_is_caught_by_the_length_check(tmp_path):
    cfg = make(tmp_path, fps=60.0)  # features were made at 30 fps
    with pytest.raises(TADDataError, match=r'video c0: features .* have 36 '
                                           r'steps, .* implies about 74; '
                                           'check fps / feat_stride'):
        DATASETS.build(cfg)
    assert len(DATASETS.build(dict(cfg, length_tolerance=None))) == 2


def test_skip_bad_videos_logs_one_summary(tmp_path, monkeypatch):
    clips = {'c0': clip(), 'c1': clip(segments=[(3.0, 2.0)]), 'c2': clip()}
    cfg = make(tmp_path, clips, skip_bad_videos=True)
    (tmp_path / 'f' / 'c2.npy').unlink()
    logged = []
    monkeypatch.setattr(base_tad_dataset, 'print_log',
                        lambda msg, **kw: logged.append((msg, kw)))
    ds = DATASETS.build(cfg)
    assert len(ds) == 1 and ds.get_data_info(0)['video_name'] == 'c0'
    assert [name for name, _ in ds.bad_videos] == ['c1', 'c2']
    summary = [msg for msg, kw in logged if 'skipped 2 of 3 videos' in msg]
    assert len(summary) == 1 and logged[0][1]['level'] == logging.WARNING
    assert 'c1: video c1: segment [3.0, 2.0] has end <= start' in summary[0]
    assert 'c2.npy' in summary[0]
