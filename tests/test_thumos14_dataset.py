"""Thumos14Dataset on the real ActionFormer-layout THUMOS14 file, the
original per-class text files written from it, and the metric on it."""
import json
import numpy as np
import pytest
from mmaction.registry import DATASETS

from asl_mmaction.evaluation.functional import read_tad_annotations
from asl_mmaction.evaluation.metrics import TADMetric
from dataset_fixtures import SHARED_DATA, shared_file, write_features

THUMOS_JSON = SHARED_DATA / 'thumos14' / 'thumos14.json'
# What the file holds (../shared/data/README.md): 412 videos, 200
# Validation + 212 Test, 6,365 segments, 20 classes, Ambiguous removed.
COUNTS = dict(val=(200, 3007), test=(212, 3358))
# Segments whose end lies past their video's duration (30, in 5 videos):
# scored as annotated, left out of the training targets.
PAST_END = dict(val={'video_validation_0000364': 2,
                     'video_validation_0000856': 2},
                test={'video_test_0000270': 22, 'video_test_0000814': 3,
                      'video_test_0001081': 1})


@pytest.fixture(scope='module')
def thumos_json():
    return shared_file(THUMOS_JSON)


def build(ann_file, subset, tmp_path, **kwargs):
    cfg = dict(type='Thumos14Dataset', ann_file=str(ann_file), subset=subset,
               feat_dirs=str(tmp_path), check_features=False, feat_stride=4,
               num_frames=16, test_mode=True, pipeline=[])
    cfg.update(kwargs)
    return DATASETS.build(cfg)


def infos_of(dataset):
    return [dataset.get_data_info(i) for i in range(len(dataset))]


@pytest.mark.parametrize('subset', ['val', 'test'])
def test_real_file_counts(thumos_json, subset, tmp_path):
    ds = build(thumos_json, subset, tmp_path)
    videos, segments = COUNTS[subset]
    infos = infos_of(ds)
    assert len(ds) == videos
    assert sum(len(d['ann_segments']) for d in infos) == segments
    assert len(ds.metainfo['classes']) == 20
    assert ds.metainfo['classes'][4] == 'CliffDiving'  # by label_id
    assert ds.metainfo['classes'][7] == 'Diving'
    assert ds.metainfo['dataset_name'] == 'thumos14'
    assert dict(ds.past_end_videos) == PAST_END[subset]
    # training targets: everything but the segments past the end (none of
    # them reaches into its video), CliffDiving / Diving doubles included
    targets = sum(len(d['segments']) for d in infos)
    assert targets == segments - sum(PAST_END[subset].values())


def test_both_subsets_hold_the_whole_file(thumos_json, tmp_path):
    infos = infos_of(build(thumos_json, None, tmp_path))
    assert len(infos) == 412
    assert sum(len(d['ann_segments']) for d in infos) == 6365


def test_cliffdiving_is_also_diving_in_the_targets(thumos_json, tmp_path):
    """Every CliffDiving segment (360) has a Diving twin on the same
    boundaries; the de-duplication (same label only) keeps both, so the
    targets carry two labels on one segment."""
    ds = build(thumos_json, None, tmp_path)
    cliff, diving = 4, 7
    doubles = counted = 0
    for info in infos_of(ds):
        segs, labels = info['segments'], info['labels']
        for seg in segs[labels == cliff]:
            counted += 1
            doubles += bool(np.any(np.all(segs[labels == diving] == seg,
                                          axis=1)))
    assert counted == doubles == 360


def test_ambiguous_segments_are_left_out(thumos_json, tmp_path):
    data = json.loads(thumos_json.read_text())
    video = next(iter(data['database'].values()))
    video['annotations'].append(dict(segment=[1.0, 2.0], label='Ambiguous'))
    path = tmp_path / 'with_ambiguous.json'
    path.write_text(json.dumps(data))
    infos = infos_of(build(path, None, tmp_path))
    assert sum(len(d['ann_segments']) for d in infos) == 6365
    videos, _ = read_tad_annotations(str(path), dataset='thumos14')
    assert sum(len(v['labels']) for v in videos.values()) == 6365


def write_release_files(thumos_json, folder):
    """The real annotations as THUMOS14's per-class text files, plus an
    Ambiguous file (which both readers leave out)."""
    data = json.loads(thumos_json.read_text())['database']
    lines = {}
    for video, entry in data.items():
        suffix = {'Validation': 'val', 'Test': 'test'}[entry['subset']]
        for ann in entry['annotations']:
            lines.setdefault((ann['label'], suffix), []).append(
                f"{video} {ann['segment'][0]} {ann['segment'][1]}")
    folder.mkdir()
    for (label, suffix), rows in lines.items():
        (folder / f'{label}_{suffix}.txt').write_text('\n'.join(rows) + '\n')
    first = next(iter(data))
    (folder / 'Ambiguous_test.txt').write_text(f'{first}  0.5  1.5\n')
    return data


def test_release_text_files_read_like_the_json(thumos_json, tmp_path):
    data = write_release_files(thumos_json, tmp_path / 'annotation')
    for subset in ('val', 'test'):
        from_txt = build(tmp_path / 'annotation', subset, tmp_path,
                         video_info_file=str(thumos_json))
        from_json = build(thumos_json, subset, tmp_path)
        assert from_txt.metainfo['classes'] == from_json.metainfo['classes']
        json_infos = {d['video_name']: d for d in infos_of(from_json)}
        txt_infos = infos_of(from_txt)
        assert len(txt_infos) == COUNTS[subset][0] == len(json_infos)
        for info in txt_infos:
            ref = json_infos[info['video_name']]
            assert info['duration'] == ref['duration']
            assert info['fps'] == data[info['video_name']]['fps']
            assert sorted(zip(info['ann_segments'].tolist(),
                              info['ann_labels'].tolist())) == \
                sorted(zip(ref['ann_segments'].tolist(),
                           ref['ann_labels'].tolist()))
    # the metric's reader guesses the layout and agrees
    videos, classes = read_tad_annotations(str(tmp_path / 'annotation'),
                                           'test')
    assert len(videos) == 212 and len(classes) == 20
    assert sum(len(v['labels']) for v in videos.values()) == 3358


def test_release_text_files_without_durations(tmp_path):
    """No video info: durations come from the feature length."""
    folder = tmp_path / 'annotation'
    folder.mkdir()
    (folder / 'HighJump_val.txt').write_text(
        'video_validation_0000001 1.0 3.5\nvideo_validation_0000001 5 9\n')
    write_features(tmp_path / 'f', {'video_validation_0000001': 60},
                   channels=4)
    ds = build(folder, 'val', tmp_path, feat_dirs=str(tmp_path / 'f'),
               check_features=True, fps=30.0, duration_from_features=True)
    assert ds.metainfo['classes'] == ('HighJump',)
    # 60 steps of 4 frames, the last one 16 frames long, at 30 fps
    assert ds.get_data_info(0)['duration'] == pytest.approx(
        (59 * 4 + 16) / 30.0)


@pytest.mark.parametrize('bad,message', [
    ('video_validation_0000001 1.0\n', r'HighJump_val\.txt, line 1: '
                                       r'expected "video start end"'),
    ('video_validation_0000001 1.0 x\n', r"HighJump_val\.txt, line 1: "
                                         r"segment end 'x' is not a number"),
])
def test_bad_release_lines(tmp_path, bad, message):
    folder = tmp_path / 'annotation'
    folder.mkdir()
    (folder / 'HighJump_val.txt').write_text(bad)
    with pytest.raises(ValueError, match=message):
        build(folder, 'val', tmp_path, fps=30.0)


def test_perfect_predictions_score_one_at_every_tiou(thumos_json):
    """The metric, fed through the same parser: 1.0 at 0.3:0.7, the past-
    the-end segments included (predicted as annotated)."""
    videos, classes = read_tad_annotations(str(thumos_json), 'test',
                                           dataset='thumos14')
    samples = [dict(video_name=name, duration=v['duration'],
                    ann_segments=v['segments'], ann_labels=v['labels'],
                    pred_instances=dict(
                        segments=v['segments'], labels=v['labels'],
                        scores=np.linspace(1.0, 0.5, len(v['labels']))))
               for name, v in videos.items()]
    metric = TADMetric(dataset_name='thumos14')
    metric.dataset_meta = dict(classes=classes, dataset_name='thumos14')
    metric.process(None, samples)
    out = metric.evaluate(size=len(samples))
    assert set(out) == {'mAP', 'mAP@0.3', 'mAP@0.4', 'mAP@0.5', 'mAP@0.6',
                        'mAP@0.7'}
    for value in out.values():
        assert value == pytest.approx(1.0)
    # predictions 1/0.55 times as long as their action: tIoU 0.55, a hit
    # up to 0.5 and a miss from 0.6 on
    for sample in samples:
        segs = sample['ann_segments']
        stretched = np.stack([segs[:, 0], segs[:, 0] + (segs[:, 1] -
                                                        segs[:, 0]) / 0.55],
                             axis=1)
        sample['pred_instances'] = dict(sample['pred_instances'],
                                        segments=stretched)
    metric = TADMetric(dataset_name='thumos14')
    metric.dataset_meta = dict(classes=classes, dataset_name='thumos14')
    metric.process(None, samples)
    out = metric.evaluate(size=len(samples))
    for tiou in ('0.3', '0.4', '0.5'):
        assert out[f'mAP@{tiou}'] == pytest.approx(1.0)
    assert out['mAP@0.6'] == out['mAP@0.7'] == 0.0


def test_release_files_converted_to_json(thumos_json, tmp_path):
    """tools/data/activitynet_style/convert_to_json.py: the text files of
    both splits -> one JSON that reads like ActionFormer's."""
    from run_helpers import load_script
    tool = load_script('tools/data/activitynet_style/convert_to_json.py')
    write_release_files(thumos_json, tmp_path / 'annotation')
    out = tmp_path / 'converted.json'
    assert tool.main([str(tmp_path / 'annotation'), '--dataset', 'thumos14',
                      '--video-info', str(thumos_json), '--out',
                      str(out)]) == 0
    for subset in ('val', 'test'):
        got = infos_of(build(out, subset, tmp_path))
        ref = {d['video_name']: d for d in infos_of(build(thumos_json, subset,
                                                          tmp_path))}
        assert len(got) == COUNTS[subset][0]
        for info in got:
            want = ref[info['video_name']]
            assert sorted(zip(info['ann_segments'].tolist(),
                              info['ann_labels'].tolist())) == \
                sorted(zip(want['ann_segments'].tolist(),
                           want['ann_labels'].tolist()))
