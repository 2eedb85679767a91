"""TADMetric: hand-worked mAP / recall, properties, the two protocols, and
agreement with a plain-Python implementation on the real annotations."""
import math

import numpy as np
import pytest
import torch
from mmengine.structures import InstanceData
from mmaction.registry import METRICS

from asl_mmaction.evaluation.functional import (average_precision,
                                                duplicate_gt_mask,
                                                match_detections, pair_up,
                                                read_tad_annotations,
                                                topk_recall)
from asl_mmaction.evaluation.functional.segment_set import (descending_order,
                                                            rank_in_group,
                                                            score_order)
from asl_mmaction.evaluation.metrics import TADMetric
from asl_mmaction.evaluation.metrics.tad_metric import (flatten_results,
                                                        sample_to_result)
from asl_mmaction.structures import TADDataSample
from oracles import tad_metric_previous as previous


def _sample(name, gt, pred, duration=100.0):
    """gt: [(s, e, label)], pred: [(s, e, label, score)]."""
    gt = np.asarray(gt, dtype=np.float64).reshape(-1, 3)
    pred = np.asarray(pred, dtype=np.float64).reshape(-1, 4)
    return dict(video_name=name, duration=duration,
                ann_segments=gt[:, :2], ann_labels=gt[:, 2].astype(np.int64),
                pred_instances=dict(
                    segments=torch.from_numpy(pred[:, :2]).float(),
                    scores=torch.from_numpy(pred[:, 3]).float(),
                    labels=torch.from_numpy(pred[:, 2]).long()))


def _evaluate(samples, classes=('a', 'b', 'c', 'd'), **kwargs):
    kwargs.setdefault('tiou_thresholds', (0.5, ))
    metric = TADMetric(**kwargs)
    metric.dataset_meta = dict(classes=tuple(classes))
    metric.process(None, samples)
    return metric.compute_metrics(metric.results)


# ----------------------------------------------------------- hand-worked mAP
def test_one_class_hand_worked():
    # TP, FP, TP: precision 1, 1/2, 2/3 at recall 1/2, 1/2, 1.
    # AP = 1/2 * 1 + 1/2 * 2/3.
    samples = [_sample('v', [(0, 10, 0), (20, 30, 0)],
                       [(0, 10, 0, .9), (40, 50, 0, .8), (20, 30, 0, .7)])]
    assert _evaluate(samples)['mAP'] == pytest.approx(5 / 6)


def test_several_classes_misses_and_thresholds():
    samples = [
        # class 0: one pred at IoU 0.6; class 1: GT without any prediction.
        _sample('v1', [(0, 10, 0), (50, 60, 1)], [(0, 6, 0, .9)]),
        # a prediction in a video without ground truth of its class is a FP
        _sample('v2', [], [(0, 10, 0, .95)]),
        # a video without any prediction: its instance is simply missed
        _sample('v3', [(0, 10, 0)], []),
    ]
    out = _evaluate(samples, tiou_thresholds=(0.5, 0.7))
    # class 0 at 0.5: FP then TP, 2 instances -> AP 1/2 * 1/2; at 0.7: 0.
    # class 1: 0.
    assert out['mAP@0.5'] == pytest.approx(0.125)
    assert out['mAP@0.7'] == pytest.approx(0.0)
    assert out['mAP'] == pytest.approx(0.0625)
    assert list(out)[0] == 'mAP'  # save_best='auto' picks the first key


@pytest.mark.parametrize('protocol', ['official', 'actionformer'])
def test_map_accepts_iou_equal_to_threshold(protocol):
    # IoU([0, 10], [0, 5]) = 0.5 exactly: a match for mAP in both protocols
    # (ActivityNet's rule is ``>=``; only the official *recall* uses ``>``).
    samples = [_sample('v', [(0, 10, 0)], [(0, 5, 0, .9)])]
    assert _evaluate(samples, protocol=protocol)['mAP'] == 1.0


def test_score_ties_follow_input_order():
    tp_first = [_sample('v', [(0, 10, 0)], [(0, 10, 0, .5), (30, 40, 0, .5)])]
    fp_first = [_sample('v', [(0, 10, 0)], [(30, 40, 0, .5), (0, 10, 0, .5)])]
    assert _evaluate(tp_first)['mAP'] == pytest.approx(1.0)
    assert _evaluate(fp_first)['mAP'] == pytest.approx(0.5)


def test_greedy_matching_by_score_then_best_iou():
    # The best-scored prediction takes the GT; the second, better placed,
    # is a FP (one match per GT).
    samples = [_sample('v', [(0, 10, 0)], [(0, 8, 0, .9), (0, 10, 0, .8)])]
    assert _evaluate(samples)['mAP'] == pytest.approx(1.0)  # TP, then FP
    # A prediction takes its best-IoU free GT, leaving the other one.
    samples = [_sample('v', [(0, 10, 0), (2, 12, 0)],
                       [(2, 12, 0, .9), (0, 10, 0, .8)])]
    assert _evaluate(samples, tiou_thresholds=(0.9, ))['mAP'] == \
        pytest.approx(1.0)


def test_class_without_gt_stays_its_own_false_positive():
    # Class 1 has no GT. A class-1 prediction lying exactly on class 2's GT
    # must not help (or hurt) class 2: ActionFormer's label remapping would
    # have turned label 1 into class 2's index.
    base = [(0, 10, 0, .9), (20, 30, 2, .6)]
    gt = [(0, 10, 0), (20, 30, 2), (40, 50, 2)]
    without = _evaluate([_sample('v', gt, base)])
    with_extra = _evaluate([_sample('v', gt, base + [(40, 50, 1, .8)])])
    assert without == with_extra
    assert without['mAP'] == pytest.approx((1 + 0.5) / 2)


def test_videos_deduplicated_by_name():
    s = _sample('v', [(0, 10, 0)], [(0, 10, 0, .9)])
    t = _sample('w', [(0, 10, 0)], [(50, 60, 0, .8)])
    assert _evaluate([s, t, s, t]) == _evaluate([s, t])


# ------------------------------------------------------- the two protocols
def test_protocols_differ_on_duplicate_gt():
    # The same action annotated twice; one prediction finds it.
    samples = [_sample('v', [(0, 10, 0), (0, 10, 0)], [(0, 10, 0, .9)])]
    assert _evaluate(samples, protocol='official')['mAP'] == \
        pytest.approx(0.5)
    assert _evaluate(samples, protocol='actionformer')['mAP'] == \
        pytest.approx(1.0)


def _recall(samples, protocol, **kw):
    out = _evaluate(samples, dataset_name='ego4d_mq', protocol=protocol,
                    recall_topk=(1, ), **kw)
    return {k: v for k, v in out.items() if k.startswith('Recall')}


def test_protocols_differ_on_recall_iou_equal_to_threshold():
    # IoU([0, 10], [0, 5]) = 0.5 exactly.
    samples = [_sample('v', [(0, 10, 0)], [(0, 5, 0, .9)])]
    official = _recall(samples, 'official', recall_tious=(0.5, ))
    ours = _recall(samples, 'actionformer', recall_tious=(0.5, ))
    assert official == {'Recall@1x,tIoU=0.5': 0.0}
    assert ours == {'Recall@1x,tIoU=0.5': 1.0}


def test_protocols_differ_on_recall_order():
    # The first prediction in model order is the worse-scored miss.
    samples = [_sample('v', [(0, 10, 0)], [(50, 60, 0, .2), (0, 10, 0, .9)])]
    assert _recall(samples, 'official', recall_tious=(0.5, )) == \
        {'Recall@1x,tIoU=0.5': 0.0}
    assert _recall(samples, 'actionformer', recall_tious=(0.5, )) == \
        {'Recall@1x,tIoU=0.5': 1.0}


def test_protocols_differ_on_recall_averaging():
    # Class 0: 3 instances, all found; class 1: 1 instance, missed.
    gt = [(0, 10, 0), (20, 30, 0), (40, 50, 0), (60, 70, 1)]
    pred = [(0, 10, 0, .9), (20, 30, 0, .8), (40, 50, 0, .7)]
    samples = [_sample('v', gt, pred)]
    assert _recall(samples, 'official', recall_tious=(0.5, )) == \
        {'Recall@1x,tIoU=0.5': 0.75}  # 3 of 4 instances
    assert _recall(samples, 'actionformer', recall_tious=(0.5, )) == \
        {'Recall@1x,tIoU=0.5': 0.5}  # mean of 1 and 0


def test_recall_top_k_times_instances():
    # 2 GT of class 0 in the video: Recall@1x looks at the first 2
    # predictions, Recall@2x at the first 4.
    gt = [(0, 10, 0), (20, 30, 0)]
    pred = [(0, 10, 0, .9), (80, 90, 0, .8), (81, 91, 0, .7), (20, 30, 0, .6)]
    out = _evaluate([_sample('v', gt, pred)], dataset_name='ego4d_mq',
                    recall_topk=(1, 2), recall_tious=(0.5, ))
    assert out['Recall@1x,tIoU=0.5'] == pytest.approx(0.5)
    assert out['Recall@2x,tIoU=0.5'] == pytest.approx(1.0)
    # Other datasets do not report recall.
    out = _evaluate([_sample('v', gt, pred)],
                    dataset_name='epic_kitchens_100')
    assert not any(k.startswith('Recall') for k in out)


# --------------------------------------------------------------- properties
def _random_samples(videos, seed, per_video=50):
    """Half near a GT instance (jittered, right label 2 times in 3), half
    anywhere; all scores distinct."""
    rng = np.random.default_rng(seed)
    num_classes = 1 + max(int(v['labels'].max(initial=0))
                          for v in videos.values())
    samples = []
    for name, v in videos.items():
        n_near = per_video // 2 if len(v['labels']) else 0
        idx = rng.integers(0, max(len(v['labels']), 1), n_near)
        near = v['segments'][idx] + rng.normal(0, 1.0, (n_near, 2))
        start = rng.uniform(0, v['duration'], per_video - n_near)
        far = np.stack([start, start + rng.exponential(5, start.shape)], 1)
        segs = np.sort(np.concatenate([near, far]), axis=1)
        labels = np.concatenate([
            np.where(rng.random(n_near) < 2 / 3, v['labels'][idx],
                     rng.integers(0, num_classes, n_near)),
            rng.integers(0, num_classes, per_video - n_near)
        ])
        samples.append(dict(
            video_name=name, duration=v['duration'],
            ann_segments=v['segments'], ann_labels=v['labels'],
            pred_instances=dict(segments=segs, scores=rng.random(per_video),
                                labels=labels)))
    return samples


@pytest.fixture(scope='module')
def epic_val(shared_data):
    path = shared_data / 'epic_kitchens_100' / 'EPIC_100_validation.csv'
    if not path.exists():
        pytest.skip(f'{path} not found')
    return read_tad_annotations(str(path), task='verb')


@pytest.fixture(scope='module')
def ego4d_val(shared_data):
    path = shared_data / 'ego4d_mq' / 'ego4d_clip_annotations.json'
    if not path.exists():
        pytest.skip(f'{path} not found')
    return read_tad_annotations(str(path), subset='val')


def test_perfect_predictions_score_one(epic_val):
    videos, classes = epic_val
    samples = []
    for name, v in videos.items():
        n = len(v['labels'])
        samples.append(dict(
            video_name=name, ann_segments=v['segments'],
            ann_labels=v['labels'],
            pred_instances=dict(segments=v['segments'],
                                scores=np.linspace(1, 0.5, n),
                                labels=v['labels'])))
    for protocol in ('official', 'actionformer'):
        out = _evaluate(samples, classes, dataset_name='epic_kitchens_100',
                        protocol=protocol, tiou_thresholds=None)
        assert out['mAP'] == pytest.approx(1.0)
        assert set(out) == {'mAP'} | {f'mAP@{t}' for t in
                                      ('0.1', '0.2', '0.3', '0.4', '0.5')}


def test_shuffling_predictions_does_not_change_map(epic_val):
    videos, classes = epic_val
    samples = _random_samples(videos, seed=3, per_video=20)
    ref = _evaluate(samples, classes, dataset_name='epic_kitchens_100',
                    tiou_thresholds=None)
    rng = np.random.default_rng(11)
    shuffled = []
    for i in rng.permutation(len(samples)):
        s = dict(samples[i])
        p = s['pred_instances']
        perm = rng.permutation(len(p['scores']))
        s['pred_instances'] = {k: p[k][perm] for k in p}
        shuffled.append(s)
    out = _evaluate(shuffled, classes, dataset_name='epic_kitchens_100',
                    tiou_thresholds=None)
    assert out == pytest.approx(ref, abs=1e-12)
    assert 0.01 < ref['mAP'] < 0.99  # a non-trivial case


# ---------------------------------------- independent plain-Python version
def _iou(a, b):
    inter = max(0.0, min(a[1], b[1]) - max(a[0], b[0]))
    union = (a[1] - a[0]) + (b[1] - b[0]) - inter
    return inter / union if union > 0 else 0.0


def _flat(samples):
    gts, preds = [], []
    for s in samples:
        for seg, lab in zip(s['ann_segments'].tolist(),
                            s['ann_labels'].tolist()):
            gts.append((s['video_name'], seg, lab))
        p = s['pred_instances']
        for seg, lab, sc in zip(np.asarray(p['segments']).tolist(),
                                np.asarray(p['labels']).tolist(),
                                np.asarray(p['scores']).tolist()):
            preds.append((s['video_name'], seg, lab, sc))
    return gts, preds


def _dedup(gts, tol=1e-3):
    kept, kept_by_group = [], {}
    for video, seg, lab in gts:
        earlier = kept_by_group.setdefault((video, lab), [])
        if seg[1] - seg[0] < tol or any(
                abs(s[0] - seg[0]) <= tol and abs(s[1] - seg[1]) <= tol
                for s in earlier):
            continue
        earlier.append(seg)
        kept.append((video, seg, lab))
    return kept


def _plain_map(gts, preds, tious):
    """ActivityNet's rules, one prediction at a time."""
    aps = []
    for c in sorted({lab for _, _, lab in gts}):
        by_video = {}
        for i, (video, seg, lab) in enumerate(gts):
            if lab == c:
                by_video.setdefault(video, []).append((i, seg))
        npos = sum(len(x) for x in by_video.values())
        ranked = sorted((p for p in preds if p[2] == c), key=lambda p: -p[3])
        ap_c = []
        for thr in tious:
            locked, tp = set(), []
            for video, seg, _, _ in ranked:
                cands = sorted(((_iou(seg, g), i)
                                for i, g in by_video.get(video, [])),
                               key=lambda x: (-x[0], x[1]))
                hit = False
                for iou, i in cands:
                    if iou < thr:
                        break
                    if i not in locked:
                        locked.add(i)
                        hit = True
                        break
                tp.append(hit)
            rec, prec, n_tp = [], [], 0
            for k, hit in enumerate(tp, 1):
                n_tp += hit
                rec.append(n_tp / npos)
                prec.append(n_tp / k)
            mprec, mrec = [0.0] + prec + [0.0], [0.0] + rec + [1.0]
            for i in range(len(mprec) - 2, -1, -1):
                mprec[i] = max(mprec[i], mprec[i + 1])
            ap_c.append(sum((mrec[i] - mrec[i - 1]) * mprec[i]
                            for i in range(1, len(mrec))
                            if mrec[i] != mrec[i - 1]))
        aps.append(ap_c)
    return np.mean(aps, axis=0)


def _plain_recall(gts, preds, thr, k, protocol):
    hits_by_class = {}
    groups = {}
    for video, seg, lab in gts:
        groups.setdefault((video, lab), []).append(seg)
    for (video, lab), segs in groups.items():
        cand = [p for p in preds if p[0] == video and p[2] == lab]
        if protocol == 'actionformer':
            cand = sorted(cand, key=lambda p: -p[3])
        cand = cand[:k * len(segs)]
        for seg in segs:
            ious = [_iou(p[1], seg) for p in cand]
            hit = any(i > thr for i in ious) if protocol == 'official' \
                else any(i >= thr for i in ious)
            hits_by_class.setdefault(lab, []).append(hit)
    if protocol == 'official':
        return np.mean([h for hs in hits_by_class.values() for h in hs])
    return np.mean([np.mean(hs) for hs in hits_by_class.values()])


@pytest.mark.parametrize('protocol', ['official', 'actionformer'])
def test_map_agrees_with_plain_python_on_epic_val(epic_val, protocol):
    videos, classes = epic_val
    samples = _random_samples(videos, seed=5, per_video=30)
    tious = (0.1, 0.2, 0.3, 0.4, 0.5)
    out = _evaluate(samples, classes, tiou_thresholds=tious,
                    protocol=protocol)
    gts, preds = _flat(samples)
    if protocol == 'actionformer':
        gts = _dedup(gts)
    expected = _plain_map(gts, preds, tious)
    for t, value in zip(tious, expected):
        assert out[f'mAP@{t}'] == pytest.approx(value, abs=1e-6)
    assert out['mAP'] == pytest.approx(expected.mean(), abs=1e-6)


@pytest.mark.parametrize('protocol', ['official', 'actionformer'])
def test_recall_agrees_with_plain_python_on_ego4d_val(ego4d_val, protocol):
    videos, classes = ego4d_val
    videos = dict(list(videos.items())[:150])
    samples = _random_samples(videos, seed=9, per_video=40)
    out = _evaluate(samples, classes, dataset_name='ego4d_mq',
                    protocol=protocol)
    gts, preds = _flat(samples)
    if protocol == 'actionformer':
        gts = _dedup(gts)
    for thr in (0.3, 0.5, 0.7):
        for k in (1, 5):
            assert out[f'Recall@{k}x,tIoU={thr}'] == pytest.approx(
                _plain_recall(gts, preds, thr, k, protocol), abs=1e-9)
    assert 0 < out['Recall@5x,tIoU=0.3'] < 1


@pytest.mark.parametrize('scores', ['continuous', 'with_ties'])
def test_equals_previous_implementation_on_ego4d_val(ego4d_val, scores):
    """The sped-up matching, AP and Recall@kx give the very same floats as
    the code they replaced (frozen in ``tests/oracles``), on the real
    validation annotations with random predictions; quantised scores
    exercise the tie rules."""
    videos, classes = ego4d_val
    samples = _random_samples(videos, seed=21, per_video=150)
    if scores == 'with_ties':
        for s in samples:
            p = s['pred_instances']
            p['scores'] = np.round(p['scores'], 2)
    pred, gt = flatten_results([sample_to_result(s) for s in samples])
    tious = (0.1, 0.2, 0.3, 0.4, 0.5)
    for deduplicate in (False, True):
        g = gt.select(duplicate_gt_mask(gt)) if deduplicate else gt
        pairs = pair_up(pred, g)
        ap, class_ids = average_precision(pred, g, tious, pairs)
        old_ap, old_ids = previous.average_precision(pred, g, tious)
        assert np.array_equal(ap, old_ap)
        assert np.array_equal(class_ids, old_ids)
        for protocol in ('official', 'actionformer'):
            assert np.array_equal(
                topk_recall(pred, g, (0.3, 0.5, 0.7), (1, 5), protocol,
                            pairs),
                previous.topk_recall(pred, g, (0.3, 0.5, 0.7), (1, 5),
                                     protocol))
    assert np.array_equal(match_detections(pred, gt, tious),
                          previous.match_detections(pred, gt, tious))


def test_orders_equal_lexsort():
    rng = np.random.default_rng(4)
    for trial in range(100):
        n = int(rng.integers(0, 60))
        values = rng.choice([0.0, -0.0, 1.0, -1.0, np.nan, np.inf, 0.5], n) \
            if trial % 2 else rng.random(n)
        assert np.array_equal(descending_order(values),
                              np.lexsort((np.arange(n), -values)))
        keys = rng.integers(0, 5, n)
        assert np.array_equal(rank_in_group(keys, values),
                              previous.rank_in_group(keys, values))
        assert np.array_equal(rank_in_group(keys), previous.rank_in_group(
            keys))
        assert np.array_equal(score_order(keys, values),
                              previous.score_order(keys, values))


# ------------------------------------------------------------ plumbing
def test_accepts_data_samples_and_builds_from_registry():
    sample = TADDataSample(metainfo=dict(
        video_name='v', duration=30.0,
        ann_segments=np.array([[0., 10.]]), ann_labels=np.array([1])))
    sample.pred_instances = InstanceData(
        segments=torch.tensor([[0., 10.]]), scores=torch.tensor([.9]),
        labels=torch.tensor([1]))
    metric = METRICS.build(dict(type='TADMetric', dataset_name='thumos14'))
    metric.dataset_meta = dict(classes=('a', 'b'))
    metric.process(None, [sample, sample.to_dict()])
    out = metric.evaluate(size=2)
    assert out['mAP'] == pytest.approx(1.0)
    assert set(out) == {'mAP', 'mAP@0.3', 'mAP@0.4', 'mAP@0.5', 'mAP@0.6',
                        'mAP@0.7'}
    assert metric.per_class_ap == {'b': pytest.approx(1.0)}


def test_default_tious_come_from_dataset_meta():
    metric = TADMetric()
    metric.dataset_meta = dict(classes=('a', ), dataset_name='activitynet')
    tious = metric.resolved_tious()
    assert len(tious) == 10 and tious[0] == 0.5 and tious[-1] == 0.95
    assert math.isclose(tious[1], 0.55)
    metric.dataset_meta = dict(classes=('a', ))
    with pytest.raises(ValueError, match='tiou_thresholds or a dataset_name'):
        metric.resolved_tious()


def test_clear_errors():
    with pytest.raises(ValueError, match='protocol'):
        TADMetric(protocol='anet')
    with pytest.raises(ValueError, match='outfile_prefix'):
        TADMetric(format_only=True)
    with pytest.raises(ValueError, match='dataset_name'):
        TADMetric(dataset_name='thumos')
    metric = TADMetric(tiou_thresholds=(0.5, ))
    with pytest.raises(KeyError, match='video_name'):
        metric.process(None, [dict(pred_instances={})])
    with pytest.raises(ValueError, match=r'video bad.*\[N, 2\]'):
        metric.process(None, [dict(video_name='bad', pred_instances=dict(
            segments=np.zeros((2, 3)), scores=np.zeros(2),
            labels=np.zeros(2)))])
    metric.process(None, [dict(video_name='unlabelled', pred_instances=dict(
        segments=np.zeros((0, 2)), scores=np.zeros(0), labels=np.zeros(0)))])
    with pytest.raises(ValueError, match='video unlabelled.*format_only'):
        metric.compute_metrics(metric.results)
