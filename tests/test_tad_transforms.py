"""RandomTemporalCrop and PackTADInputs."""
import numpy as np
import pytest
import torch
from mmaction.registry import TRANSFORMS

from asl_mmaction.structures import TADDataSample, seconds_to_steps, \
    steps_to_seconds


def results(length=100, segments=((10, 20), (50, 90)), labels=(1, 2)):
    return dict(feats=np.arange(3 * length, dtype=np.float32).reshape(
                    3, length),
                gt_segments=np.asarray(segments, np.float32).reshape(-1, 2),
                gt_labels=np.asarray(labels, np.int64), feat_len=length,
                crop_start=0)


def crop(**kwargs):
    return TRANSFORMS.build(dict(type='RandomTemporalCrop', **kwargs))


def test_short_sequences_are_left_alone():
    out = crop(max_seq_len=100)(results())
    assert out['feats'].shape == (3, 100) and out['crop_start'] == 0


def test_crop_keeps_overlapping_actions_and_trims_them():
    np.random.seed(3)
    for _ in range(20):
        out = crop(max_seq_len=30, min_overlap=0.5)(results())
        start = out['crop_start']
        assert out['feats'].shape == (3, 30) and out['feat_len'] == 30
        np.testing.assert_array_equal(out['feats'][0],
                                      np.arange(start, start + 30))
        segs = out['gt_segments']
        assert len(segs) >= 1  # a window with an action is found
        assert (segs >= 0).all() and (segs <= 30).all()  # no feat_offset
        for (s, e), label in zip(segs + start, out['gt_labels']):
            orig = {1: (10, 20), 2: (50, 90)}[int(label)]
            assert orig[0] <= s < e <= orig[1]
            assert (e - s) / (orig[1] - orig[0]) >= 0.5


def crop_at_30(segments, offset, **kwargs):
    """Crop a 100-step video with the window [30, 60) (the first draw of a
    seed found here), widened by ``offset``; segments back in video steps."""
    data = results(length=100, segments=segments,
                   labels=range(len(segments)))
    data['feat_offset'] = offset
    seed = next(s for s in range(1000)
                if np.random.RandomState(s).randint(0, 71) == 30)
    np.random.seed(seed)
    out = crop(max_seq_len=30, **kwargs)(data)
    assert out['crop_start'] == 30
    return {int(k): tuple(seg) for k, seg in zip(out['gt_labels'],
                                                  out['gt_segments'] + 30)}


@pytest.mark.parametrize('offset', [0.0, 1.0])
def test_window_is_widened_by_the_feature_offset(offset):
    """ActionFormer's rule, hand-worked: window [30, 60) widened to
    [30 - o, 60 + o]."""
    kept = crop_at_30(((25, 35), (10, 29.5), (59, 70)), offset,
                      min_overlap=0.3)
    # (25, 35): [max(25, 30 - o), 35] -> 5 + o of 10 steps, kept
    assert kept[0] == pytest.approx((30 - offset, 35))
    # (10, 29.5): only the widened window reaches it, 0.5 / 19.5 < 0.3
    assert 1 not in kept
    # (59, 70): [59, min(70, 60 + o)] -> (1 + o) / 11 < 0.3
    assert 2 not in kept
    # (59, 62): [59, 60 + o] of 3 steps: 1/3 < 0.5 without the offset,
    # 2/3 with o = 1
    kept = crop_at_30(((59, 62),), offset, min_overlap=0.5,
                      require_action=False)
    if offset:
        assert kept[0] == pytest.approx((59, 61))
    else:
        assert not kept


def test_min_overlap_drops_mostly_cut_actions():
    np.random.seed(0)
    data = results(length=100, segments=((0, 40), (45, 55)), labels=(0, 1))
    for _ in range(10):
        out = crop(max_seq_len=20, min_overlap=0.9)(dict(data))
        for (s, e), label in zip(out['gt_segments'], out['gt_labels']):
            length = 40 if label == 0 else 10
            assert (e - s) / length >= 0.9
        assert 0 not in out['gt_labels']  # 40 steps never fit in 20


def test_crop_ratio_shortens_sequences_that_fit():
    np.random.seed(1)
    lengths = {crop(max_seq_len=200, crop_ratio=(0.5, 0.8))(results())[
        'feat_len'] for _ in range(20)}
    assert lengths and all(50 <= n <= 80 for n in lengths)
    assert len(lengths) > 1


def test_crop_is_reproducible_with_numpy_seed():
    np.random.seed(7)
    a = crop(max_seq_len=25)(results())['crop_start']
    np.random.seed(7)
    assert crop(max_seq_len=25)(results())['crop_start'] == a


def test_pack_builds_the_contract_sample():
    data = results()
    data.update(video_name='v', duration=10.0, fps=30.0, feat_stride=16.0,
                feat_offset=1.0, ann_segments=np.array([[0.5, 1.0]]),
                ann_labels=np.array([1]))
    out = TRANSFORMS.build(dict(type='PackTADInputs'))(data)
    assert set(out) == {'inputs', 'data_samples'}
    assert out['inputs'].dtype == torch.float32
    assert out['inputs'].shape == (3, 100)
    sample = out['data_samples']
    assert isinstance(sample, TADDataSample)
    assert sample.gt_instances.segments_in_steps.dtype == torch.float32
    assert sample.gt_instances.labels.dtype == torch.long
    assert sample.video_name == 'v' and sample.feat_len == 100
    with pytest.raises(KeyError, match='LoadTADFeatures'):
        TRANSFORMS.build(dict(type='PackTADInputs'))(results())


def test_step_conversion_round_trip():
    t = np.array([0.0, 1.5, 100.0])
    steps = seconds_to_steps(t, 30.0, 16.0, 1.0)
    np.testing.assert_allclose(steps, (t * 30.0 - 16.0) / 16.0)
    np.testing.assert_allclose(steps_to_seconds(steps, 30.0, 16.0, 1.0), t)
