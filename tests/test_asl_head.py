"""ASLHead: ActionFormer's loss against a plain re-implementation, ASL
wiring through stand-in modules, distributed normalisation, prediction."""
import copy
import math

import pytest
import torch
import torch.nn as nn
from mmaction.registry import MODELS
from mmengine.structures import InstanceData

from asl_mmaction.models.heads import ASLHead
from asl_mmaction.models.losses import loss_normalizer
from asl_mmaction.structures import TADDataSample

K, C, T = 3, 8, 16
STRIDES = (1, 2, 4)
RANGES = ((0, 4), (4, 8), (8, 1e4))
VIDEOS = [  # (start, end, label) in steps
    [(1.0, 5.5, 0), (3.0, 14.0, 2), (8.0, 9.2, 1), (8.5, 9.7, 0)],
    [(2.0, 10.0, 1), (12.5, 15.0, 0)],  # the second lies in the padding
]
VALID_LEN = (16, 12)


def make_head(**kwargs):
    cfg = dict(type='ASLHead', num_classes=K, in_channels=C,
               feat_channels=C, strides=STRIDES, regress_ranges=RANGES)
    cfg.update(kwargs)
    torch.manual_seed(0)
    return MODELS.build(cfg)


def make_samples(videos=VIDEOS):
    samples = []
    for b, video in enumerate(videos):
        sample = TADDataSample(metainfo=dict(
            video_name=f'video_{b}', duration=10.0, fps=10.0,
            feat_stride=4.0, feat_offset=0.5, crop_start=0))
        gt = InstanceData()
        gt.segments_in_steps = torch.tensor(
            [v[:2] for v in video]).reshape(-1, 2)
        gt.labels = torch.tensor([v[2] for v in video], dtype=torch.long)
        sample.gt_instances = gt
        samples.append(sample)
    return samples


def make_inputs(valid_len=VALID_LEN, length=T, seed=1):
    gen = torch.Generator().manual_seed(seed)
    base = torch.arange(length)[None, None] < torch.tensor(valid_len)[:, None,
                                                                       None]
    # levels keep every 2**l-th step of the mask, as the backbone does
    masks = tuple(base[..., ::s] for s in STRIDES)
    feats = tuple(torch.randn(len(valid_len), C, length // s, generator=gen)
                  * m for s, m in zip(STRIDES, masks))
    return feats, masks


# ---------------------------------------------------- plain reference
def focal(x, y, alpha=0.25, gamma=2.0):
    p = 1 / (1 + math.exp(-x))
    ce = -(y * math.log(p) + (1 - y) * math.log(1 - p))
    p_t = p * y + (1 - p) * (1 - y)
    return ce * (1 - p_t)**gamma * (alpha * y + (1 - alpha) * (1 - y))


def diou(pred, target):
    (lp, rp), (lt, rt) = pred, target
    inter = min(lp, lt) + min(rp, rt)
    union = lp + rp + lt + rt - inter
    enclosing = max(lp, lt) + max(rp, rt)
    rho = ((rp - lp) - (rt - lt)) / 2
    return 1 - inter / union + (rho / enclosing)**2


def reference_loss(cls_logits, reg_offsets, masks, videos,
                   label_smoothing=0.0, reg_weight=1.0):
    """ActionFormer's training loss, one point and one segment at a time.

    Returns:
        dict: loss_cls, loss_reg, num_pos, and the focal sums of the
        positive / negative rows and the DIoU sum (before normalising).
    """
    pos_rows = neg_rows = reg_sum = 0.0
    num_pos = 0
    for b, video in enumerate(videos):
        for level, stride in enumerate(STRIDES):
            lo, hi = RANGES[level]
            for i in range(cls_logits[level].shape[1]):
                if not masks[level][b, 0, i]:
                    continue
                t = i * stride
                cands = []
                for start, end, label in video:
                    centre = (start + end) / 2
                    left_edge = max(centre - 1.5 * stride, start)
                    right_edge = min(centre + 1.5 * stride, end)
                    far = max(t - start, end - t)
                    if left_edge < t < right_edge and lo <= far <= hi:
                        cands.append((end - start, start, end, label))
                target = [0.0] * K
                if cands:
                    shortest = min(c[0] for c in cands)
                    for length, _, _, label in cands:
                        if length <= shortest + 1e-3:
                            target[label] = 1.0
                    _, start, end, _ = [c for c in cands
                                        if c[0] == shortest][0]
                    num_pos += 1
                    pred = reg_offsets[level][b, i].tolist()
                    reg_sum += diou(pred, ((t - start) / stride,
                                           (end - t) / stride))
                row = sum(focal(cls_logits[level][b, i, k].item(),
                                target[k] * (1 - label_smoothing) +
                                label_smoothing / (K + 1))
                          for k in range(K))
                if cands:
                    pos_rows += row
                else:
                    neg_rows += row
    norm = 0.9 * 100 + 0.1 * max(num_pos, 1)
    loss_cls = (pos_rows + neg_rows) / norm
    loss_reg = reg_sum / norm
    if reg_weight <= 0:  # ActionFormer's adaptive weight
        reg_weight = loss_cls / max(loss_reg, 0.01)
    return dict(loss_cls=loss_cls, loss_reg=loss_reg * reg_weight,
                num_pos=num_pos, pos_rows=pos_rows, neg_rows=neg_rows,
                reg_sum=reg_sum, norm=norm)


@pytest.mark.parametrize('smoothing,reg_weight',
                         [(0.0, 1.0), (0.1, 2.0), (0.0, 0.0)])
def test_actionformer_loss_matches_plain_reference(smoothing, reg_weight):
    head = make_head(label_smoothing=smoothing,
                     loss_reg=dict(type='DIoULoss1D', loss_weight=reg_weight))
    feats, masks = make_inputs()
    losses = head.loss(feats, masks, make_samples())
    assert set(losses) == {'loss_cls', 'loss_reg'}
    with torch.no_grad():
        cls_logits, reg_offsets, _, _ = head(feats, masks)
    ref = reference_loss(cls_logits, reg_offsets, masks, VIDEOS, smoothing,
                         reg_weight)
    assert ref['num_pos'] >= 10
    assert losses['loss_cls'].item() == pytest.approx(ref['loss_cls'],
                                                      rel=1e-5)
    assert losses['loss_reg'].item() == pytest.approx(ref['loss_reg'],
                                                      rel=1e-5)
    assert float(head.loss_normalizer.value) == pytest.approx(ref['norm'])


def test_gradients_reach_every_parameter():
    head = make_head()
    feats, masks = make_inputs()
    feats = tuple(f.requires_grad_() for f in feats)
    losses = head.loss(feats, masks, make_samples())
    sum(losses.values()).backward()
    for name, param in head.named_parameters():
        assert param.grad is not None, name
        assert torch.isfinite(param.grad).all(), name
        assert param.grad.abs().sum() > 0, name
    assert all(f.grad.abs().sum() > 0 for f in feats)


def test_batch_without_segments_gives_finite_losses():
    head = make_head()
    feats, masks = make_inputs()
    losses = head.loss(feats, masks, make_samples([[], []]))
    assert losses['loss_reg'].item() == 0.0
    assert torch.isfinite(losses['loss_cls'])
    sum(losses.values()).backward()


def test_initial_biases_and_bad_ground_truth():
    head = make_head(empty_cls=(1, ))
    bias = head.conv_cls.conv.bias
    assert bias[0].item() == pytest.approx(-math.log(99))
    assert torch.sigmoid(bias[1]).item() == pytest.approx(1e-6)
    head.init_weights()
    assert bias[0].item() == pytest.approx(-math.log(99))
    feats, masks = make_inputs()
    with pytest.raises(ValueError, match='video_1: gt labels'):
        head.loss(feats, masks, make_samples([[(1, 3, 0)], [(1, 3, 7)]]))
    with pytest.raises(ValueError, match='video_0: gt segments'):
        head.loss(feats, masks, make_samples([[(5, 3, 0)], []]))
    with pytest.raises(ValueError, match='empty_cls'):
        make_head(empty_cls=(5, ))
    assert 'loss_normalizer.value' in head.state_dict()


def test_loss_is_loss_by_feat_of_forward_and_targets():
    head = make_head(
        class_sensitivity=dict(type='ClassSensitivityEvaluator',
                               mode='fitted'),
        instance_sensitivity=dict(type='InstanceSensitivityEvaluator'),
        contrastive_loss=dict(type='ActionSensitiveContrastiveLoss'))
    feats, masks = make_inputs()
    samples = make_samples()
    torch.manual_seed(3)
    state = copy.deepcopy(head.state_dict())
    losses = head.loss(feats, masks, samples)
    head.load_state_dict(state)  # the loss normaliser moved: put it back
    torch.manual_seed(3)
    again = head.loss_by_feat(*head(feats, masks),
                              targets=head.get_targets(masks, samples))
    assert set(losses) == set(again) == {
        'loss_cls', 'loss_reg', 'loss_inst', 'loss_sens', 'loss_contrast'}
    for key in losses:
        assert torch.equal(losses[key], again[key]), key


# -------------------------------------------- ASL wiring (stand-ins)
from asl_mmaction.models.heads.plugins import (  # noqa: E402
    BaseClassSensitivity, BaseContrastiveLoss, BaseInstanceSensitivity,
    BaseVideoLoss)


@MODELS.register_module(force=True)
class StubClassSensitivity(BaseClassSensitivity):
    """Constant weights, remembering what it was given."""

    def __init__(self, num_classes, in_channels):
        super().__init__()
        self.num_classes = num_classes
        self.seen = {}

    def forward(self, positives):
        self.seen['positives'] = positives
        ones = torch.ones_like(positives.position)
        return 2.0 * ones, 3.0 * ones

    def profile(self, pairs):
        self.seen['pairs'] = pairs
        return pairs.position.new_tensor([2.0, 0.5, 0.25]).expand(
            len(pairs), 3)

    def curves(self, positions):
        return positions.new_ones(self.num_classes, 3, positions.numel())


@MODELS.register_module(force=True)
class StubInstanceSensitivity(BaseInstanceSensitivity):

    def __init__(self, in_channels):
        super().__init__()
        self.quality = nn.Parameter(torch.tensor(0.5))
        self.seen = {}

    def forward(self, feats, masks):
        return [self.quality.expand(f.shape[0], f.shape[2], 2)
                for f in feats]

    def loss(self, pred, target):
        self.seen = dict(pred=pred, target=target)
        return (pred - target).pow(2).sum(dim=1).mean()


@MODELS.register_module(force=True)
class StubContrastiveLoss(BaseContrastiveLoss):

    def __init__(self, in_channels):
        super().__init__()
        self.seen = {}

    def forward(self, point_feats, targets):
        self.seen = dict(point_feats=point_feats, targets=targets)
        return point_feats.mean()


@MODELS.register_module(force=True)
class StubVideoLoss(BaseVideoLoss):

    def forward(self, cls_logits, targets, avg_factor):
        self.seen = dict(targets=targets, avg_factor=avg_factor)
        pooled = cls_logits.masked_fill(~targets.valid[..., None], -1e4)
        return nn.functional.binary_cross_entropy_with_logits(
            pooled.amax(dim=1), targets.video_labels)


@MODELS.register_module(force=True)
class NotAPlugin(nn.Module):

    def __init__(self, num_classes, in_channels):
        super().__init__()


def test_plugins_must_follow_their_contract():
    with pytest.raises(TypeError, match='not a BaseClassSensitivity'):
        make_head(class_sensitivity=dict(type='NotAPlugin'))


def test_class_sensitivity_weights_positive_rows():
    feats, masks = make_inputs()
    head = make_head(class_sensitivity=dict(type='StubClassSensitivity'))
    losses = head.loss(feats, masks, make_samples())
    with torch.no_grad():
        cls_logits, reg_offsets, _, _ = head(feats, masks)
    ref = reference_loss(cls_logits, reg_offsets, masks, VIDEOS)
    expected_cls = (2.0 * ref['pos_rows'] + ref['neg_rows']) / ref['norm']
    assert losses['loss_cls'].item() == pytest.approx(expected_cls, rel=1e-5)
    assert losses['loss_reg'].item() == pytest.approx(
        3.0 * ref['loss_reg'], rel=1e-5)
    positives = head.class_sensitivity.seen['positives']
    assert len(positives) == ref['num_pos']
    # every positive point lies inside its assigned segment ...
    assert (positives.position.abs() < 0.5).all()
    # ... and segment ids index the batch's segments, video after video
    all_segs = torch.tensor([s[:2] for v in VIDEOS for s in v])
    all_labels = torch.tensor([s[2] for v in VIDEOS for s in v])
    seg = all_segs[positives.segment]
    assert torch.allclose(seg[:, 1] - seg[:, 0], positives.length)
    assert torch.equal(all_labels[positives.segment], positives.label)
    assert set(positives.stride.tolist()) <= set(STRIDES)


def test_instance_contrastive_and_video_modules_are_wired():
    feats, masks = make_inputs()
    head = make_head(
        class_sensitivity=dict(type='StubClassSensitivity'),
        instance_sensitivity=dict(type='StubInstanceSensitivity'),
        contrastive_loss=dict(type='StubContrastiveLoss'),
        video_loss=dict(type='StubVideoLoss'))
    losses = head.loss(feats, masks, make_samples())
    assert set(losses) == {'loss_cls', 'loss_reg', 'loss_inst',
                           'loss_contrast', 'loss_video'}
    with torch.no_grad():
        cls_logits, reg_offsets, _, _ = head(feats, masks)
    ref = reference_loss(cls_logits, reg_offsets, masks, VIDEOS)
    # weights: class sensitivity + detached quality (0.5)
    assert losses['loss_reg'].item() == pytest.approx(
        3.5 * ref['loss_reg'], rel=1e-5)
    expected_cls = (2.5 * ref['pos_rows'] + ref['neg_rows']) / ref['norm']
    assert losses['loss_cls'].item() == pytest.approx(expected_cls, rel=1e-5)

    inst = head.instance_sensitivity.seen
    assert inst['target'].shape == (ref['num_pos'], 2)
    assert ((inst['target'][:, 0] > 0) & (inst['target'][:, 0] < 1)).all()
    assert ((inst['target'][:, 1] >= 0) & (inst['target'][:, 1] <= 1)).all()
    assert not inst['target'].requires_grad

    con = head.contrastive_loss.seen
    P = sum(T // s for s in STRIDES)
    assert con['point_feats'].shape == (2, P, C)
    targets = con['targets']
    assert int(targets.pos_mask.sum()) == ref['num_pos']
    assert targets.segment_labels.tolist() == [0, 2, 1, 0, 1, 0]
    # the profile of every point inside a segment, from the plug-in
    assert targets.sensitivity.shape == (len(targets.inside), 3)
    assert (targets.sensitivity[:, 0] == 2.0).all()
    assert not (targets.background & targets.pos_mask).any()
    assert targets.background.any()
    # padded points are neither background nor inside a segment
    assert not targets.background[1, 12:16].any()
    assert not ((targets.inside.video == 1) &
                (targets.inside.point >= 12) &
                (targets.inside.point < 16)).any()

    video = head.video_loss.seen
    assert video['targets'].video_labels.tolist() == [[1, 1, 1], [1, 1, 0]]
    # divided like loss_cls: by the EMA of positives, as the released code
    assert video['avg_factor'] == pytest.approx(ref['norm'])
    sum(losses.values()).backward()
    assert head.instance_sensitivity.quality.grad is not None


def test_points_inside_segments_are_every_point_strictly_inside():
    head = make_head()
    _, masks = make_inputs()
    targets = head.get_targets(masks, make_samples())
    inside = targets.inside
    expected = set()
    for b, video in enumerate(VIDEOS):
        offset = sum(len(v) for v in VIDEOS[:b])
        first = 0
        for level, stride in enumerate(STRIDES):
            for i in range(T // stride):
                t = i * stride
                if not masks[level][b, 0, i]:
                    continue
                for n, (start, end, _) in enumerate(video):
                    if start < t < end:
                        expected.add((b, first + i, offset + n))
            first += T // stride
    got = set(zip(inside.video.tolist(), inside.point.tolist(),
                  inside.segment.tolist()))
    assert got == expected and len(got) == len(inside)
    assert (inside.position.abs() < 0.5).all()
    # the positives are among them
    pos = set(zip(targets.positives.video.tolist(),
                  targets.positives.point.tolist(),
                  targets.positives.segment.tolist()))
    assert pos <= got


# ------------------------------------------------------- distributed
@pytest.mark.parametrize('video_loss',
                         [None, dict(type='VideoMultiLabelLoss')])
def test_two_ranks_train_like_one_process(monkeypatch, video_loss):
    """Rank r holds video r; the gradient averaged over ranks (what DDP
    does) equals the gradient of one process holding both videos."""
    feats, masks = make_inputs(valid_len=(16, 16))
    samples = make_samples()
    single = make_head(video_loss=video_loss)
    sum(single.loss(feats, masks, samples).values()).backward()

    ranks = [copy.deepcopy(make_head(video_loss=video_loss))
             for _ in range(2)]
    with torch.no_grad():
        _, _, pos, _ = _assign(single, feats, masks, samples)
    total = float(pos.sum())
    monkeypatch.setattr(loss_normalizer.LossNormalizer, 'world_size',
                        staticmethod(lambda: 2))
    monkeypatch.setattr(loss_normalizer.dist, 'all_reduce',
                        lambda t, op=None: t.fill_(total))
    for r, head in enumerate(ranks):
        sub_feats = tuple(f[r:r + 1] for f in feats)
        sub_masks = tuple(m[r:r + 1] for m in masks)
        sum(head.loss(sub_feats, sub_masks, samples[r:r + 1]).values()
            ).backward()
    for name, param in single.named_parameters():
        averaged = sum(dict(h.named_parameters())[name].grad
                       for h in ranks) / 2
        assert torch.allclose(param.grad, averaged, rtol=1e-4,
                              atol=1e-7), name


def _assign(head, feats, masks, samples):
    from asl_mmaction.models.task_modules import (assign_targets,
                                                  pad_gt_instances)
    points = head.prior_generator([f.shape[-1] for f in feats])
    segs, labels, valid = pad_gt_instances(samples, K, points.device)
    return assign_targets(points, segs, labels, valid, K)


# ---------------------------------------------------------- predict
def test_predict_decodes_to_seconds_with_crop_and_clipping():
    head = make_head(test_cfg=dict(
        score_thr=0.01, nms_pre=100, min_duration=0.05, max_per_video=10,
        nms=dict(method='soft_gaussian', sigma=0.5, min_score=0.001)))
    _, masks = make_inputs(valid_len=(16, 8))
    cls_logits = [torch.full((2, T // s, K), -20.0) for s in STRIDES]
    reg_offsets = [torch.zeros(2, T // s, 2) for s in STRIDES]
    cls_logits[1][0, 3, 2] = 5.0  # level 1 (stride 2), t = 6, class 2
    reg_offsets[1][0, 3] = torch.tensor([1.5, 0.5])  # steps [3, 7]
    cls_logits[0][1, 12, 0] = 5.0  # padded point: must be ignored
    reg_offsets[0][1, 12] = 1.0
    samples = make_samples()
    samples[0].set_metainfo(dict(crop_start=10, duration=6.5))
    out = head.predict_by_feat(cls_logits, reg_offsets, masks, samples)
    pred = out[0].pred_instances
    # steps [13, 17] -> (s + 0.5) * 4 / 10 s = [5.4, 7.0], clipped at 6.5
    assert torch.allclose(pred.segments, torch.tensor([[5.4, 6.5]]))
    assert torch.allclose(pred.scores, torch.sigmoid(torch.tensor([5.0])))
    assert pred.labels.tolist() == [2]
    assert len(out[1].pred_instances) == 0


def test_predict_batch_of_videos_with_different_lengths():
    head = make_head(test_cfg=dict(
        score_thr=0.001, nms_pre=50, min_duration=0.05, max_per_video=30,
        nms=dict(method='soft_gaussian', iou_threshold=0.1, sigma=0.5,
                 min_score=0.001, voting_threshold=0.7,
                 class_agnostic=False)))
    head.eval()
    feats, masks = make_inputs(valid_len=(16, 11, 5))
    samples = make_samples([[], [], []])
    for sample, duration in zip(samples, (6.8, 4.8, 2.2)):
        sample.set_metainfo(dict(duration=duration))
    with torch.no_grad():
        out = head.predict(feats, masks, samples)
    assert len(out) == 3
    for sample in out:
        pred = sample.pred_instances
        assert 0 < len(pred) <= 30
        duration = sample.metainfo['duration']
        assert ((pred.segments >= 0) & (pred.segments <= duration)).all()
        assert (pred.segments[:, 1] >= pred.segments[:, 0]).all()
        assert pred.labels.dtype == torch.long
        assert ((pred.labels >= 0) & (pred.labels < K)).all()
        assert (pred.scores[:-1] >= pred.scores[1:]).all()
    # a shorter video yields no segment starting after its valid end
    last = (5 - 1 + 0.5) * 4 / 10  # last valid step, in seconds
    assert (out[2].pred_instances.segments[:, 0] <= last + 1e-6).all()


def test_head_is_registered():
    assert MODELS.get('ASLHead') is ASLHead


# ------------------------------------------- ASL on, real modules
@pytest.mark.parametrize('mode', ['fitted', 'normalized', 'reference'])
def test_config_head_with_real_asl_modules_trains(mode):
    from mmengine.config import Config
    cfg = Config.fromfile('configs/_base_/models/asl_convtransformer.py')
    head_cfg = cfg.model.head
    head_cfg.update(num_classes=K, in_channels=C, feat_channels=C,
                    strides=STRIDES, regress_ranges=RANGES,
                    video_loss=dict(type='VideoMultiLabelLoss'))
    head_cfg.class_sensitivity.mode = mode
    torch.manual_seed(0)
    head = MODELS.build(head_cfg)
    feats, masks = make_inputs()
    losses = head.loss(feats, masks, make_samples())
    fit = {'loss_sens'} if mode == 'fitted' else set()
    assert set(losses) == {'loss_cls', 'loss_reg', 'loss_inst',
                           'loss_contrast', 'loss_video'} | fit
    assert all(torch.isfinite(v) for v in losses.values())
    # the weighting changes the losses compared with ActionFormer's
    with torch.no_grad():
        cls_logits, reg_offsets, _, _ = head(feats, masks)
    ref = reference_loss(cls_logits, reg_offsets, masks, VIDEOS)
    assert losses['loss_cls'].item() != pytest.approx(ref['loss_cls'])
    sum(losses.values()).backward()
    for module in (head.class_sensitivity, head.instance_sensitivity,
                   head.contrastive_loss):
        grads = [p.grad for p in module.parameters()]
        assert grads and all(g is not None for g in grads), module
        assert any(g.abs().sum() > 0 for g in grads), module
