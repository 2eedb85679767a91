"""ASL's class-level sensitivity: per action class, Gaussians over the
relative position ``x`` of a point inside its ground-truth segment
(``x = (t - centre) / length``: -0.5 at the start, 0 at the centre, +0.5 at
the end).

Each class ``k`` has three Gaussians: ``cls`` (weight of the point's
classification loss; init mu 0, sigma 1) and ``start`` / ``end`` (the two
localization Gaussians, init mu -0.5 / +0.5, sigma 1, averaged into the
regression-loss weight). Three ways to learn them (``mode``):

``'reference'``
    The authors' released code, exactly: raw Gaussians of
    ``x / stride`` (their code divides the distance by ``stride * length``),
    regression weight ``mean(start, end) * cls``, learned through the focal
    and DIoU losses they weight. Their code measures ``centre - t``; the
    Gaussian is symmetric, so that only mirrors mu (their "left" Gaussian,
    mu -0.5, is our ``end`` one) and every weight and gradient magnitude is
    identical.
``'normalized'``
    Learned the same way, but with sigma kept above ``sigma_min`` and each
    segment's weights rescaled to mean 1 over its positive points, so they
    cannot lower the loss by shrinking.
``'fitted'``
    The profiles are *fitted*, not learned through the losses they weight
    (which drifts them towards the points with the lowest loss). What is
    fitted is how recognisable each class is along its actions: a linear
    probe on the detached pyramid features (its own parameters, its own
    cross-entropy ``loss_sens``) classifies every point inside a segment,
    at the finest level, against background points; the probe's
    probability of the segment's class there is pooled per class into a
    histogram over ``x`` (a running average over iterations, summed over
    processes), and ``cls`` is the least-squares fit ``baseline + amplitude
    * gaussian(x; mu, sigma)`` of that histogram (``profile_fitting.py``).
    ``start`` / ``end`` are fitted the same way to the start / end
    accuracy of the detector's own regression at its positive points. The
    detector's own class confidence is not used for ``cls``: centre
    sampling trains it high at the centre of every action, whatever the
    class. The loss weights follow the profiles (each segment's weights
    rescaled to mean 1 over its positive points). See
    ``docs/components/sensitivity.md`` for the measurements behind the
    design.
"""
from typing import Dict, Optional, Sequence, Tuple

import torch
import torch.distributed as dist
import torch.nn as nn
import torch.nn.functional as F
from torch import Tensor
from mmaction.registry import MODELS

from ..heads.plugins import SENSITIVITY_TASKS, BaseClassSensitivity
from ..task_modules.dense_targets import DenseTargets, SegmentPoints
from .profile_fitting import (bin_centres, fit_gaussian_bumps, gaussian,
                              histogram_increments, log_gaussian)

_INIT_MU = (0.0, -0.5, 0.5)
_MODES = ('fitted', 'normalized', 'reference')
_LOG_HALF = -0.6931471805599453


def compact_ids(segment_ids: Tensor) -> Tensor:
    """Map arbitrary segment ids to ``0..S-1`` (same id, same index)."""
    return torch.unique(segment_ids, return_inverse=True)[1]


def rescale_to_unit_mean(log_w: Tensor, ids: Tensor, eps: float = 1e-12
                         ) -> Tensor:
    """``w_i / mean_{j in seg(i)} w_j`` from ``log w``, without underflow.

    Subtracting each segment's largest ``log w`` before ``exp`` keeps the
    biggest weight at 1, so a segment whose Gaussian values all underflow
    still gets finite, mean-1 weights. The shift cancels in the ratio, so it
    is detached.

    Args:
        log_w (Tensor): ``[M]`` log weights.
        ids (LongTensor): ``[M]`` compact segment index in ``0..S-1``.

    Returns:
        Tensor: ``[M]`` weights whose mean over every segment is 1.
    """
    num_seg = int(ids.max()) + 1
    seg_max = log_w.new_full((num_seg,), float('-inf')).scatter_reduce(
        0, ids, log_w.detach(), reduce='amax')
    w = torch.exp(log_w - seg_max[ids])
    seg_sum = w.new_zeros(num_seg).index_add(0, ids, w)
    seg_count = torch.bincount(ids, minlength=num_seg).to(w.dtype)
    return w * (seg_count / seg_sum.clamp_min(eps))[ids]


def _softplus_inverse(y: float) -> float:
    """``s`` with ``softplus(s) = y`` (``y > 0``)."""
    return float(torch.log(torch.expm1(torch.tensor(y))))


@MODELS.register_module()
class ClassSensitivityEvaluator(BaseClassSensitivity):
    """Per-class Gaussian sensitivity profiles and the loss weights they
    give the positive points.

    Args:
        num_classes (int): Number of action classes ``K``.
        in_channels (int, optional): Width of the pyramid features; needed
            by the ``fitted`` mode's probe (the head fills it in).
        mode (str): ``'fitted'`` (default), ``'normalized'`` or
            ``'reference'`` (see the module docstring).
        sigma_min (float): ``normalized``: lower bound of sigma (in segment
            lengths); sigma is ``sigma_min + softplus(s)`` of the stored
            parameter ``s``, so the bound is smooth and gradients never
            stop. Positive points of one segment span roughly
            ``x in [-0.4, 0.4]`` with ActionFormer's centre sampling, so 0.2
            still lets a profile favour one side strongly. Defaults to 0.2.
        num_bins (int): ``fitted``: bins of the quality histograms over
            ``x``. Defaults to 20.
        fit_sigmas (Sequence[float]): ``fitted``: the sigmas tried (mu is
            tried every 0.025). Defaults to ``(0.1, 0.15, 0.2, 0.3, 0.5,
            1.0)``.
        fit_strides (Sequence[int]): ``fitted``: pyramid strides whose
            points inside segments feed the ``cls`` histogram (the finest
            level's features are the most local). Defaults to ``(1, )``.
        momentum (float): ``fitted``: the histograms are running averages,
            ``h <- momentum * h + batch``. Defaults to 0.99.
        num_background (int): ``fitted``: background points per video the
            probe learns to tell apart. Defaults to 32.
        fit_weight (float): ``fitted``: multiplier of the probe's loss.
        eps (float): Floor of the segment length (steps).

    ``mu`` and ``sigma`` are ``[K, 3]`` (columns
    :data:`SENSITIVITY_TASKS`): parameters in the two learned modes,
    buffers (with ``amplitude``, ``baseline`` and the histograms) in
    ``fitted`` mode.
    """

    def __init__(self, num_classes: int, in_channels: Optional[int] = None,
                 mode: str = 'fitted', sigma_min: float = 0.2,
                 num_bins: int = 20,
                 fit_sigmas: Sequence[float] = (0.1, 0.15, 0.2, 0.3, 0.5,
                                                1.0),
                 fit_strides: Sequence[int] = (1, ), momentum: float = 0.99,
                 num_background: int = 32, fit_weight: float = 1.0,
                 eps: float = 1e-6) -> None:
        super().__init__()
        if mode not in _MODES:
            raise ValueError(f'ClassSensitivityEvaluator: unknown mode '
                             f'"{mode}", use one of {_MODES}')
        if num_classes < 1:
            raise ValueError(f'num_classes must be >= 1, got {num_classes}')
        if mode == 'normalized' and not 0.0 <= sigma_min < 1.0:
            raise ValueError(f'sigma_min must be in [0, 1) so that the '
                             f'initial sigma 1 is reachable, got {sigma_min}')
        if mode == 'fitted' and not in_channels:
            raise ValueError('ClassSensitivityEvaluator: the fitted mode '
                             'needs in_channels (the pyramid width) for its '
                             'probe')
        self.num_classes = num_classes
        self.mode = mode
        self.sigma_min = sigma_min
        self.eps = eps
        init_mu = torch.tensor(_INIT_MU).repeat(num_classes, 1)
        if mode == 'fitted':
            self.needs_point_feats = True
            self.num_bins = num_bins
            self.fit_sigmas = tuple(float(v) for v in fit_sigmas)
            self.fit_strides = tuple(int(v) for v in fit_strides)
            self.momentum = momentum
            self.num_background = num_background
            self.fit_weight = fit_weight
            self.probe = nn.Linear(in_channels, num_classes + 1)
            # flat until the first fit: every weight 1
            for name, value in (('mu', init_mu),
                                ('sigma', torch.ones(num_classes, 3)),
                                ('amplitude', torch.zeros(num_classes, 3)),
                                ('baseline', torch.ones(num_classes, 3)),
                                ('quality_sum',
                                 torch.zeros(num_classes * 3, num_bins)),
                                ('quality_count',
                                 torch.zeros(num_classes * 3, num_bins))):
                self.register_buffer(name, value)
        else:
            self.mu = nn.Parameter(init_mu)
            # stored so that the effective sigma starts at 1
            init_sigma = 1.0 if mode == 'reference' else \
                _softplus_inverse(1.0 - sigma_min)
            self.sigma = nn.Parameter(torch.full((num_classes, 3),
                                                 init_sigma))
        self._reset_running()

    # ----------------------------------------------------------- profiles
    def effective_sigma(self) -> Tensor:
        """``[K, 3]`` sigma used in the Gaussians."""
        if self.mode == 'normalized':
            return self.sigma_min + F.softplus(self.sigma)
        return self.sigma

    def _log_profile(self, x: Tensor, labels: Tensor) -> Tensor:
        """``[Q, 3]`` log profile at positions ``x [Q]`` of classes
        ``labels [Q]``."""
        log_g = log_gaussian(x[:, None], self.mu[labels],
                             self.effective_sigma()[labels])
        if self.mode != 'fitted':
            return log_g
        return torch.log(self.baseline[labels] +
                         self.amplitude[labels] * log_g.exp())

    def _positions(self, pairs: SegmentPoints) -> Tensor:
        """Where the profiles are read: ``x``, divided by the stride in
        ``reference`` mode (the authors' ``stride * length`` rule)."""
        x = pairs.position.float()
        return x / pairs.stride.float() if self.mode == 'reference' else x

    def profile(self, pairs: SegmentPoints) -> Tensor:
        """See :class:`BaseClassSensitivity`; ``[Q, 3]``."""
        if len(pairs) == 0:
            return pairs.position.new_zeros(0, 3)
        return self._log_profile(self._positions(pairs), pairs.label).exp()

    @torch.no_grad()
    def curves(self, positions: Tensor) -> Tensor:
        """``[K, 3, X]`` profiles at ``positions [X]`` (stride 1)."""
        x = positions.to(self.mu).repeat(self.num_classes)
        labels = torch.arange(self.num_classes, device=self.mu.device
                              ).repeat_interleave(positions.numel())
        prof = self._log_profile(x, labels).exp()  # [K * X, 3]
        return prof.view(self.num_classes, -1, 3).transpose(1, 2)

    # ------------------------------------------------------------ weights
    def forward(self, positives: SegmentPoints) -> Tuple[Tensor, Tensor]:
        """``(cls_weight [M], loc_weight [M])`` of the positive points."""
        m = len(positives)
        if m == 0:
            # zeros that still reach the parameters, for DDP
            zero = positives.position.new_zeros(0) + 0 * sum(
                p.sum() for p in self.parameters())
            return zero, zero
        self._check_labels(positives.label)
        log_p = self._log_profile(self._positions(positives), positives.label)
        if self.mode == 'reference':
            g = log_p.exp()
            w_cls, w_loc = g[:, 0], (g[:, 1] + g[:, 2]) / 2 * g[:, 0]
        else:
            ids = compact_ids(positives.segment)
            # log of mean(start, end)
            log_loc = torch.logsumexp(log_p[:, 1:], dim=1) + _LOG_HALF
            w_cls = rescale_to_unit_mean(log_p[:, 0], ids)
            w_loc = rescale_to_unit_mean(log_loc, ids)
        if self.training:
            self._accumulate(positives.label, w_cls, w_loc)
        return w_cls, w_loc

    def fit(self, targets: DenseTargets, quality: Tensor,
            point_feats: Optional[Tensor]) -> Optional[Tensor]:
        """``fitted`` mode: fold the batch into the quality histograms,
        refit the profiles, and return the probe's loss; None in the other
        modes (they learn through the losses they weight).

        Args:
            targets (DenseTargets): the batch's targets.
            quality (Tensor): ``[Q, 3]`` the detector's quality at the
                ``inside`` pairs (its start / end columns are used, at the
                pairs whose point is a positive of that segment).
            point_feats (Tensor): ``[B, P, D]`` pyramid features (read
                detached: the probe does not train the detector).
        """
        if self.mode != 'fitted':
            return None
        inside = targets.inside
        self._check_labels(inside.label)
        feats = point_feats.detach().float()
        # the probe: the segment's class at its inside points of the
        # fitted levels, "background" (index K) at sampled background
        fine = torch.zeros_like(inside.stride, dtype=torch.bool)
        for stride in self.fit_strides:
            fine |= inside.stride == stride
        bg_video, bg_point = self._background(targets.background)
        logits = self.probe(torch.cat([feats[inside.video[fine],
                                             inside.point[fine]],
                                       feats[bg_video, bg_point]]))
        labels = torch.cat([inside.label[fine], torch.full_like(
            bg_point, self.num_classes)])
        if labels.numel():
            loss = F.cross_entropy(logits, labels)
        else:
            loss = logits.sum() * 0.0 + 0.0 * sum(
                p.sum() for p in self.probe.parameters())
        with torch.no_grad():
            n = int(fine.sum())
            cls_quality = logits[:n].softmax(dim=-1)[
                torch.arange(n, device=logits.device), labels[:n]]
            own = targets.segment_ids[inside.video, inside.point] == \
                inside.segment  # the point is a positive of this segment
            self._update(
                torch.cat([inside.position[fine], inside.position[own],
                           inside.position[own]]),
                torch.cat([inside.label[fine] * 3, inside.label[own] * 3 + 1,
                           inside.label[own] * 3 + 2]),
                torch.cat([cls_quality, quality[own, 1], quality[own, 2]]))
        return self.fit_weight * loss

    def _background(self, background: Tensor) -> Tuple[Tensor, Tensor]:
        """Up to ``num_background`` random background points per video."""
        score = torch.rand(background.shape, device=background.device)
        score = score.masked_fill(~background, -1.0)
        k = min(self.num_background, background.shape[1])
        top, point = score.topk(k, dim=1)
        video = torch.arange(background.shape[0], device=background.device
                             )[:, None].expand_as(point)
        keep = top >= 0
        return video[keep], point[keep]

    @torch.no_grad()
    def _update(self, x: Tensor, rows: Tensor, values: Tensor) -> None:
        """Running histograms (summed over processes) and the refit."""
        sums, counts = histogram_increments(x, rows, values,
                                            self.num_classes * 3,
                                            self.num_bins)
        if dist.is_available() and dist.is_initialized():
            both = torch.stack([sums, counts])
            dist.all_reduce(both)
            sums, counts = both.unbind(0)
        self.quality_sum.mul_(self.momentum).add_(sums)
        self.quality_count.mul_(self.momentum).add_(counts)
        means = self.quality_sum / self.quality_count.clamp(min=1e-12)
        centres = bin_centres(self.num_bins, device=means.device)
        mus = torch.linspace(-0.5, 0.5, 41, device=means.device)
        mu, sigma, amplitude, baseline = fit_gaussian_bumps(
            means, self.quality_count, centres, mus, self.fit_sigmas)
        shape = (self.num_classes, 3)
        self.mu.copy_(mu.view(shape))
        self.sigma.copy_(sigma.view(shape))
        self.amplitude.copy_(amplitude.view(shape))
        self.baseline.copy_(baseline.view(shape))

    def _check_labels(self, labels: Tensor) -> None:
        if labels.numel() and (labels.min() < 0 or
                               labels.max() >= self.num_classes):
            raise ValueError(f'ClassSensitivityEvaluator: labels must be in '
                             f'[0, {self.num_classes}), got '
                             f'[{int(labels.min())}, {int(labels.max())}]')

    # ------------------------------------------------------------ logging
    def _reset_running(self) -> None:
        # Plain attributes, not buffers: they are logging state, must not
        # enter checkpoints nor be broadcast by DDP.
        self._weight_sum = None  # [K, 4] sums of cls, loc, cls^2, loc^2
        self._count = None  # [K] positive points seen

    @torch.no_grad()
    def _accumulate(self, labels: Tensor, w_cls: Tensor,
                    w_loc: Tensor) -> None:
        if self._weight_sum is None or \
                self._weight_sum.device != labels.device:
            self._weight_sum = torch.zeros(self.num_classes, 4,
                                           device=labels.device)
            self._count = torch.zeros(self.num_classes, device=labels.device)
        w = torch.stack([w_cls, w_loc], dim=1).float()
        w = torch.cat([w, w.pow(2)], dim=1)
        self._weight_sum.index_add_(0, labels, w)
        self._count.index_add_(0, labels, torch.ones_like(w_cls).float())

    @torch.no_grad()
    def stats(self) -> Dict[str, Tensor]:
        """Learned profiles and mean positive weights since the last call,
        on the CPU; resets the running sums.

        In the rescaled modes the mean weight is 1 by construction; the
        mean *squared* weight (1 for flat weights, up to the number of
        points of a segment when one point takes everything) then shows
        how peaked the profiles are.

        Returns:
            dict: ``mu`` and ``sigma`` ``[K, 3]`` (columns
            :data:`SENSITIVITY_TASKS`, effective sigma), ``mode``; since the
            last reset ``weight_sum`` and ``weight_sq_sum`` ``[K, 2]``
            (columns cls, loc), ``count`` ``[K]``, and their ratios
            ``mean_weight`` and ``mean_sq_weight`` ``[K, 2]`` (NaN for
            classes without points).
        """
        if self._weight_sum is None:
            sums = torch.zeros(self.num_classes, 4)
            count = torch.zeros(self.num_classes)
        else:
            sums, count = self._weight_sum.cpu(), self._count.cpu()
        mean = sums / count[:, None]  # 0 / 0 -> NaN: no points
        self._reset_running()
        return dict(mu=self.mu.detach().float().cpu(),
                    sigma=self.effective_sigma().detach().float().cpu(),
                    mode=self.mode, weight_sum=sums[:, :2],
                    weight_sq_sum=sums[:, 2:], count=count,
                    mean_weight=mean[:, :2], mean_sq_weight=mean[:, 2:])
