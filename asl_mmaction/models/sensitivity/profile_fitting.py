"""Fitting a per-class sensitivity profile ``baseline + amplitude *
gaussian(x; mu, sigma)`` to how a quality varies with the relative position
``x`` of a point inside its action (-0.5 start, +0.5 end).

The quality of a class's points is pooled into a histogram over ``x``
(means per bin, with their counts), and the profile is the weighted
least-squares fit of that histogram. For a given (mu, sigma) the fit is
linear in (baseline, amplitude), so it is solved in closed form for every
(mu, sigma) of a grid and the best kept: no initialisation to get wrong,
no local minimum to get stuck in (a Gaussian's mu learned by gradient
descent from the centre rarely finds a peak near the edge).
"""
from typing import Sequence, Tuple

import torch
from torch import Tensor


def log_gaussian(x: Tensor, mu: Tensor, sigma: Tensor) -> Tensor:
    """``log exp(-(x - mu)^2 / (2 sigma^2))``: the log of the package's one
    Gaussian (peak 1 at ``mu``)."""
    return -(x - mu).pow(2) / (2 * sigma.pow(2))


def gaussian(x: Tensor, mu: Tensor, sigma: Tensor) -> Tensor:
    """Unnormalised Gaussian ``exp(-(x - mu)^2 / (2 sigma^2))``, peak 1."""
    return log_gaussian(x, mu, sigma).exp()


def histogram_increments(x: Tensor, rows: Tensor, values: Tensor,
                         num_rows: int, num_bins: int
                         ) -> Tuple[Tensor, Tensor]:
    """Per row and bin of ``x``, the sum of ``values`` and the count.

    Args:
        x (Tensor): ``[Q]`` positions in ``[-0.5, 0.5]`` (clipped).
        rows (LongTensor): ``[Q]`` row of each value (e.g.
            ``class * 3 + task``).
        values (Tensor): ``[Q]``.
        num_rows (int): ``R``.
        num_bins (int): ``N``, equal bins over ``[-0.5, 0.5]``.

    Returns:
        tuple: ``sums [R, N]`` and ``counts [R, N]`` (float32).
    """
    bins = ((x.float() + 0.5) * num_bins).long().clamp(0, num_bins - 1)
    flat = rows * num_bins + bins
    sums = torch.zeros(num_rows * num_bins, device=x.device).index_add(
        0, flat, values.float())
    counts = torch.zeros(num_rows * num_bins, device=x.device).index_add(
        0, flat, torch.ones_like(values, dtype=torch.float32))
    return sums.view(num_rows, num_bins), counts.view(num_rows, num_bins)


def bin_centres(num_bins: int, device=None) -> Tensor:
    """``[N]`` centres of the equal bins over ``[-0.5, 0.5]``."""
    return (torch.arange(num_bins, device=device, dtype=torch.float32)
            + 0.5) / num_bins - 0.5


def fit_gaussian_bumps(means: Tensor, counts: Tensor, centres: Tensor,
                       mus: Tensor, sigmas: Sequence[float],
                       min_baseline: float = 1e-3
                       ) -> Tuple[Tensor, Tensor, Tensor, Tensor]:
    """Weighted least squares of ``baseline + amplitude * g(x; mu, sigma)``
    (``amplitude >= 0``) to each row's binned means, over a grid of
    (mu, sigma).

    Args:
        means (Tensor): ``[R, N]`` mean quality per bin.
        counts (Tensor): ``[R, N]`` weight of each bin (0: no data).
        centres (Tensor): ``[N]`` bin centres.
        mus (Tensor): ``[G]`` candidate mu.
        sigmas (Sequence[float]): candidate sigma.
        min_baseline (float): Floor of the baseline, so the profile stays
            positive.

    Returns:
        tuple: ``mu, sigma, amplitude, baseline``, each ``[R]``. A row
        without data gets a flat profile (amplitude 0, baseline 1); a row
        whose best bump is not above its baseline gets amplitude 0 and
        its weighted mean as baseline. Flat rows report mu 0 and the
        largest sigma.
    """
    sig = torch.as_tensor(list(sigmas), dtype=torch.float32,
                          device=means.device)
    mu_grid = mus.to(means.device).float()
    # [M, N] Gaussians of every (mu, sigma) pair at the bin centres
    mu_all = mu_grid.repeat(len(sig))
    sig_all = sig.repeat_interleave(len(mu_grid))
    g = gaussian(centres[None], mu_all[:, None], sig_all[:, None])
    c, q = counts.float(), means.float() * (counts > 0)
    s0 = c.sum(dim=1, keepdim=True)  # [R, 1]
    t0 = (c * q).sum(dim=1, keepdim=True)
    s1 = c @ g.t()  # [R, M]
    s2 = c @ g.pow(2).t()
    t1 = (c * q) @ g.t()
    det = s0 * s2 - s1.pow(2)
    amp = torch.where(det > 1e-12, (s0 * t1 - s1 * t0) / det.clamp(1e-12),
                      torch.zeros_like(det)).clamp(min=0)
    base = (t0 - amp * s1) / s0.clamp(min=1e-12)
    qq = (c * q.pow(2)).sum(dim=1, keepdim=True)
    resid = qq - 2 * (base * t0 + amp * t1) + base.pow(2) * s0 + \
        2 * amp * base * s1 + amp.pow(2) * s2
    best = resid.argmin(dim=1)  # ties: the first (smallest sigma, mu)
    rows = torch.arange(means.shape[0], device=means.device)
    mu, sigma = mu_all[best], sig_all[best]
    amplitude, baseline = amp[rows, best], base[rows, best]
    empty = s0[:, 0] <= 0
    # no bump above rounding noise: the flat fit, the weighted mean
    flat = amplitude <= 1e-6 * baseline.abs().clamp(min=1e-6)
    amplitude = amplitude.masked_fill(flat, 0.0)
    baseline = torch.where(flat, t0[:, 0] / s0[:, 0].clamp(min=1e-12),
                           baseline)
    amplitude = amplitude.masked_fill(empty, 0.0)
    baseline = baseline.masked_fill(empty, 1.0).clamp(min=min_baseline)
    flat = amplitude <= 0
    mu = mu.masked_fill(flat, 0.0)
    sigma = sigma.masked_fill(flat, float(sig.max()))
    return mu, sigma, amplitude, baseline
