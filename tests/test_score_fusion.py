"""Score fusion of class-agnostic detections with video-level class scores
(ActionFormer's ActivityNet post-processing), worked by hand."""
import json
import pickle

import numpy as np
import pytest

from asl_mmaction.datasets import TADDataError
from asl_mmaction.evaluation.functional import dump_predictions
from asl_mmaction.post_processing.score_fusion import (fuse_predictions,
                                                       fuse_video_scores,
                                                       read_video_scores)

SEGMENTS = np.array([[0.0, 1.0], [2.0, 3.0], [4.0, 5.0]])
SCORES = np.array([0.25, 0.64, 0.09])
VIDEO_SCORES = np.array([0.16, 0.81, 0.36, 0.01])


def test_fusion_worked_by_hand():
    segs, scores, labels = fuse_video_scores(SEGMENTS, SCORES, VIDEO_SCORES,
                                             topk=2, max_detections=2)
    # the 2 best detections (0.64, 0.25) x the 2 best classes (1: 0.81,
    # 2: 0.36), class by class: sqrt(0.81 * 0.64) = 0.72,
    # sqrt(0.81 * 0.25) = 0.45, sqrt(0.36 * 0.64) = 0.48,
    # sqrt(0.36 * 0.25) = 0.30
    np.testing.assert_allclose(scores, [0.72, 0.45, 0.48, 0.30])
    np.testing.assert_array_equal(labels, [1, 1, 2, 2])
    np.testing.assert_array_equal(segs, [[2, 3], [0, 1], [2, 3], [0, 1]])
    assert labels.dtype == np.int64


def test_fusion_limits():
    segs, scores, labels = fuse_video_scores(SEGMENTS, SCORES, VIDEO_SCORES,
                                             topk=1, max_detections=200)
    np.testing.assert_allclose(scores, np.sqrt(0.81 * np.array([.64, .25,
                                                                .09])))
    assert labels.tolist() == [1, 1, 1]
    # more classes asked than there are: all of them
    _, _, labels = fuse_video_scores(SEGMENTS, SCORES, VIDEO_SCORES[:2],
                                     topk=5)
    assert labels.tolist() == [1, 1, 1, 0, 0, 0]
    segs, scores, labels = fuse_video_scores(np.zeros((0, 2)), [],
                                             VIDEO_SCORES)
    assert segs.shape == (0, 2) and scores.shape == labels.shape == (0, )
    with pytest.raises(ValueError, match='3 segments but 2 scores'):
        fuse_video_scores(SEGMENTS, SCORES[:2], VIDEO_SCORES)


def test_read_score_files(tmp_path):
    # the CUHK layout: scores under "results", class names under "class"
    cuhk = dict(results={'v1': [0.1, 0.7, 0.2], 'v2': [0.5, 0.3, 0.2]},
                **{'class': ['c', 'a', 'b']})
    (tmp_path / 'cuhk.json').write_text(json.dumps(cuhk))
    scores = read_video_scores(str(tmp_path / 'cuhk.json'),
                               class_names=['a', 'b', 'c'])
    np.testing.assert_allclose(scores['v1'], [0.7, 0.2, 0.1])  # a, b, c
    np.testing.assert_allclose(scores['v2'], [0.3, 0.2, 0.5])
    with pytest.raises(TADDataError, match=r"classes \['d'\] of the dataset"
                                           r" have no score"):
        read_video_scores(str(tmp_path / 'cuhk.json'), ['a', 'b', 'c', 'd'])
    # a pickled {video: scores}: columns are the dataset's classes
    with open(tmp_path / 'scores.pkl', 'wb') as f:
        pickle.dump({'v1': np.array([0.2, 0.8])}, f)
    assert read_video_scores(str(tmp_path / 'scores.pkl'),
                             ['a', 'b'])['v1'].tolist() == [0.2, 0.8]
    with pytest.raises(TADDataError, match='2 scores per video but the '
                                           'dataset has 3 classes'):
        read_video_scores(str(tmp_path / 'scores.pkl'), ['a', 'b', 'c'])
    (tmp_path / 'bad.json').write_text('{"v1": [0.1, NaN]}')
    with pytest.raises(TADDataError, match='video v1 has non-finite'):
        read_video_scores(str(tmp_path / 'bad.json'))
    with pytest.raises(TADDataError, match='score file not found'):
        read_video_scores(str(tmp_path / 'nope.json'))


def test_fuse_predictions_names_missing_videos():
    preds = {'v1': dict(segments=SEGMENTS, scores=SCORES,
                        labels=np.zeros(3, np.int64)),
             'v9': dict(segments=SEGMENTS, scores=SCORES,
                        labels=np.zeros(3, np.int64))}
    with pytest.raises(TADDataError, match=r"1 predicted videos have no "
                                           r"class scores in cls\.json, e\.g"
                                           r"\. \['v9'\]"):
        fuse_predictions(preds, {'v1': VIDEO_SCORES}, source='cls.json')
    fused = fuse_predictions({'v1': preds['v1']}, {'v1': VIDEO_SCORES}, 2,
                             2)
    np.testing.assert_allclose(fused['v1']['scores'], [.72, .45, .48, .30])


def test_eval_tool_fuses_class_agnostic_predictions(tmp_path):
    """Class-agnostic detections on the right segments score 1.0 once the
    video scores name the right class, and less when they do not."""
    from run_helpers import load_script
    from test_eval_predictions import TOOL
    tool = load_script(TOOL, 'eval_predictions')

    database = {
        'a1': dict(subset='validation', duration=50.0, annotations=[
            dict(segment=[5.0, 15.0], label='Dancing'),
            dict(segment=[30.0, 40.0], label='Dancing')]),
        'a2': dict(subset='validation', duration=60.0, annotations=[
            dict(segment=[10.0, 30.0], label='Surfing')]),
        'a3': dict(subset='training', duration=60.0, annotations=[
            dict(segment=[1.0, 2.0], label='Archery')])}
    ann = tmp_path / 'activity_net.v1-3.min.json'
    ann.write_text(json.dumps(dict(version='VERSION 1.3', taxonomy=[],
                                   database=database)))
    classes = ('Archery', 'Dancing', 'Surfing')  # sorted: no label_id
    preds = {'a1': dict(segments=np.array([[5.0, 15.0], [30.0, 40.0]]),
                        scores=np.array([0.9, 0.8]),
                        labels=np.zeros(2, np.int64)),
             'a2': dict(segments=np.array([[10.0, 30.0]]),
                        scores=np.array([0.7]), labels=np.zeros(1, np.int64))}
    pred_file = tmp_path / 'preds.json'
    dump_predictions(preds, str(pred_file), 'actionformer', classes)
    cuhk = {'results': {'a1': [0.1, 0.6, 0.3], 'a2': [0.2, 0.1, 0.7]},
            'class': ['Archery', 'Dancing', 'Surfing']}
    (tmp_path / 'cuhk.json').write_text(json.dumps(cuhk))
    args = [str(pred_file), str(ann), '--dataset', 'activitynet',
            '--ext-score-file', str(tmp_path / 'cuhk.json')]
    out = tool.main(args)
    assert out['mAP'] == pytest.approx(1.0)
    assert set(out) == {'mAP'} | {f'mAP@{t:g}' for t in
                                  np.round(np.linspace(0.5, 0.95, 10), 2)}
    # top-1 only, and a2's classifier wrong (Dancing): Surfing's AP is 0;
    # Dancing ranks TP 0.735, FP 0.7 (a2), TP 0.693 -> AP 1/2 + 1/2 * 2/3
    cuhk['results']['a2'] = [0.2, 0.7, 0.1]
    (tmp_path / 'cuhk.json').write_text(json.dumps(cuhk))
    out = tool.main(args + ['--ext-topk', '1'])
    assert out['mAP'] == pytest.approx((0.5 + 0.5 * 2 / 3 + 0.0) / 2)


def test_metric_fuses_before_scoring(tmp_path):
    """TADMetric(score_fusion=...) scores class-agnostic detections as the
    tool does: right classifier 1.0, top-1 with a2 wrong 5/12; a missing
    score file fails when the metric is built, a missing video names it."""
    from asl_mmaction.evaluation.metrics.tad_metric import TADMetric

    cuhk = {'results': {'a1': [0.1, 0.6, 0.3], 'a2': [0.2, 0.1, 0.7]},
            'class': ['Surfing', 'Archery', 'Dancing']}  # any column order
    cuhk['results'] = {v: [s[2], s[0], s[1]] for v, s in
                       cuhk['results'].items()}
    score_file = tmp_path / 'cuhk.json'
    score_file.write_text(json.dumps(cuhk))
    samples = [
        dict(video_name='a1', duration=50.0,
             ann_segments=np.array([[5.0, 15.0], [30.0, 40.0]]),
             ann_labels=np.array([1, 1]),
             pred_instances=dict(segments=np.array([[5.0, 15.0],
                                                    [30.0, 40.0]]),
                                 scores=np.array([0.9, 0.8]),
                                 labels=np.zeros(2, np.int64))),
        dict(video_name='a2', duration=60.0,
             ann_segments=np.array([[10.0, 30.0]]), ann_labels=np.array([2]),
             pred_instances=dict(segments=np.array([[10.0, 30.0]]),
                                 scores=np.array([0.7]),
                                 labels=np.zeros(1, np.int64)))]

    def score(topk, **kwargs):
        metric = TADMetric(dataset_name='activitynet', score_fusion=dict(
            score_file=str(score_file), topk=topk, max_detections=200),
            **kwargs)
        metric.dataset_meta = dict(classes=('Archery', 'Dancing', 'Surfing'))
        metric.process(None, samples)
        return metric.compute_metrics(metric.results)

    assert score(2)['mAP'] == pytest.approx(1.0)
    cuhk['results']['a2'] = [0.1, 0.2, 0.7]  # Surfing 0.1, Dancing 0.7
    score_file.write_text(json.dumps(cuhk))
    assert score(1)['mAP'] == pytest.approx((0.5 + 0.5 * 2 / 3 + 0.0) / 2)
    # the dump holds the fused, labelled detections
    score(1, outfile_prefix=str(tmp_path / 'fused'))
    dumped = json.loads((tmp_path / 'fused.json').read_text())
    dumped = dumped['detect_results']
    assert [d['label'] for d in dumped['a2']] == ['Dancing']

    with pytest.raises(TADDataError, match='score file not found'):
        TADMetric(score_fusion=dict(score_file=str(tmp_path / 'none.json')))
    with pytest.raises(ValueError, match='score_file'):
        TADMetric(score_fusion=dict(topk=2))
    del cuhk['results']['a2']
    score_file.write_text(json.dumps(cuhk))
    with pytest.raises(TADDataError, match=r"1 predicted videos have no "
                                           r"class scores in .*\['a2'\]"):
        score(2)
