"""ActivityNet-1.3, MultiTHUMOS and Charades datasets on small files the
tests write in the original release formats, and the options they need
(class-agnostic targets, ActionFormer's resize, fps from the features,
the RGB half of the features)."""
import logging

import numpy as np
import pytest
from mmaction.registry import DATASETS, TRANSFORMS

from asl_mmaction.datasets import TADDataError, charades_dataset
from asl_mmaction.evaluation.functional import read_tad_annotations
from benchmark_fixtures import (ANET_CLASSES, CHARADES_CLASSES,
                                MULTITHUMOS_CLASSES, activitynet_file,
                                charades_files, i3d_like_features,
                                multithumos_files, per_second_h5)
from dataset_fixtures import write_features


def infos_of(dataset):
    return [dataset.get_data_info(i) for i in range(len(dataset))]


# ------------------------------------------------------------ ActivityNet
def anet_cfg(ann, feat_dir, **kwargs):
    cfg = dict(type='ActivityNetTADDataset', ann_file=str(ann),
               feat_dirs=str(feat_dir), feat_prefix='v_', fps=15.0,
               feat_stride=16, num_frames=16, pipeline=[])
    cfg.update(kwargs)
    return cfg


def test_activitynet_official_file(tmp_path):
    ann, database = activitynet_file(tmp_path)
    i3d_like_features(tmp_path / 'f', {k: v['duration']
                                       for k, v in database.items()},
                      fps=15.0, stride=16, window=16, channels=8,
                      prefix='v_')
    train = DATASETS.build(anet_cfg(ann, tmp_path / 'f', subset='train'))
    assert train.metainfo['classes'] == ANET_CLASSES  # sorted, no ids
    assert train.metainfo['dataset_name'] == 'activitynet'
    assert len(train) == 3
    val = DATASETS.build(anet_cfg(ann, tmp_path / 'f', subset='val',
                                  test_mode=True))
    info = val.get_data_info(0)
    entry = database[info['video_name']]
    np.testing.assert_array_equal(info['ann_segments'],
                                  [a['segment'] for a in entry['annotations']])
    assert [ANET_CLASSES[i] for i in info['ann_labels']] == \
        [a['label'] for a in entry['annotations']]
    test = DATASETS.build(anet_cfg(ann, tmp_path / 'f', subset='test',
                                   test_mode=True))
    assert len(test) == 3 and all(len(d['ann_segments']) == 0
                                  for d in infos_of(test))
    # the metric's reader: same classes, same seconds
    videos, classes = read_tad_annotations(str(ann), 'val',
                                           dataset='activitynet')
    assert classes == ANET_CLASSES
    np.testing.assert_array_equal(videos[info['video_name']]['segments'],
                                  info['ann_segments'])


def test_class_agnostic_targets_keep_the_scored_labels(tmp_path):
    ann, database = activitynet_file(tmp_path)
    ds = DATASETS.build(anet_cfg(ann, tmp_path, subset='val',
                                 check_features=False, class_agnostic=True))
    assert ds.metainfo['classes'] == ANET_CLASSES
    for info in infos_of(ds):
        assert info['labels'].tolist() == [0] * len(info['segments'])
        assert set(info['ann_labels'].tolist()) <= {0, 1, 2}
    assert any(info['ann_labels'].any() for info in infos_of(ds))


def test_activitynet_resize_tiles_the_feature_span(tmp_path):
    """ActionFormer's force_upsampling: stride ((T - 1) * 16 + 16) / 192
    frames per step and a centred window (offset 0.5), whatever the
    annotated duration."""
    ann, database = activitynet_file(tmp_path)
    name = next(k for k, v in database.items() if v['subset'] == 'training')
    duration = database[name]['duration']
    T = int(duration * 15 / 16) - 5  # features missing their last frames
    write_features(tmp_path / 'f', {f'v_{name}': T}, channels=8)
    ds = DATASETS.build(anet_cfg(
        ann, tmp_path / 'f', subset='train', resize_length=192,
        resize_span='features', indices=None, filter_empty_gt=False,
        skip_bad_videos=True,
        pipeline=[dict(type='LoadTADFeatures')]))
    assert [d['video_name'] for d in infos_of(ds)] == [name]  # others: no
    out = ds[0]                                                # features
    stride = ((T - 1) * 16 + 16) / 192
    assert out['feats'].shape == (8, 192)
    assert out['feat_stride'] == pytest.approx(stride)
    assert out['feat_offset'] == pytest.approx(0.5)
    seg = np.asarray(database[name]['annotations'][0]['segment'])
    np.testing.assert_allclose(out['gt_segments'][0],
                               seg * 15 / stride - 0.5, rtol=1e-5)
    with pytest.raises(TADDataError, match="resize_span must be one of"):
        DATASETS.build(anet_cfg(ann, tmp_path, resize_span='video'))


# ------------------------------------------------------------ MultiTHUMOS
def test_multithumos_release_files(tmp_path):
    ann_dir, class_list, info, durations = multithumos_files(tmp_path)
    i3d_like_features(tmp_path / 'f', durations, fps=30.0, stride=4,
                      window=16, channels=2048)
    cfg = dict(type='MultiThumosDataset', ann_file=str(ann_dir),
               class_file=str(class_list), video_info_file=str(info),
               feat_dirs=str(tmp_path / 'f'), feat_dims=[2048],
               feat_stride=4, num_frames=16,
               pipeline=[dict(type='LoadTADFeatures'),
                         dict(type='SelectFeatureChannels', start=0,
                              stop=1024)])
    train = DATASETS.build(dict(cfg, subset='val'))
    test = DATASETS.build(dict(cfg, subset='test', test_mode=True))
    assert train.metainfo['classes'] == MULTITHUMOS_CLASSES  # 65, by id
    assert train.metainfo['dataset_name'] == 'multithumos'
    assert len(train) == 3 and len(test) == 2
    assert all(n.startswith('video_test_') for n in
               (d['video_name'] for d in infos_of(test)))
    info0 = train.get_data_info(0)
    assert info0['duration'] == durations[info0['video_name']]
    assert len(info0['ann_segments']) == 4
    out = train[0]
    assert out['feats'].shape[0] == 1024  # the RGB half
    # the metric reads the folder, class_list.txt beside it
    videos, classes = read_tad_annotations(str(ann_dir), 'test')
    assert classes == MULTITHUMOS_CLASSES
    assert set(videos) == {d['video_name'] for d in infos_of(test)}


def test_select_feature_channels_checks_its_range():
    select = TRANSFORMS.build(dict(type='SelectFeatureChannels', start=0,
                                   stop=4))
    out = select(dict(feats=np.arange(12.0).reshape(6, 2)))
    np.testing.assert_array_equal(out['feats'], [[0, 1], [2, 3], [4, 5],
                                                 [6, 7]])
    with pytest.raises(TADDataError, match='video v: features have 3 '
                                           'channels, SelectFeatureChannels '
                                           'needs 4'):
        select(dict(feats=np.zeros((3, 5)), video_name='v'))
    with pytest.raises(ValueError, match='0 <= start < stop'):
        TRANSFORMS.build(dict(type='SelectFeatureChannels', start=4, stop=4))


def test_multithumos_bad_video_name(tmp_path):
    folder = tmp_path / 'annotations'
    folder.mkdir()
    (folder / 'Jump.txt').write_text('clip_0001 1.0 2.0\n')
    with pytest.raises(TADDataError, match=r"Jump\.txt: video 'clip_0001' is"
                                           r" neither video_validation_\*"):
        DATASETS.build(dict(type='MultiThumosDataset', ann_file=str(folder),
                            feat_dirs=str(tmp_path), fps=30.0,
                            check_features=False))


# --------------------------------------------------------------- Charades
def charades_cfg(ann, classes, feat_file, **kwargs):
    cfg = dict(type='CharadesDataset', ann_file=str(ann),
               class_file=str(classes), feat_file=str(feat_file),
               fps_from_features=True, feat_stride=1, num_frames=1,
               pipeline=[])
    cfg.update(kwargs)
    return cfg


def test_charades_release_files(tmp_path):
    train_csv, test_csv, classes, lengths = charades_files(tmp_path)
    arrays = per_second_h5(tmp_path / 'rgb.h5', lengths, rate=3.0,
                           channels=8)
    train = DATASETS.build(charades_cfg(train_csv, classes,
                                        tmp_path / 'rgb.h5', subset='train',
                                        pipeline=[dict(
                                            type='LoadTADFeatures')]))
    assert train.metainfo['classes'] == CHARADES_CLASSES  # 157, c000 = 0
    assert train.metainfo['dataset_name'] == 'charades'
    assert len(train) == 4
    info = train.get_data_info(0)
    name = info['video_name']
    # the ASL authors' loader: fps = feature steps / video length
    assert info['fps'] == pytest.approx(len(arrays[name]) / lengths[name])
    assert info['ann_labels'].tolist() == [0, 40, 80]  # c000, c040, c080
    out = train[0]
    np.testing.assert_allclose(
        out['gt_segments'], info['segments'] * info['fps'] - 0.5, rtol=1e-5)
    test = DATASETS.build(charades_cfg(test_csv, classes, tmp_path / 'rgb.h5',
                                       subset='test', test_mode=True))
    assert len(test) == 2
    videos, names = read_tad_annotations(str(test_csv))  # classes beside
    assert names == CHARADES_CLASSES
    np.testing.assert_array_equal(videos[test.get_data_info(0)[
        'video_name']]['segments'], test.get_data_info(0)['ann_segments'])
    with pytest.raises(TADDataError, match='fps_from_features=True computes '
                                           'fps'):
        DATASETS.build(charades_cfg(train_csv, classes, tmp_path / 'rgb.h5',
                                    fps=24.0))


def test_charades_odd_rows(tmp_path, monkeypatch):
    train_csv, _, classes, lengths = charades_files(tmp_path)
    text = train_csv.read_text().splitlines()
    header, row = text[0], text[1].split(',')
    # no action at all, and an action with end <= start
    rows = [header,
            ','.join(row[:9] + ['', row[-1]]),
            ','.join(row[:9] + ['c003 5.00 5.00;c004 1.00 4.00', row[-1]])]
    rows[1] = rows[1].replace(row[0], 'EMPTY', 1)
    (tmp_path / 'Charades_v1_train.csv').write_text('\n'.join(rows) + '\n')
    logged = []
    monkeypatch.setattr(charades_dataset, 'print_log',
                        lambda msg, **kw: logged.append((msg, kw)))
    ds = DATASETS.build(charades_cfg(train_csv, classes, tmp_path / 'x.h5',
                                     fps_from_features=False, fps=3.0,
                                     check_features=False,
                                     filter_empty_gt=False))
    assert len(logged) == 1 and logged[0][1]['level'] == logging.WARNING
    assert 'Charades_v1_train.csv: left out 1 actions with end <= start' in \
        logged[0][0]
    infos = {d['video_name']: d for d in infos_of(ds)}
    assert len(infos['EMPTY']['ann_segments']) == 0
    assert infos[row[0]]['ann_labels'].tolist() == [4]
    (tmp_path / 'bad').mkdir()
    bad = tmp_path / 'bad' / 'Charades_v1_train.csv'
    bad.write_text(header + '\n' + ','.join(row[:9] + ['x12 1 2', row[-1]])
                   + '\n')
    with pytest.raises(TADDataError, match=r"Charades_v1_train\.csv, line 2 "
                                           rf"\(video {row[0]}\), action 0: "
                                           r'expected "c### start end"'):
        DATASETS.build(charades_cfg(bad, classes, tmp_path / 'x.h5',
                                    check_features=False))


def test_multithumos_and_charades_converted_to_json(tmp_path):
    from run_helpers import load_script
    tool = load_script('tools/data/activitynet_style/convert_to_json.py')
    ann_dir, class_list, info, durations = multithumos_files(tmp_path / 'mt')
    out = tmp_path / 'multithumos.json'
    assert tool.main([str(ann_dir), '--dataset', 'multithumos',
                      '--class-file', str(class_list), '--video-info',
                      str(info), '--out', str(out)]) == 0
    common = dict(feat_dirs=str(tmp_path), check_features=False, fps=30.0,
                  test_mode=True, pipeline=[])
    # a JSON of part of the classes names only those: give the class list
    from_json = DATASETS.build(dict(type='MultiThumosDataset',
                                    ann_file=str(out),
                                    class_file=str(class_list), **common))
    from_txt = DATASETS.build(dict(type='MultiThumosDataset',
                                   ann_file=str(ann_dir),
                                   class_file=str(class_list),
                                   video_info_file=str(info), **common))
    assert from_json.metainfo['classes'] == from_txt.metainfo['classes'] == \
        MULTITHUMOS_CLASSES
    for a, b in zip(infos_of(from_json), infos_of(from_txt)):
        assert a['video_name'] == b['video_name']
        assert a['duration'] == b['duration']
        np.testing.assert_array_equal(a['ann_segments'], b['ann_segments'])
        np.testing.assert_array_equal(a['ann_labels'], b['ann_labels'])

    train_csv, test_csv, classes, _ = charades_files(tmp_path / 'ch')
    out = tmp_path / 'charades.json'
    assert tool.main([str(train_csv), str(test_csv), '--dataset', 'charades',
                      '--class-file', str(classes), '--out', str(out)]) == 0
    both = DATASETS.build(dict(type='CharadesDataset', ann_file=str(out),
                               class_names=list(CHARADES_CLASSES), **common))
    assert len(both) == 6
    assert sorted({d['subset'] for d in infos_of(both)}) == ['test', 'train']


def test_preflight_checks_a_class_agnostic_dataset_on_its_targets(tmp_path):
    """ActivityNet's 1-class detector: the 3 scored classes are no error,
    a real-class dataset on a 1-class model is."""
    from asl_mmaction.datasets.preflight import (class_list_problem,
                                                 label_problems)
    ann, _ = activitynet_file(tmp_path)
    common = anet_cfg(ann, tmp_path, subset='val', check_features=False)
    agnostic = DATASETS.build(dict(common, class_agnostic=True))
    assert label_problems(agnostic, 1) == []
    assert class_list_problem(agnostic, 1) is None
    real = DATASETS.build(common)
    assert label_problems(real, 1)
    assert 'give 3 classes but the model has model.head.num_classes=1' in \
        class_list_problem(real, 1)
