"""ASL's class-level sensitivity: learnable Gaussians over the position of a
point inside its ground-truth segment, one set per action class.

Each class ``k`` has three Gaussians over the relative position ``x`` of a
positive point (``x = 0`` at the segment centre, ``-0.5`` at its start and
``+0.5`` at its end in ``normalized`` mode):

- ``cls``: weight of the point's classification loss (init mu 0, sigma 1);
- ``start`` / ``end``: the two localization Gaussians (init mu -0.5 / +0.5,
  sigma 1), averaged into the regression-loss weight.

``mode='reference'`` reproduces the authors' released code: the weights are
the raw Gaussians, ``x`` is divided by ``stride * length`` and the
regression weight is ``mean(start, end) * cls``. The released code measures
``centre - t`` where we measure ``t - centre``; the Gaussian is symmetric, so
this only mirrors mu (its "left" Gaussian, mu -0.5, is our ``end`` one) and
every weight and gradient magnitude is identical.

``mode='normalized'`` divides by the length only, keeps sigma above
``sigma_min`` and rescales each segment's weights to mean 1 over its
positive points. Learned through the losses they weight, raw Gaussians can
lower the loss by shrinking every weight (mu far away or sigma to 0);
with a fixed per-segment mean only the *shape* can change, so the weights
move loss towards the points that matter instead of switching it off.
"""
from typing import Dict

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch import Tensor
from mmaction.registry import MODELS

TASKS = ('cls', 'start', 'end')
_INIT_MU = (0.0, -0.5, 0.5)
_MODES = ('normalized', 'reference')


def gaussian(x: Tensor, mu: Tensor, sigma: Tensor) -> Tensor:
    """Unnormalised Gaussian ``exp(-(x - mu)^2 / (2 sigma^2))``, peak 1."""
    return torch.exp(-(x - mu).pow(2) / (2 * sigma.pow(2)))


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


@MODELS.register_module()
class ClassSensitivityEvaluator(nn.Module):
    """Per-class Gaussian weights of the positive points' losses.

    Args:
        num_classes (int): Number of action classes ``K``.
        mode (str): ``'normalized'`` (default) or ``'reference'`` (see the
            module docstring).
        sigma_min (float): Lower bound of sigma in ``normalized`` mode, in
            segment lengths. Sigma is ``sigma_min + softplus(s)`` of the
            stored parameter ``s``, so the bound is smooth and gradients
            never stop. Positive points of one segment span roughly
            ``x in [-0.4, 0.4]`` with ActionFormer's centre sampling, so 0.2
            still lets a Gaussian favour one side strongly. Defaults to 0.2.
        eps (float): Floor of the segment length (steps). Defaults to 1e-6.

    Parameters ``mu`` and ``sigma`` are ``[K, 3]``, columns
    ``('cls', 'start', 'end')``.
    """

    def __init__(self, num_classes: int, mode: str = 'normalized',
                 sigma_min: float = 0.2, eps: float = 1e-6) -> None:
        super().__init__()
        if mode not in _MODES:
            raise ValueError(f'ClassSensitivityEvaluator: unknown mode '
                             f'"{mode}", use one of {_MODES}')
        if num_classes < 1:
            raise ValueError(f'num_classes must be >= 1, got {num_classes}')
        if mode == 'normalized' and not 0.0 <= sigma_min < 1.0:
            raise ValueError(f'sigma_min must be in [0, 1) so that the '
                             f'initial sigma 1 is reachable, got {sigma_min}')
        self.num_classes = num_classes
        self.mode = mode
        self.sigma_min = sigma_min
        self.eps = eps
        self.mu = nn.Parameter(torch.tensor(_INIT_MU).repeat(num_classes, 1))
        # stored so that the effective sigma starts at 1 in both modes
        init_sigma = 1.0
        if mode == 'normalized':
            init_sigma = _softplus_inverse(1.0 - sigma_min)
        self.sigma = nn.Parameter(torch.full((num_classes, 3), init_sigma))
        self._reset_running()

    # ------------------------------------------------------------ weights
    def effective_sigma(self) -> Tensor:
        """``[K, 3]`` sigma used in the Gaussians."""
        if self.mode == 'normalized':
            return self.sigma_min + F.softplus(self.sigma)
        return self.sigma

    def forward(self, points: Tensor, strides: Tensor, segments: Tensor,
                labels: Tensor, segment_ids: Tensor) -> Dict[str, Tensor]:
        """Weights of ``M`` positive points.

        Args:
            points (Tensor): ``[M]`` point positions (feature steps).
            strides (Tensor): ``[M]`` pyramid stride of each point.
            segments (Tensor): ``[M, 2]`` assigned ground truth (steps).
            labels (LongTensor): ``[M]`` class of the assigned segment.
            segment_ids (LongTensor): ``[M]`` id of the assigned segment,
                unique per ground truth in the batch.

        Returns:
            dict: non-negative ``[M]`` tensors ``cls`` (classification
            weight), ``start`` and ``end`` (raw localization Gaussians) and
            ``loc`` (regression weight).
        """
        self._check_inputs(points, strides, segments, labels, segment_ids)
        if points.numel() == 0:
            # zeros that still reach mu / sigma, for DDP
            zero = points.new_zeros(0) + 0 * (self.mu.sum() +
                                              self.sigma.sum())
            return dict(cls=zero, start=zero, end=zero, loc=zero)
        pos = self.relative_position(points.float(), strides.float(),
                                     segments.float())
        mu, sigma = self.mu[labels], self.effective_sigma()[labels]  # [M, 3]
        if self.mode == 'reference':
            g = gaussian(pos[:, None], mu, sigma)
            start, end = g[:, 1], g[:, 2]
            out = dict(cls=g[:, 0], start=start, end=end,
                       loc=(start + end) / 2 * g[:, 0])
        else:
            # log-space so the rescaling survives underflowing Gaussians
            log_g = -(pos[:, None] - mu).pow(2) / (2 * sigma.pow(2))
            ids = compact_ids(segment_ids)
            # log of mean(start, end)
            log_loc = torch.logsumexp(log_g[:, 1:], dim=1) - 0.6931471805599453
            out = dict(cls=rescale_to_unit_mean(log_g[:, 0], ids),
                       start=log_g[:, 1].exp(), end=log_g[:, 2].exp(),
                       loc=rescale_to_unit_mean(log_loc, ids))
        if self.training:
            self._accumulate(labels, out['cls'], out['loc'])
        return out

    def relative_position(self, points: Tensor, strides: Tensor,
                          segments: Tensor) -> Tensor:
        """``(t - centre) / length`` (normalized) or ``/ (stride * length)``
        (reference); ``[M]``."""
        centre = (segments[:, 0] + segments[:, 1]) / 2
        scale = (segments[:, 1] - segments[:, 0]).clamp_min(self.eps)
        if self.mode == 'reference':
            scale = scale * strides
        return (points - centre) / scale

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
        """Learned Gaussians and mean positive weights since the last call,
        on the CPU; resets the running sums.

        In ``normalized`` mode the mean weight is 1 by construction; the
        mean *squared* weight (1 for flat weights, up to the number of
        points of a segment when one point takes everything) then shows
        how peaked the Gaussians have become.

        Returns:
            dict: ``mu`` and ``sigma`` ``[K, 3]`` (columns :data:`TASKS`,
            effective sigma); since the last reset ``weight_sum`` and
            ``weight_sq_sum`` ``[K, 2]`` (columns cls, loc), ``count``
            ``[K]``, and their ratios ``mean_weight`` and
            ``mean_sq_weight`` ``[K, 2]`` (NaN for classes without points).
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
                    weight_sum=sums[:, :2], weight_sq_sum=sums[:, 2:],
                    count=count, mean_weight=mean[:, :2],
                    mean_sq_weight=mean[:, 2:])

    # --------------------------------------------------------- validation
    def _check_inputs(self, points, strides, segments, labels,
                      segment_ids) -> None:
        m = points.shape[0]
        shapes = dict(points=(points, (m,)), strides=(strides, (m,)),
                      segments=(segments, (m, 2)), labels=(labels, (m,)),
                      segment_ids=(segment_ids, (m,)))
        for name, (t, shape) in shapes.items():
            if tuple(t.shape) != shape:
                raise ValueError(f'ClassSensitivityEvaluator: {name} has '
                                 f'shape {tuple(t.shape)}, expected {shape}')
        if m and (labels.min() < 0 or labels.max() >= self.num_classes):
            raise ValueError(f'ClassSensitivityEvaluator: labels must be in '
                             f'[0, {self.num_classes}), got '
                             f'[{int(labels.min())}, {int(labels.max())}]')


def _softplus_inverse(y: float) -> float:
    """``s`` with ``softplus(s) = y`` (``y > 0``)."""
    return float(torch.log(torch.expm1(torch.tensor(y))))
