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
    Each class's profiles are *fitted to the detector's own per-point
    quality* over every point inside that class's segments, at every level
    (GT-class confidence for ``cls``; start / end accuracy of the point's
    own prediction for ``start`` / ``end``), and the losses' gradients do
    not reach them. A point's *excess* quality (above its segment's mean,
    so a segment's overall difficulty does not count) weighs its position:
    mu and sigma are the weighted mean and spread of the positions
    (a weighted Gaussian log-likelihood, convex in mu, so the fit cannot
    get stuck), and ``baseline + amplitude * gaussian`` is fitted to the
    quality by least squares (flat quality gives a flat profile). The
    profile then says where in the class's actions the detector does well,
    and the loss weights follow it (each segment's weights rescaled to mean
    1 over its positive points). Learned through the losses they weight,
    the other two modes instead drift towards the points with the lowest
    loss; see ``docs/components/sensitivity.md`` for the measurements
    behind the choice.
"""
from typing import Dict, Optional, Tuple

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch import Tensor
from mmaction.registry import MODELS

from ..heads.plugins import SENSITIVITY_TASKS, BaseClassSensitivity
from ..task_modules.dense_targets import SegmentPoints

_INIT_MU = (0.0, -0.5, 0.5)
_MODES = ('fitted', 'normalized', 'reference')
_LOG_HALF = -0.6931471805599453
# fitted mode: penalty on the amplitude, relative to the squared error
AMPLITUDE_RIDGE = 0.01


def log_gaussian(x: Tensor, mu: Tensor, sigma: Tensor) -> Tensor:
    """``log exp(-(x - mu)^2 / (2 sigma^2))``: the log of the package's one
    Gaussian (peak 1 at ``mu``)."""
    return -(x - mu).pow(2) / (2 * sigma.pow(2))


def gaussian(x: Tensor, mu: Tensor, sigma: Tensor) -> Tensor:
    """Unnormalised Gaussian ``exp(-(x - mu)^2 / (2 sigma^2))``, peak 1."""
    return log_gaussian(x, mu, sigma).exp()


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
        mode (str): ``'fitted'`` (default), ``'normalized'`` or
            ``'reference'`` (see the module docstring).
        sigma_min (float): Lower bound of sigma (in segment lengths) in the
            ``fitted`` / ``normalized`` modes; sigma is
            ``sigma_min + softplus(s)`` of the stored parameter ``s``, so
            the bound is smooth and gradients never stop. Positive points
            of one segment span roughly ``x in [-0.4, 0.4]`` with
            ActionFormer's centre sampling, so 0.2 still lets a profile
            favour one side strongly. Defaults to 0.2.
        init_amplitude (float): ``fitted`` mode: initial amplitude, and
            initial baseline ``1 - init_amplitude``. Defaults to 0.5.
        fit_weight (float): ``fitted`` mode: multiplier of the fit loss.
        eps (float): Floor of the segment length (steps).

    Parameters: ``mu`` and ``sigma`` ``[K, 3]`` (columns
    :data:`SENSITIVITY_TASKS`); in ``fitted`` mode also ``amplitude`` and
    ``baseline`` ``[K, 3]`` (stored through softplus).
    """

    def __init__(self, num_classes: int, mode: str = 'fitted',
                 sigma_min: float = 0.2, init_amplitude: float = 0.5,
                 fit_weight: float = 1.0, eps: float = 1e-6) -> None:
        super().__init__()
        if mode not in _MODES:
            raise ValueError(f'ClassSensitivityEvaluator: unknown mode '
                             f'"{mode}", use one of {_MODES}')
        if num_classes < 1:
            raise ValueError(f'num_classes must be >= 1, got {num_classes}')
        if mode != 'reference' and not 0.0 <= sigma_min < 1.0:
            raise ValueError(f'sigma_min must be in [0, 1) so that the '
                             f'initial sigma 1 is reachable, got {sigma_min}')
        if not 0.0 < init_amplitude < 1.0:
            raise ValueError(f'init_amplitude must be in (0, 1), got '
                             f'{init_amplitude}')
        self.num_classes = num_classes
        self.mode = mode
        self.sigma_min = sigma_min
        self.fit_weight = fit_weight
        self.eps = eps
        self.mu = nn.Parameter(torch.tensor(_INIT_MU).repeat(num_classes, 1))
        # stored so that the effective sigma starts at 1 in every mode
        init_sigma = 1.0 if mode == 'reference' else \
            _softplus_inverse(1.0 - sigma_min)
        self.sigma = nn.Parameter(torch.full((num_classes, 3), init_sigma))
        if mode == 'fitted':
            self.amplitude = nn.Parameter(torch.full(
                (num_classes, 3), _softplus_inverse(init_amplitude)))
            self.baseline = nn.Parameter(torch.full(
                (num_classes, 3), _softplus_inverse(1.0 - init_amplitude)))
        self._reset_running()

    # ----------------------------------------------------------- profiles
    def effective_sigma(self) -> Tensor:
        """``[K, 3]`` sigma used in the Gaussians."""
        if self.mode == 'reference':
            return self.sigma
        return self.sigma_min + F.softplus(self.sigma)

    def _log_profile(self, x: Tensor, labels: Tensor) -> Tensor:
        """``[Q, 3]`` log profile at positions ``x [Q]`` of classes
        ``labels [Q]``."""
        log_g = log_gaussian(x[:, None], self.mu[labels],
                             self.effective_sigma()[labels])
        if self.mode != 'fitted':
            return log_g
        amp = F.softplus(self.amplitude[labels])
        base = F.softplus(self.baseline[labels])
        return torch.log(base + amp * log_g.exp())

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
            if self.mode == 'fitted':  # learned by fit_loss only
                log_p = log_p.detach()
            ids = compact_ids(positives.segment)
            # log of mean(start, end)
            log_loc = torch.logsumexp(log_p[:, 1:], dim=1) + _LOG_HALF
            w_cls = rescale_to_unit_mean(log_p[:, 0], ids)
            w_loc = rescale_to_unit_mean(log_loc, ids)
        if self.training:
            self._accumulate(positives.label, w_cls, w_loc)
        return w_cls, w_loc

    def fit_loss(self, pairs: SegmentPoints,
                 quality: Tensor) -> Optional[Tensor]:
        """``fitted`` mode: the fit of the profiles to the detached quality
        ``[Q, 3]`` of the points inside segments (see the module
        docstring), summed over the three tasks, times ``fit_weight``;
        None in the other modes."""
        if self.mode != 'fitted':
            return None
        if len(pairs) == 0:
            return sum(p.sum() for p in self.parameters()) * 0.0
        self._check_labels(pairs.label)
        x, labels = pairs.position.float()[:, None], pairs.label
        quality = quality.detach().float()
        mu, sigma = self.mu[labels], self.effective_sigma()[labels]
        # where: weighted Gaussian log-likelihood of the positions, the
        # weights being the quality above the segment's mean
        ids = compact_ids(pairs.segment)
        count = torch.bincount(ids).to(quality.dtype)[:, None]
        seg_mean = quality.new_zeros(count.shape[0], 3).index_add(
            0, ids, quality) / count
        excess = (quality - seg_mean[ids]).clamp(min=0)
        nll = (x - mu).pow(2) / (2 * sigma.pow(2)) + torch.log(sigma)
        where = (excess * nll).sum(dim=0) / excess.sum(dim=0).clamp_min(
            1e-6)
        # how much: baseline + amplitude * gaussian against the quality,
        # the Gaussian's position and width held fixed here; a small ridge
        # on the amplitude settles the flat case on a flat profile
        g = gaussian(x, mu.detach(), sigma.detach())
        amplitude = F.softplus(self.amplitude[labels])
        fitted = F.softplus(self.baseline[labels]) + amplitude * g
        how_much = ((fitted - quality).pow(2) +
                    AMPLITUDE_RIDGE * amplitude.pow(2)).mean(dim=0)
        return self.fit_weight * (where + how_much).sum()

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
