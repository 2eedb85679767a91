"""One parser per annotation format: the dataset classes and the metric's
reader (``annotation_io``) see the same classes, class order and seconds;
bad rows are reported with the file, the row / video and the problem."""
import csv
import json

import numpy as np
import pytest
from mmaction.registry import DATASETS

from asl_mmaction.datasets import TADDataError
from asl_mmaction.datasets.annotation_files import (class_names_from_records,
                                                    load_class_names,
                                                    read_indexed_class_list)
from asl_mmaction.datasets.ego4d_annotations import (SPLIT_FILES,
                                                     clips_to_moments)
from asl_mmaction.evaluation.functional import (dump_predictions,
                                                guess_dataset,
                                                read_tad_annotations)
from dataset_fixtures import EGO4D_CLIPS, EPIC_DIR, SHARED_DATA, shared_file

THUMOS_JSON = SHARED_DATA / 'thumos14' / 'thumos14.json'
EPIC_VAL = EPIC_DIR / 'EPIC_100_validation.csv'


def assert_dataset_matches_metric(dataset, videos, classes):
    """Same classes in the same order, same videos, same segment seconds
    (as annotated) and the same labels."""
    assert tuple(dataset.metainfo['classes']) == tuple(classes)
    infos = {dataset.get_data_info(i)['video_name']:
             dataset.get_data_info(i) for i in range(len(dataset))}
    assert set(infos) == set(videos)
    for name, gt in videos.items():
        info = infos[name]
        np.testing.assert_array_equal(info['ann_segments'], gt['segments'])
        np.testing.assert_array_equal(info['ann_labels'], gt['labels'])
        assert info['duration'] == pytest.approx(gt['duration'])


def test_epic_csv_dataset_and_metric_agree(tmp_path):
    ann = shared_file(EPIC_VAL)
    for task in ('verb', 'noun'):
        dataset = DATASETS.build(dict(
            type='EpicKitchensDataset', ann_file=str(ann), task=task,
            video_info_file=str(EPIC_DIR / 'EPIC_100_video_info.csv'),
            class_file=str(EPIC_DIR / f'EPIC_100_{task}_classes.csv'),
            feat_dirs=str(tmp_path), check_features=False, subset='val',
            test_mode=True, pipeline=[]))
        videos, classes = read_tad_annotations(str(ann), 'val', task)
        assert_dataset_matches_metric(dataset, videos, classes)
        assert len(classes) == {'verb': 97, 'noun': 300}[task]


def test_ego4d_clips_dataset_and_metric_agree(tmp_path):
    ann = shared_file(EGO4D_CLIPS)
    for subset in ('train', 'val'):
        dataset = DATASETS.build(dict(
            type='Ego4DMQDataset', ann_file=str(ann), subset=subset,
            feat_dirs=str(tmp_path), check_features=False, fps=30.0,
            test_mode=True, pipeline=[]))
        videos, classes = read_tad_annotations(str(ann), subset)
        assert_dataset_matches_metric(dataset, videos, classes)
        assert len(classes) == 110


def test_thumos14_dataset_and_metric_agree(tmp_path):
    ann = shared_file(THUMOS_JSON)
    assert guess_dataset(str(ann)) == 'activitynet'  # the layout
    for subset in ('val', 'test'):
        dataset = DATASETS.build(dict(
            type='Thumos14Dataset', ann_file=str(ann), subset=subset,
            feat_dirs=str(tmp_path), check_features=False, feat_stride=4,
            num_frames=16, test_mode=True, pipeline=[]))
        videos, classes = read_tad_annotations(str(ann), subset,
                                               dataset='thumos14')
        assert_dataset_matches_metric(dataset, videos, classes)
        assert len(classes) == 20


def test_class_csv_is_read_by_id_not_by_row(tmp_path):
    """Both readers order an EPIC class CSV by its ``id`` column."""
    with open(shared_file(EPIC_DIR / 'EPIC_100_verb_classes.csv'),
              newline='') as f:
        rows = list(csv.DictReader(f))
    shuffled = rows[::-1]  # rows in reverse id order
    folder = tmp_path / 'epic'
    folder.mkdir()
    with open(folder / 'EPIC_100_verb_classes.csv', 'w', newline='') as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(shuffled)
    by_id = [r['key'] for r in sorted(rows, key=lambda r: int(r['id']))]
    assert load_class_names(str(folder / 'EPIC_100_verb_classes.csv')) == \
        by_id
    (folder / 'EPIC_100_validation.csv').write_text(
        shared_file(EPIC_VAL).read_text())
    _, classes = read_tad_annotations(
        str(folder / 'EPIC_100_validation.csv'), task='verb')
    assert list(classes) == by_id


def test_class_order_rule():
    def rec(labels, ids):
        return dict(video_name='v', labels=labels, label_ids=ids)
    # ids fix the order, gaps are named
    assert class_names_from_records([rec(['b', 'a'], [2, 0])], None,
                                    'f') == ['a', 'unseen_class_1', 'b']
    # no ids: sorted names
    assert class_names_from_records([rec(['b', 'a'], None)], None,
                                    'f') == ['a', 'b']
    # a given list wins
    assert class_names_from_records([rec(['b'], [0])], ['x', 'b'],
                                    'f') == ['x', 'b']
    with pytest.raises(TADDataError, match='f: label_id 0 is used for both'):
        class_names_from_records([rec(['a', 'b'], [0, 0])], None, 'f')
    with pytest.raises(TADDataError, match='1 of 2 labelled videos give '
                                           'label_id'):
        class_names_from_records([rec(['a'], [0]), rec(['b'], None)], None,
                                 'f')


def test_label_id_against_a_reordered_class_list(tmp_path):
    """A file with ids and a given class list in another order: ids rule,
    and a name that disagrees is an error, not a silent relabelling."""
    clips = {'c0': dict(subset='train', duration=20.0, fps=30.0,
                        annotations=[dict(segment=[1, 2], label='a',
                                          label_id=0)])}
    (tmp_path / 'ann.json').write_text(json.dumps(clips))
    with pytest.raises(TADDataError, match=r"clip c0: label 'a' has label_id"
                                           r" 0, but class 0 of the class "
                                           r"list is 'b'"):
        DATASETS.build(dict(type='Ego4DMQDataset',
                            ann_file=str(tmp_path / 'ann.json'),
                            feat_dirs=str(tmp_path), check_features=False,
                            class_names=['b', 'a'], pipeline=[]))


def test_indexed_class_lists(tmp_path):
    path = tmp_path / 'classes.txt'
    path.write_text('c001 Open a door\nc000 Hold some clothes\n')
    assert read_indexed_class_list(str(path)) == ['Hold some clothes',
                                                  'Open a door']
    path.write_text('1 BaseballPitch\n2 BasketballDunk\n')
    assert read_indexed_class_list(str(path)) == ['BaseballPitch',
                                                  'BasketballDunk']
    path.write_text('0 a\n2 b\n')
    with pytest.raises(TADDataError, match='without gaps'):
        read_indexed_class_list(str(path))


def test_eval_tool_reads_the_official_ego4d_moments_files(tmp_path):
    """tools/eval_predictions.py scores against moments_val.json, which the
    dataset reads (sorted label names, every annotator's segment)."""
    from run_helpers import load_script
    from test_eval_predictions import TOOL
    tool = load_script(TOOL, 'eval_predictions')

    clips = json.loads(shared_file(EGO4D_CLIPS).read_text())
    moments = clips_to_moments(clips)
    path = tmp_path / SPLIT_FILES['val']
    path.write_text(json.dumps(moments['val']))
    videos, classes = read_tad_annotations(str(path), 'val')
    assert len(videos) == 521 and list(classes) == sorted(classes)
    dataset = DATASETS.build(dict(
        type='Ego4DMQDataset', ann_file=str(path), subset='val',
        feat_dirs=str(tmp_path), check_features=False, fps=30.0,
        test_mode=True, pipeline=[]))
    assert_dataset_matches_metric(dataset, videos, classes)
    perfect = {name: dict(segments=v['segments'],
                          scores=np.linspace(1, .5, len(v['labels'])),
                          labels=v['labels']) for name, v in videos.items()}
    pred_file = tmp_path / 'sub.json'
    dump_predictions(perfect, str(pred_file), 'ego4d_mq', classes)
    out = tool.main([str(pred_file), str(path), '--dataset', 'ego4d_mq'])
    assert out['mAP'] == pytest.approx(1.0)


# ------------------------------------------------------ EPIC bad rows
def _write_csv(path, header, rows):
    with open(path, 'w', newline='') as f:
        writer = csv.writer(f)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def _epic_cfg(tmp_path, ann, **kwargs):
    info = _write_csv(tmp_path / 'EPIC_100_video_info.csv',
                      ['video_id', 'duration', 'fps'],
                      [['P01_01', 100.0, 50.0]])
    classes = _write_csv(tmp_path / 'EPIC_100_verb_classes.csv',
                         ['id', 'key'], [[0, 'take'], [1, 'put']])
    cfg = dict(type='EpicKitchensDataset', ann_file=str(ann),
               video_info_file=str(info), class_file=str(classes),
               feat_dirs=str(tmp_path), check_features=False, pipeline=[])
    cfg.update(kwargs)
    return cfg


def test_epic_csv_without_its_class_column(tmp_path):
    ann = _write_csv(tmp_path / 'EPIC_100_train.csv',
                     ['narration_id', 'video_id', 'start_timestamp',
                      'stop_timestamp', 'noun_class'],
                     [['P01_01_0', 'P01_01', '00:00:01.00', '00:00:02.00',
                       3]])
    with pytest.raises(TADDataError, match=r"EPIC_100_train\.csv: no "
                                           r"'verb_class' column, so no verb"
                                           r" labels") as info:
        DATASETS.build(_epic_cfg(tmp_path, ann))
    assert "'noun_class'" in str(info.value)  # the header it found
    # the test split's CSV is unlabelled by design
    test = _write_csv(tmp_path / 'EPIC_100_test_timestamps.csv',
                      ['narration_id', 'video_id', 'start_timestamp',
                       'stop_timestamp'],
                      [['P01_01_0', 'P01_01', '00:00:01.00', '00:00:02.00']])
    ds = DATASETS.build(_epic_cfg(tmp_path, test, test_mode=True))
    assert len(ds.get_data_info(0)['ann_segments']) == 0


def test_epic_non_numeric_segment_names_file_and_video(tmp_path):
    db = {'P01_01': dict(subset='training', duration=100.0, fps=30.0,
                         annotations=[dict(segment=[1.0, 2.0], label_id=0),
                                      dict(segment=['abc', 3.0],
                                           label_id=1)])}
    (tmp_path / 'epic.json').write_text(json.dumps(dict(database=db)))
    with pytest.raises(TADDataError,
                       match=r"epic\.json, video P01_01, annotation 1: "
                             r"segment start 'abc' is not a number of "
                             r"seconds"):
        DATASETS.build(_epic_cfg(tmp_path, tmp_path / 'epic.json'))
    ann = _write_csv(tmp_path / 'EPIC_100_train.csv',
                     ['video_id', 'start_timestamp', 'stop_timestamp',
                      'verb_class'],
                     [['P01_01', '00:00:01.00', 'abc', 0]])
    with pytest.raises(TADDataError,
                       match=r"EPIC_100_train\.csv, line 2 \(video P01_01\):"
                             r" malformed timestamp 'abc'"):
        DATASETS.build(_epic_cfg(tmp_path, ann))
    # the metric's reader says the same
    with pytest.raises(TADDataError, match=r'line 2 \(video P01_01\)'):
        read_tad_annotations(str(ann), task='verb')


def test_epic_misspelt_task(tmp_path):
    ann = _write_csv(tmp_path / 'EPIC_100_train.csv',
                     ['video_id', 'start_timestamp', 'stop_timestamp',
                      'verb_class'],
                     [['P01_01', '00:00:01.00', '00:00:02.00', 0]])
    with pytest.raises(TADDataError, match=r"EPIC_100_train\.csv.*: task "
                                           r"must be 'verb' or 'noun', got "
                                           r"'verbs' \(did you mean 'verb'"
                                           r"\?\)"):
        DATASETS.build(_epic_cfg(tmp_path, ann, task='verbs'))
    with pytest.raises(TADDataError, match="got 'verbs'"):
        read_tad_annotations(str(ann), task='verbs')


def test_epic_bad_class_id(tmp_path):
    ann = _write_csv(tmp_path / 'EPIC_100_train.csv',
                     ['video_id', 'start_timestamp', 'stop_timestamp',
                      'verb_class'],
                     [['P01_01', '00:00:01.00', '00:00:02.00', 'x']])
    with pytest.raises(TADDataError, match=r"line 2 \(video P01_01\): "
                                           r"verb_class 'x' is not an "
                                           r"integer"):
        DATASETS.build(_epic_cfg(tmp_path, ann))
