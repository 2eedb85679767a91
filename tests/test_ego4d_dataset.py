"""Ego4DMQDataset on the real Ego4D-MQ annotations with generated features."""
import json

import numpy as np
import pytest
import torch
from mmaction.registry import DATASETS

from asl_mmaction.datasets import TADDataError
from asl_mmaction.datasets.ego4d_annotations import SPLIT_FILES, \
    clips_to_moments
from asl_mmaction.structures import steps_to_seconds
from dataset_fixtures import (EGO4D_CLIPS, FPS, STRIDE, WINDOW, ego4d_cfg,
                              features_for_clips, shared_file,
                              small_ego4d_file)

PIPELINE = [dict(type='LoadTADFeatures'), dict(type='PackTADInputs')]


@pytest.fixture(scope='module')
def real_clips():
    return json.loads(shared_file(EGO4D_CLIPS).read_text())


def build_real(subset, tmp_path, ann_file=None, **kwargs):
    """The real file without feature checks (no features are shipped)."""
    return DATASETS.build(ego4d_cfg(
        ann_file or shared_file(EGO4D_CLIPS), tmp_path, subset=subset,
        check_features=False, filter_empty_gt=False, **kwargs))


def test_converted_layout_counts_and_label_map(real_clips, tmp_path):
    sizes = {s: len(build_real(s, tmp_path)) for s in ('train', 'val',
                                                         'test')}
    assert sizes == {'train': 1486, 'val': 521, 'test': 488}
    both = build_real(['train', 'val'], tmp_path)
    assert len(both) == 1486 + 521
    classes = both.metainfo['classes']
    assert len(classes) == 110 and both.metainfo['dataset_name'] == 'ego4d_mq'
    # label ids are the file's label_id, not the sorted order
    for clip in real_clips.values():
        for ann in clip['annotations']:
            assert classes[ann['label_id']] == ann['label']
    assert list(classes) != sorted(classes)
    # every annotated segment is kept for scoring, duplicates included
    total = sum(len(both.get_data_info(i)['ann_segments'])
                for i in range(len(both)))
    expected = sum(len(c['annotations']) for c in real_clips.values()
                   if c['subset'] != 'test')
    assert total == expected == 17855
    # training targets drop the file's 21 exact same-label duplicates, 3
    # more that coincide once clipped to the clip ([0, 480.022] vs
    # [0, 480]) and the one segment that starts after its clip ends
    targets = sum(len(both.get_data_info(i)['segments'])
                  for i in range(len(both)))
    assert total - targets == 21 + 3 + 1
    test = build_real('test', tmp_path)
    assert all(len(test.get_data_info(i)['ann_segments']) == 0
               for i in range(len(test)))


def test_official_layout_read_back(real_clips, tmp_path):
    """The real file converted to the official layout reads the same."""
    moments = clips_to_moments(real_clips)
    for split, data in moments.items():
        (tmp_path / SPLIT_FILES[split]).write_text(json.dumps(data))
    names = sorted({a['label'] for c in real_clips.values()
                    for a in c['annotations']})
    for split, size in (('train', 1486), ('val', 521), ('test', 488)):
        ds = build_real(split, tmp_path,
                        ann_file=tmp_path / SPLIT_FILES[split],
                        # the unlabelled test file cannot name the classes
                        class_names=names if split == 'test' else None)
        assert len(ds) == size
    with pytest.raises(TADDataError, match='no labelled segment'):
        build_real('test', tmp_path,
                   ann_file=tmp_path / SPLIT_FILES['test'])
    val = build_real('val', tmp_path, ann_file=tmp_path / 'moments_val.json')
    classes = val.metainfo['classes']
    assert list(classes) == sorted(classes)  # no label_id: sorted names
    info = val.get_data_info(0)
    clip = real_clips[info['video_name']]
    assert info['duration'] == pytest.approx(clip['duration'])
    got = sorted(zip(info['ann_segments'].round(4).tolist(),
                     [classes[i] for i in info['ann_labels']]))
    want = sorted(zip(np.clip(np.array([a['segment'] for a in
                                        clip['annotations']]), 0,
                              clip['duration']).round(4).tolist(),
                      [a['label'] for a in clip['annotations']]))
    assert got == want


def test_official_layout_non_primary_labels(tmp_path):
    data = dict(videos=[dict(video_uid='v', split='train', clips=[dict(
        clip_uid='c', video_start_sec=10.0, video_end_sec=70.0,
        annotations=[dict(annotator_uid='a', labels=[
            dict(start_time=1.0, end_time=5.0, label='x', primary=True),
            dict(start_time=2.0, end_time=6.0, label='y', primary=False)])])
    ])])
    path = tmp_path / 'moments_train.json'
    path.write_text(json.dumps(data))
    primary = build_real('train', tmp_path, ann_file=path)
    assert primary.get_data_info(0)['ann_labels'].tolist() == [0]
    assert primary.get_data_info(0)['duration'] == 60.0
    every = build_real('train', tmp_path, ann_file=path, primary_only=False)
    assert every.metainfo['classes'] == ('x', 'y')
    assert len(every.get_data_info(0)['ann_segments']) == 2


def test_real_clips_through_full_pipeline(tmp_path):
    ann = small_ego4d_file(tmp_path, per_subset=2)
    features_for_clips(ann, tmp_path / 'feats')
    train = DATASETS.build(ego4d_cfg(ann, tmp_path / 'feats', subset='train',
                                     pipeline=[
        dict(type='LoadTADFeatures'),
        dict(type='RandomTemporalCrop', max_seq_len=256, min_overlap=0.3),
        dict(type='PackTADInputs')]))
    assert len(train) == 2
    np.random.seed(0)
    out = train[0]
    sample = out['data_samples']
    assert out['inputs'].dtype == torch.float32
    assert out['inputs'].shape == (8, 256) and sample.feat_len == 256
    assert sample.feat_offset == pytest.approx(0.5 * WINDOW / STRIDE)
    assert len(sample.gt_instances.segments_in_steps) > 0
    seg = sample.gt_instances.segments_in_steps
    assert (seg >= 0).all() and (seg <= 256).all()
    # back to seconds, targets fall inside the ground truth as scored
    secs = steps_to_seconds(seg.numpy() + sample.crop_start, sample.fps,
                            sample.feat_stride, sample.feat_offset)
    ann_segs = sample.ann_segments
    for start, end in secs:
        assert ((ann_segs[:, 0] <= start + 1e-4) &
                (ann_segs[:, 1] >= end - 1e-4)).any()


def test_validation_sample_keeps_full_sequence_and_exact_steps(tmp_path):
    ann = small_ego4d_file(tmp_path, per_subset=1)
    arrays = features_for_clips(ann, tmp_path / 'feats')
    val = DATASETS.build(ego4d_cfg(ann, tmp_path / 'feats', subset='val',
                                   test_mode=True, pipeline=PIPELINE))
    out = val[0]
    sample = out['data_samples']
    name = sample.video_name
    np.testing.assert_array_equal(out['inputs'].numpy(), arrays[name].T)
    info = val.get_data_info(0)
    expected = (info['segments'] * FPS - WINDOW / 2) / STRIDE
    np.testing.assert_allclose(sample.gt_instances.segments_in_steps.numpy(),
                               expected, rtol=1e-5, atol=1e-4)
    assert sample.crop_start == 0 and sample.duration == info['duration']


def test_resize_length_sets_effective_stride(tmp_path):
    ann = small_ego4d_file(tmp_path, per_subset=1, subsets=('train',))
    features_for_clips(ann, tmp_path / 'feats')
    ds = DATASETS.build(ego4d_cfg(ann, tmp_path / 'feats', resize_length=128,
                                  pipeline=PIPELINE))
    sample = ds[0]['data_samples']
    duration = sample.duration
    assert ds[0]['inputs'].shape == (8, 128)
    assert sample.feat_stride == pytest.approx(duration * FPS / 128)
    # ASL's setting (window == stride) gives the half-step offset
    ds2 = DATASETS.build(ego4d_cfg(ann, tmp_path / 'feats', resize_length=128,
                                   num_frames=STRIDE, pipeline=PIPELINE))
    assert ds2[0]['data_samples'].feat_offset == pytest.approx(0.5)


def test_several_feature_folders_are_concatenated(tmp_path):
    ann = small_ego4d_file(tmp_path, per_subset=1, subsets=('val',))
    a = features_for_clips(ann, tmp_path / 'a', channels=8, seed=1)
    b = features_for_clips(ann, tmp_path / 'b', channels=4, seed=2)
    ds = DATASETS.build(ego4d_cfg(
        ann, None, feat_dirs=[str(tmp_path / 'a'), str(tmp_path / 'b')],
        feat_dims=[8, 4], subset='val', pipeline=PIPELINE))
    out = ds[0]
    name = out['data_samples'].video_name
    np.testing.assert_array_equal(
        out['inputs'].numpy(), np.concatenate([a[name], b[name]], 1).T)


def test_demo_dataset_builds_from_data_root(demo_root):
    ds = DATASETS.build(dict(type='DemoTADDataset', data_root=str(demo_root),
                             subset='val', test_mode=True, fps=30.0,
                             feat_stride=16, num_frames=16,
                             pipeline=PIPELINE))
    assert len(ds) == 16 and len(ds.metainfo['classes']) == 6
    assert ds[0]['inputs'].shape[0] == 32
