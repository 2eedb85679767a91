"""tools/eval_predictions.py and the annotation readers it relies on."""
import csv
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from asl_mmaction.evaluation.functional import (dump_predictions,
                                                read_tad_annotations,
                                                timestamp_to_seconds)
from run_helpers import load_script

TOOL = Path(__file__).resolve().parents[1] / 'tools' / 'eval_predictions.py'


@pytest.fixture(scope='module')
def tool():
    return load_script(TOOL)


def _ego4d_json(path):
    """Converted Ego4D-MQ layout: two val clips, one train clip."""
    def ann(s, e, label, lid):
        return {'segment': [s, e], 'label': label, 'label_id': lid}
    db = {
        'clip_1': {'subset': 'val', 'duration': 60.0, 'annotations': [
            ann(0, 10, 'cook', 1), ann(20, 30, 'wash', 0)]},
        'clip_2': {'subset': 'val', 'duration': 80.0, 'annotations': [
            ann(5, 15, 'cook', 1)]},
        'clip_3': {'subset': 'train', 'duration': 50.0, 'annotations': [
            ann(1, 2, 'read', 2)]},
    }
    path.write_text(json.dumps(db))
    return path


def _preds(entries):
    out = {}
    for video, segs in entries.items():
        arr = np.asarray(segs, dtype=np.float64).reshape(-1, 4)
        out[video] = dict(segments=arr[:, :2], labels=arr[:, 2].astype(int),
                          scores=arr[:, 3])
    return out


def test_reads_ego4d_json_subsets(tmp_path):
    path = _ego4d_json(tmp_path / 'ann.json')
    videos, classes = read_tad_annotations(str(path), subset='val')
    assert classes == ('wash', 'cook', 'read')  # from every subset
    assert list(videos) == ['clip_1', 'clip_2']
    assert videos['clip_1']['labels'].tolist() == [1, 0]
    assert videos['clip_2']['duration'] == 80.0
    # ActionFormer's layout: under "database", subsets spelled out.
    db = json.loads(path.read_text())
    for v in db.values():
        v['subset'] = {'val': 'validation', 'train': 'training'}[v['subset']]
    (tmp_path / 'af.json').write_text(json.dumps({'database': db}))
    videos2, _ = read_tad_annotations(str(tmp_path / 'af.json'), 'val')
    assert list(videos2) == ['clip_1', 'clip_2']
    with pytest.raises(ValueError, match="no video in subset 'test'"):
        read_tad_annotations(str(path), subset='test')


def test_reads_official_layout_without_label_ids(tmp_path):
    db = {'c': {'subset': 'val', 'annotations': [
        {'start_time': 1.0, 'end_time': 2.0, 'label': 'wash'},
        {'start_time': 3.0, 'end_time': 5.0, 'label': 'cook'}]}}
    (tmp_path / 'a.json').write_text(json.dumps(db))
    videos, classes = read_tad_annotations(str(tmp_path / 'a.json'), 'val')
    assert classes == ('cook', 'wash')
    assert videos['c']['labels'].tolist() == [1, 0]
    assert videos['c']['duration'] == 5.0


def test_reads_epic_csv(tmp_path):
    header = ['narration_id', 'video_id', 'start_timestamp', 'stop_timestamp',
              'verb_class', 'noun_class']
    with open(tmp_path / 'EPIC_100_validation.csv', 'w', newline='') as f:
        w = csv.writer(f)
        w.writerow(header)
        w.writerow(['P01_01_0', 'P01_01', '00:00:01.50', '00:01:02.25', 2, 7])
        w.writerow(['P01_01_1', 'P01_01', '01:00:00.00', '01:00:03.00', 0, 1])
    with open(tmp_path / 'EPIC_100_verb_classes.csv', 'w', newline='') as f:
        w = csv.writer(f)
        w.writerow(['id', 'key'])
        w.writerows([[0, 'take'], [1, 'put'], [2, 'wash']])
    path = str(tmp_path / 'EPIC_100_validation.csv')
    videos, classes = read_tad_annotations(path, task='verb')
    assert classes == ('take', 'put', 'wash')
    np.testing.assert_allclose(videos['P01_01']['segments'],
                               [[1.5, 62.25], [3600, 3603]])
    assert videos['P01_01']['labels'].tolist() == [2, 0]
    videos, classes = read_tad_annotations(path, task='noun')
    assert videos['P01_01']['labels'].tolist() == [7, 1]
    assert classes[7] == 'noun_7'  # no noun class file here
    assert timestamp_to_seconds('00:00:00.56') == pytest.approx(0.56)


def test_tool_scores_ego4d_submission(tmp_path, tool):
    ann = _ego4d_json(tmp_path / 'ann.json')
    pred_file = tmp_path / 'sub.json'
    classes = ('wash', 'cook', 'read')
    perfect = {'clip_1': [(0, 10, 1, .9), (20, 30, 0, .8)],
               'clip_2': [(5, 15, 1, .7)]}
    dump_predictions(_preds(perfect), str(pred_file), 'ego4d_mq', classes)
    out = tool.main([str(pred_file), str(ann), '--dataset', 'ego4d_mq',
                     '--out', str(tmp_path / 'm.json')])
    assert out['mAP'] == pytest.approx(1.0)
    assert out['Recall@1x,tIoU=0.5'] == pytest.approx(1.0)
    assert json.loads((tmp_path / 'm.json').read_text()) == out

    # A confident prediction on a train clip: a false positive of 'cook'
    # unless left out.
    extra = dict(perfect, clip_3=[(0, 10, 1, .95)])
    dump_predictions(_preds(extra), str(pred_file), 'ego4d_mq', classes)
    args = [str(pred_file), str(ann), '--dataset', 'ego4d_mq',
            '--tiou', '0.5']
    scored = tool.main(args)
    # cook: FP, TP, TP -> precision 0, 1/2, 2/3, envelope 2/3 at both
    # TPs -> AP 2/3; wash: 1.
    assert scored['mAP'] == pytest.approx((1 + 2 / 3) / 2)
    assert tool.main(args + ['--ignore-extra-videos'])['mAP'] == \
        pytest.approx(1.0)


def test_tool_matches_metric_on_real_epic(shared_data, tmp_path, tool):
    ann = shared_data / 'epic_kitchens_100' / 'EPIC_100_validation.csv'
    if not ann.exists():
        pytest.skip(f'{ann} not found')
    videos, classes = read_tad_annotations(str(ann), task='noun')
    rng = np.random.default_rng(0)
    preds = {}
    for name, v in list(videos.items())[:40]:
        n = len(v['labels'])
        keep = rng.random(n) < 0.7
        preds[name] = dict(
            segments=v['segments'][keep] + rng.normal(0, .3, (keep.sum(), 2)),
            scores=rng.random(keep.sum()), labels=v['labels'][keep])
    pred_file = tmp_path / 'af.json'
    dump_predictions(preds, str(pred_file), 'actionformer', classes)
    out = tool.main([str(pred_file), str(ann), '--dataset',
                     'epic_kitchens_100', '--task', 'noun'])
    assert 0.1 < out['mAP'] < 0.7  # 40 of 138 videos predicted
    assert set(out) == {'mAP', 'mAP@0.1', 'mAP@0.2', 'mAP@0.3', 'mAP@0.4',
                        'mAP@0.5'}


def test_tool_command_line(tmp_path):
    ann = _ego4d_json(tmp_path / 'ann.json')
    pred_file = tmp_path / 'sub.json'
    dump_predictions(_preds({'clip_1': [(0, 10, 1, .9)]}), str(pred_file),
                     'ego4d_mq', ('wash', 'cook', 'read'))
    proc = subprocess.run(
        [sys.executable, str(TOOL), str(pred_file), str(ann), '--dataset',
         'ego4d_mq', '--protocol', 'actionformer', '--per-class'],
        capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert '"mAP@0.1"' in proc.stdout and 'cook' in proc.stdout


def test_tool_missing_file(tmp_path, tool):
    ann = _ego4d_json(tmp_path / 'ann.json')
    with pytest.raises(FileNotFoundError, match='nope.json does not exist'):
        tool.main([str(tmp_path / 'nope.json'), str(ann), '--dataset',
                   'ego4d_mq'])
