"""Prediction files: both formats round-trip, atomic writes, the metric's
dumps."""
import json
import os

import numpy as np
import pytest
import torch

from asl_mmaction.evaluation.functional import (atomic_write_json,
                                                dump_predictions,
                                                load_predictions)
from asl_mmaction.evaluation.metrics import TADMetric

CLASSES = ('take', 'put', 'open')


def _preds():
    return {
        'clip_a': dict(segments=np.array([[0.5, 3.25], [10.0, 12.0]]),
                       scores=np.array([0.9, 0.4]), labels=np.array([2, 0])),
        'clip_b': dict(segments=np.zeros((0, 2)), scores=np.zeros(0),
                       labels=np.zeros(0, dtype=np.int64)),
    }


@pytest.mark.parametrize('fmt', ['ego4d_mq', 'actionformer'])
def test_round_trip(tmp_path, fmt):
    path = tmp_path / f'{fmt}.json'
    dump_predictions(_preds(), str(path), fmt, CLASSES)
    loaded = load_predictions(str(path), CLASSES)
    assert list(loaded) == ['clip_a', 'clip_b']
    for video, pred in _preds().items():
        for key in ('segments', 'scores', 'labels'):
            np.testing.assert_array_equal(loaded[video][key], pred[key])
    assert loaded['clip_a']['labels'].dtype == np.int64
    assert not [p for p in os.listdir(tmp_path) if p.startswith('.tmp')]


def test_ego4d_submission_layout(tmp_path):
    path = tmp_path / 'sub.json'
    dump_predictions(_preds(), str(path), 'ego4d_mq', CLASSES)
    obj = json.loads(path.read_text())
    assert obj['version'] == '1.0'
    assert obj['challenge'] == 'ego4d_moment_queries'
    assert obj['detect_results'] == obj['retrieve_results']
    assert obj['detect_results']['clip_a'][0] == {
        'label': 'open', 'score': 0.9, 'segment': [0.5, 3.25]}
    with pytest.raises(ValueError, match='class names'):
        dump_predictions(_preds(), str(path), 'ego4d_mq', None)


def test_actionformer_layout_without_classes(tmp_path):
    path = tmp_path / 'af.json'
    dump_predictions(_preds(), str(path), 'actionformer')
    entry = json.loads(path.read_text())['database']['clip_a'][0]
    assert entry == {'segment': [0.5, 3.25], 'label_id': 2, 'scores': 0.9}
    assert load_predictions(str(path))['clip_a']['labels'].tolist() == [2, 0]


def test_reads_official_intermediate_results(tmp_path):
    path = tmp_path / 'detections_postNMS.json'
    path.write_text(json.dumps({'version': '1.0', 'results': {
        'c': [{'label': 'put', 'score': 0.3, 'segment': [1, 2]}]}}))
    assert load_predictions(str(path), CLASSES)['c']['labels'].tolist() == [1]


def test_clear_errors(tmp_path):
    path = tmp_path / 'p.json'
    path.write_text(json.dumps({'detect_results': {
        'clip_x': [{'label': 'fly', 'score': 0.3, 'segment': [1, 2]}]}}))
    with pytest.raises(ValueError, match="clip_x.*unknown label 'fly'"):
        load_predictions(str(path), CLASSES)
    with pytest.raises(ValueError, match='clip_x.*pass `classes`'):
        load_predictions(str(path))
    path.write_text(json.dumps({'detect_results': {
        'clip_y': [{'label': 'put', 'segment': [1, 2]}]}}))
    with pytest.raises(ValueError, match='clip_y'):
        load_predictions(str(path), CLASSES)
    path.write_text('{"something": 1}')
    with pytest.raises(ValueError, match='not a prediction file'):
        load_predictions(str(path))
    with pytest.raises(ValueError, match='clip_a: label 2 outside'):
        dump_predictions(_preds(), str(path), 'ego4d_mq', CLASSES[:2])
    with pytest.raises(ValueError, match='format'):
        dump_predictions(_preds(), str(path), 'csv', CLASSES)


def test_atomic_write_keeps_old_file_on_failure(tmp_path):
    path = tmp_path / 'out.json'
    atomic_write_json({'a': 1}, str(path))
    with pytest.raises(TypeError):
        atomic_write_json({'a': object()}, str(path))
    assert json.loads(path.read_text()) == {'a': 1}
    assert os.listdir(tmp_path) == ['out.json']


def _sample(name):
    return dict(video_name=name, duration=20.0,
                pred_instances=dict(segments=torch.tensor([[1., 2.]]),
                                    scores=torch.tensor([.5]),
                                    labels=torch.tensor([1])))


def test_metric_format_only_dumps_submission(tmp_path):
    prefix = str(tmp_path / 'sub' / 'ego4d_test')
    metric = TADMetric(dataset_name='ego4d_mq', format_only=True,
                       outfile_prefix=prefix)
    metric.dataset_meta = dict(classes=CLASSES)
    metric.process(None, [_sample('c1'), _sample('c2'), _sample('c1')])
    assert metric.evaluate(size=3) == {}
    obj = json.loads(open(prefix + '.json').read())
    assert sorted(obj['detect_results']) == ['c1', 'c2']
    assert obj['detect_results']['c1'][0]['label'] == 'put'


def test_metric_dumps_while_scoring(tmp_path):
    metric = TADMetric(tiou_thresholds=(0.5, ),
                       submission_format='actionformer',
                       outfile_prefix=str(tmp_path / 'val.json'))
    metric.dataset_meta = dict(classes=CLASSES)
    sample = _sample('c1')
    sample.update(ann_segments=np.array([[1., 2.]]), ann_labels=np.array([1]))
    metric.process(None, [sample])
    assert metric.evaluate(size=1)['mAP'] == pytest.approx(1.0)
    loaded = load_predictions(str(tmp_path / 'val.json'))
    assert loaded['c1']['labels'].tolist() == [1]
