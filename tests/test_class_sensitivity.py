"""ClassSensitivityEvaluator: Gaussian weights in every mode, per-segment
normalisation, the sigma bound, gradients, the fitted mode's learning rule
and the logging statistics."""
import math

import pytest
import torch
import torch.nn.functional as F
from mmaction.registry import MODELS

from asl_mmaction.models.sensitivity.class_sensitivity import (
    ClassSensitivityEvaluator, rescale_to_unit_mean)
from asl_mmaction.models.task_modules import SegmentPoints


def g(x, mu, sigma):
    return math.exp(-(x - mu) ** 2 / (2 * sigma ** 2))


def softplus_inv(y):
    return math.log(math.expm1(y))


# one segment [2, 6] (centre 4, length 4) of class 1 and one [10, 12]
# (centre 11, length 2) of class 0; ids need not be contiguous
POINTS = torch.tensor([4., 5., 6., 10.5, 11.5])
STRIDES = torch.tensor([1., 1., 2., 1., 1.])
SEGMENTS = torch.tensor([[2., 6.]] * 3 + [[10., 12.]] * 2)
LABELS = torch.tensor([1, 1, 1, 0, 0])
IDS = torch.tensor([7, 7, 7, 3, 3])
MU_1 = (0.1, -0.5, 0.5)
SIGMA_1 = (0.5, 1.0, 2.0)


def build(mode, num_classes=2, **kwargs):
    return MODELS.build(dict(type='ClassSensitivityEvaluator',
                             num_classes=num_classes, mode=mode, **kwargs))


def pairs_of(points, strides, segments, labels, segment_ids):
    """The head's ``SegmentPoints`` for points paired with segments."""
    length = segments[:, 1] - segments[:, 0]
    return SegmentPoints(
        video=torch.zeros_like(labels), point=torch.arange(len(labels)),
        segment=segment_ids, label=labels,
        position=(points - segments.mean(dim=1)) / length, stride=strides,
        length=length)


def call(ev, **override):
    """Weights and raw start / end profiles, by name."""
    args = dict(points=POINTS, strides=STRIDES, segments=SEGMENTS,
                labels=LABELS, segment_ids=IDS)
    args.update(override)
    pairs = pairs_of(**args)
    w_cls, w_loc = ev(pairs)
    prof = ev.profile(pairs)
    return dict(cls=w_cls, loc=w_loc, start=prof[:, 1], end=prof[:, 2])


def test_initial_parameters():
    ev = build('normalized', num_classes=3)
    assert torch.allclose(ev.mu, torch.tensor([[0., -0.5, 0.5]] * 3))
    assert torch.allclose(ev.effective_sigma(), torch.ones(3, 3))
    assert torch.allclose(build('reference', 3).effective_sigma(),
                          torch.ones(3, 3))


def test_reference_mode_matches_the_released_formula():
    ev = build('reference')
    with torch.no_grad():
        ev.mu[1] = torch.tensor(MU_1)
        ev.sigma[1] = torch.tensor(SIGMA_1)
    out = call(ev)
    # our position: (t - centre) / (stride * length)
    xs = [0.0, 0.25, 0.25]
    for i in range(3):  # class 1 with the set parameters
        cls, start, end = (g(xs[i], m, s) for m, s in zip(MU_1, SIGMA_1))
        assert out['cls'][i].item() == pytest.approx(cls, rel=1e-6)
        assert out['start'][i].item() == pytest.approx(start, rel=1e-6)
        assert out['end'][i].item() == pytest.approx(end, rel=1e-6)
        assert out['loc'][i].item() == pytest.approx((start + end) / 2 * cls,
                                                     rel=1e-6)
    # the released code measures (centre - t) and calls the mu=-0.5
    # Gaussian "left": same values with mu mirrored
    for i in range(3):
        x_ref = (4.0 - POINTS[i].item()) / (STRIDES[i].item() * 4.0)
        left = g(x_ref, -MU_1[2], SIGMA_1[2])
        right = g(x_ref, -MU_1[1], SIGMA_1[1])
        cls = g(x_ref, -MU_1[0], SIGMA_1[0])
        assert out['loc'][i].item() == pytest.approx(
            (left + right) / 2.0 * cls, rel=1e-6)
    # class 0 keeps the initial Gaussians: x = (11.5 - 11) / 2
    assert out['cls'][4].item() == pytest.approx(g(0.25, 0, 1), rel=1e-6)
    assert out['start'][4].item() == pytest.approx(g(0.25, -0.5, 1),
                                                   rel=1e-6)


def test_normalized_mode_values_and_unit_mean_per_segment():
    ev = build('normalized', sigma_min=0.2)
    with torch.no_grad():
        ev.mu[1] = torch.tensor(MU_1)
        ev.sigma[1] = torch.tensor([softplus_inv(s - 0.2) for s in SIGMA_1])
    assert torch.allclose(ev.effective_sigma()[1], torch.tensor(SIGMA_1))
    out = call(ev)
    # position divided by the length only
    xs = [0.0, 0.25, 0.5]
    raw = [[g(x, m, s) for m, s in zip(MU_1, SIGMA_1)] for x in xs]
    cls = [r[0] for r in raw]
    loc = [(r[1] + r[2]) / 2 for r in raw]
    for i in range(3):
        assert out['cls'][i].item() == pytest.approx(
            cls[i] / (sum(cls) / 3), rel=1e-5)
        assert out['loc'][i].item() == pytest.approx(
            loc[i] / (sum(loc) / 3), rel=1e-5)
        assert out['start'][i].item() == pytest.approx(raw[i][1], rel=1e-5)
        assert out['end'][i].item() == pytest.approx(raw[i][2], rel=1e-5)
    for key in ('cls', 'loc'):
        assert out[key][:3].mean().item() == pytest.approx(1.0, rel=1e-6)
        assert out[key][3:].mean().item() == pytest.approx(1.0, rel=1e-6)
        assert (out[key] >= 0).all()


def test_sigma_lower_bound_and_underflow():
    ev = build('normalized', sigma_min=0.25)
    with torch.no_grad():
        ev.sigma.fill_(-50.0)  # softplus -> ~0: sigma at the bound
        ev.mu.fill_(40.0)  # every Gaussian underflows in linear space
    assert torch.allclose(ev.effective_sigma(), torch.full((2, 3), 0.25))
    out = call(ev)
    for key in ('cls', 'loc'):
        assert torch.isfinite(out[key]).all()
        assert out[key][:3].mean().item() == pytest.approx(1.0, rel=1e-5)
    # the nearest point to mu (largest t - centre) takes all the weight
    assert out['cls'][2].item() == pytest.approx(3.0, rel=1e-4)


def test_rescale_handles_one_point_segments():
    w = rescale_to_unit_mean(torch.tensor([-3.0, 0.0, -1.0]),
                             torch.tensor([0, 1, 1]))
    assert w[0].item() == pytest.approx(1.0)
    expected = torch.tensor([1.0, math.exp(-1.0)])
    expected = expected / expected.mean()
    assert torch.allclose(w[1:], expected)


@pytest.mark.parametrize('mode', ['normalized', 'reference'])
def test_gradients_reach_mu_and_sigma_through_the_weights(mode):
    ev = build(mode)
    # class 0's points off-centre: symmetric ones would not tell sigma's
    # sign of change apart in normalized mode
    out = call(ev, points=torch.tensor([4., 5., 6., 10.5, 11.8]))
    # distinct per-point losses: the weights must move their shape
    losses = torch.tensor([1.0, 2.0, 5.0, 1.0, 3.0])
    ((out['cls'] + out['loc']) * losses).sum().backward()
    for name in ('mu', 'sigma'):
        grad = getattr(ev, name).grad
        assert grad is not None
        assert (grad.abs() > 1e-6).all(), f'{mode}: no gradient in {name}'


def test_normalized_gradient_follows_the_shape_only():
    # equal losses: the weighted sum is fixed by the unit mean, so the
    # weights get no gradient at all in normalized mode ...
    ev = build('normalized')
    call(ev)['cls'].sum().backward()
    assert ev.mu.grad.abs().max() < 1e-6
    # ... while descent shrinks sigma, and every weight, in the released
    # unnormalised form: the collapse the normalisation prevents
    ref = build('reference')
    call(ref)['cls'].sum().backward()
    assert (ref.sigma.grad[:, 0] > 1e-3).all()


def test_empty_batch_is_graph_connected():
    ev = build('normalized')
    out = call(ev, points=torch.zeros(0), strides=torch.zeros(0),
               segments=torch.zeros(0, 2), labels=torch.zeros(0).long(),
               segment_ids=torch.zeros(0).long())
    assert out['cls'].shape == (0,)
    out['cls'].sum().backward()
    assert ev.mu.grad is not None


def test_stats_running_means_and_reset():
    ev = build('normalized', num_classes=3)
    ev.train()
    out1 = call(ev)
    out2 = call(ev, points=POINTS + 0.2)
    ev.eval()
    call(ev)  # not counted: eval mode
    stats = ev.stats()
    assert stats['mu'].shape == (3, 3) and stats['sigma'].shape == (3, 3)
    assert stats['count'].tolist() == [4.0, 6.0, 0.0]
    cls = torch.cat([out1['cls'], out2['cls']]).detach()
    labels = torch.cat([LABELS, LABELS])
    assert stats['mean_weight'][1, 0].item() == pytest.approx(
        cls[labels == 1].mean().item(), rel=1e-6)
    loc = torch.cat([out1['loc'], out2['loc']]).detach()
    assert stats['mean_weight'][0, 1].item() == pytest.approx(
        loc[labels == 0].mean().item(), rel=1e-6)
    assert stats['mean_sq_weight'][1, 0].item() == pytest.approx(
        cls[labels == 1].pow(2).mean().item(), rel=1e-6)
    assert stats['weight_sum'].shape == stats['weight_sq_sum'].shape == (3, 2)
    assert math.isnan(stats['mean_weight'][2, 0].item())
    again = ev.stats()
    assert again['count'].sum() == 0


def test_bad_inputs_raise():
    with pytest.raises(ValueError, match='unknown mode'):
        build('other')
    ev = build('normalized')
    with pytest.raises(ValueError, match='labels must be in'):
        call(ev, labels=LABELS + 1)


# ------------------------------------------------------------ fitted mode
def key_position_batch(key=0.3, num=40, seed=0):
    """Points spread over segments of class 1, whose detector quality
    peaks at relative position ``key`` (a bump on a baseline, plus noise),
    as the head measures it."""
    gen = torch.Generator().manual_seed(seed)
    position = torch.rand(num, generator=gen) - 0.5
    quality = 0.2 + 0.6 * torch.exp(-(position - key) ** 2 / (2 * 0.1 ** 2))
    quality = quality + 0.02 * torch.randn(num, generator=gen)
    pairs = SegmentPoints(
        video=torch.zeros(num, dtype=torch.long),
        point=torch.arange(num), segment=torch.arange(num) // 10,
        label=torch.ones(num, dtype=torch.long), position=position,
        stride=torch.ones(num), length=torch.full((num, ), 10.0))
    return pairs, quality.clamp(0, 1)[:, None].expand(num, 3)


def fit(ev, pairs, quality, steps=300, lr=0.05):
    opt = torch.optim.Adam(ev.parameters(), lr=lr)
    for _ in range(steps):
        opt.zero_grad()
        ev.fit_loss(pairs, quality).backward()
        opt.step()


def test_fitted_mode_moves_mu_to_the_key_position():
    ev = build('fitted')
    pairs, quality = key_position_batch(key=0.3)
    before = ev.fit_loss(pairs, quality).item()
    fit(ev, pairs, quality)
    assert ev.fit_loss(pairs, quality).item() < 0.2 * before
    # every task of class 1 found the bump; class 0 (no points) kept its
    # initial profile
    assert ev.mu[1].detach() == pytest.approx(torch.full((3, ), 0.3),
                                              abs=0.03)
    assert torch.equal(ev.mu[0].detach(), torch.tensor([0.0, -0.5, 0.5]))
    curve = ev.curves(torch.linspace(-0.5, 0.5, 101))[1, 0]
    assert abs(float(torch.linspace(-0.5, 0.5, 101)[curve.argmax()]) - 0.3
               ) < 0.03
    # the weights of the positive points follow the fitted profile: the
    # point nearest the key position weighs most, mean 1 per segment
    positives = pairs_of(points=torch.tensor([4.0, 5.0, 6.5]),
                         strides=torch.ones(3),
                         segments=torch.tensor([[0.0, 10.0]] * 3),
                         labels=torch.ones(3, dtype=torch.long),
                         segment_ids=torch.zeros(3, dtype=torch.long))
    w_cls, w_loc = ev(positives)
    assert int(w_cls.argmax()) == 2 and w_cls.mean().item() == \
        pytest.approx(1.0, rel=1e-5)


def test_fitted_mode_learns_only_from_its_fit():
    """The weighted losses' gradient does not reach the fitted profiles
    (they would drift towards the easiest points); the fit's does."""
    ev = build('fitted')
    out = call(ev)
    assert not out['cls'].requires_grad and not out['loc'].requires_grad
    pairs, quality = key_position_batch()
    ev.fit_loss(pairs, quality).backward()
    assert ev.mu.grad[1].abs().min() > 0 and ev.mu.grad[0].abs().max() == 0


def test_fitted_mode_stays_flat_on_flat_quality():
    ev = build('fitted')
    pairs, _ = key_position_batch()
    flat = torch.full((len(pairs), 3), 0.6)
    fit(ev, pairs, flat, steps=1000)
    curve = ev.curves(torch.linspace(-0.5, 0.5, 21))[1]
    assert (curve.max(dim=1).values - curve.min(dim=1).values < 0.05).all()
    assert ev.fit_loss(pairs, flat).item() < 1e-3


def test_other_modes_have_no_fit_and_empty_fits_are_connected():
    assert build('normalized').fit_loss(*key_position_batch()) is None
    assert build('reference').fit_loss(*key_position_batch()) is None
    ev = build('fitted')
    pairs, quality = key_position_batch(num=0)
    loss = ev.fit_loss(pairs, quality)
    assert loss.item() == 0.0
    loss.backward()
    assert ev.mu.grad is not None


def test_softplus_parametrisation_is_consistent():
    ev = build('normalized', sigma_min=0.1)
    assert torch.allclose(0.1 + F.softplus(ev.sigma), ev.effective_sigma())
