"""Plots of the learned class-level sensitivity Gaussians.

``ClassSensitivityEvaluator`` (``asl_mmaction/models/sensitivity/``) keeps,
per class, three Gaussians over the relative position ``x`` of a point
inside its ground-truth segment: ``cls`` (classification weight), ``start``
and ``end`` (localization; their mean is the regression weight). ``x`` is
``(t - centre) / length``, so -0.5 is the segment start and +0.5 its end
(``mode='reference'`` divides by ``stride * length`` instead; the x axis
then is in those units). One panel per chosen class shows the three curves,
the regression weight ``mean(start, end)`` (dashed; times ``cls`` in
reference mode, as the evaluator computes it) and the segment bounds.

The curves are the Gaussians with peak 1. In the evaluator's ``normalized``
mode every segment's weights are further rescaled to mean 1 over its
positive points; that rescaling depends on the segment, so the plot shows
the shape the weights follow, which is what the parameters encode.
"""
import os
import os.path as osp
from typing import Optional, Sequence, Tuple, Union

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

TASK_STYLES = (('cls', 'tab:blue', '-'), ('start', 'tab:green', '-'),
               ('end', 'tab:red', '-'))


def _to_numpy(value) -> np.ndarray:
    if hasattr(value, 'detach'):
        value = value.detach().cpu().numpy()
    return np.asarray(value, dtype=np.float64)


def sensitivity_parameters(stats_or_module) -> Tuple[np.ndarray, np.ndarray,
                                                      str]:
    """``mu`` [K, 3], effective ``sigma`` [K, 3] (columns cls, start, end)
    and the evaluator mode.

    Args:
        stats_or_module: a ``ClassSensitivityEvaluator`` (its parameters are
            read; ``stats()`` is not called because it resets the running
            weight sums the training log uses), or a dict as ``stats()``
            returns (``mu``, ``sigma`` already effective, optional ``mode``).
    """
    if isinstance(stats_or_module, dict):
        missing = {'mu', 'sigma'} - set(stats_or_module)
        if missing:
            raise KeyError(f'sensitivity stats lack {sorted(missing)}; '
                           'expected the dict of '
                           'ClassSensitivityEvaluator.stats()')
        mu, sigma = stats_or_module['mu'], stats_or_module['sigma']
        mode = stats_or_module.get('mode', 'normalized')
    elif hasattr(stats_or_module, 'mu') and hasattr(stats_or_module,
                                                    'effective_sigma'):
        mu = stats_or_module.mu
        sigma = stats_or_module.effective_sigma()
        mode = getattr(stats_or_module, 'mode', 'normalized')
    else:
        raise TypeError('expected a ClassSensitivityEvaluator or its stats() '
                        f'dict, got {type(stats_or_module).__name__}')
    mu, sigma = _to_numpy(mu), _to_numpy(sigma)
    if mu.ndim != 2 or mu.shape[1] != 3 or sigma.shape != mu.shape:
        raise ValueError(f'mu / sigma must both be [K, 3], got '
                         f'{mu.shape} and {sigma.shape}')
    if (sigma <= 0).any():
        raise ValueError('sigma must be positive (pass the effective sigma, '
                         'as stats() returns it)')
    return mu, sigma, mode


def gaussian_curves(mu: np.ndarray, sigma: np.ndarray, x: np.ndarray,
                    mode: str = 'normalized') -> dict:
    """Curves of one class over positions ``x`` [P].

    Args:
        mu, sigma (np.ndarray): [3] for (cls, start, end).

    Returns:
        dict: ``cls``, ``start``, ``end``, ``loc`` -> [P] arrays (peak 1).
    """
    g = np.exp(-(x[:, None] - mu[None]) ** 2 / (2 * sigma[None] ** 2))
    loc = g[:, 1:].mean(axis=1)
    if mode == 'reference':
        loc = loc * g[:, 0]  # the released code multiplies by cls
    return dict(cls=g[:, 0], start=g[:, 1], end=g[:, 2], loc=loc)


def draw_sensitivity_curves(stats_or_module, class_ids: Sequence[int],
                            class_names: Optional[Sequence[str]] = None,
                            out_path: Optional[str] = None,
                            x_range: Tuple[float, float] = (-0.75, 0.75),
                            ncols: int = 3, num_points: int = 301
                            ) -> Figure:
    """One panel per class in ``class_ids``; PNG to ``out_path``.

    Args:
        stats_or_module: see :func:`sensitivity_parameters`.
        class_ids (sequence[int]): classes to draw.
        class_names (sequence[str], optional): names by class id.
        out_path (str, optional): PNG to write; None only returns the figure.
        x_range (tuple): plotted positions; the segment is [-0.5, 0.5],
            a margin shows where the Gaussians sit outside it.
        ncols (int): panels per row.

    Returns:
        Figure: with ``len(class_ids)`` panels.
    """
    mu, sigma, mode = sensitivity_parameters(stats_or_module)
    class_ids = [int(c) for c in class_ids]
    if not class_ids:
        raise ValueError('draw_sensitivity_curves: no class chosen')
    bad = [c for c in class_ids if not 0 <= c < len(mu)]
    if bad:
        raise ValueError(f'class ids {bad} outside the {len(mu)} classes '
                         'of the sensitivity evaluator')
    ncols = max(1, min(ncols, len(class_ids)))
    nrows = -(-len(class_ids) // ncols)
    fig = Figure(figsize=(4.2 * ncols, 3.0 * nrows), dpi=100)
    FigureCanvasAgg(fig)
    grid = fig.subplots(nrows, ncols, squeeze=False)
    x = np.linspace(x_range[0], x_range[1], num_points)
    for i, ax in enumerate(grid.flat):
        if i >= len(class_ids):
            fig.delaxes(ax)  # empty slot of the last row
            continue
        _draw_class(ax, class_ids[i], mu[class_ids[i]], sigma[class_ids[i]],
                    x, mode, class_names)
    xlabel = ('(t - centre) / (stride * length)' if mode == 'reference'
              else '(t - centre) / segment length')
    fig.suptitle(f'class-level sensitivity ({mode} mode); x = {xlabel}',
                 fontsize=10)
    fig.tight_layout()
    if out_path is not None:
        os.makedirs(osp.dirname(osp.abspath(out_path)), exist_ok=True)
        fig.savefig(out_path, dpi=fig.dpi)
    return fig


def _draw_class(ax, class_id: int, mu: np.ndarray, sigma: np.ndarray,
                x: np.ndarray, mode: str,
                class_names: Optional[Sequence[str]]) -> None:
    curves = gaussian_curves(mu, sigma, x, mode)
    for k, (task, color, style) in enumerate(TASK_STYLES):
        ax.plot(x, curves[task], color=color, linestyle=style,
                label=f'{task}: mu={mu[k]:+.2f} sigma={sigma[k]:.2f}')
    ax.plot(x, curves['loc'], color='black', linestyle='--', linewidth=1,
            label='regression weight')
    for bound in (-0.5, 0.5):
        ax.axvline(bound, color='gray', linewidth=0.8, linestyle=':')
    name = (class_names[class_id] if class_names is not None
            and class_id < len(class_names) else f'class {class_id}')
    ax.set_title(f'{class_id}: {name}', fontsize=9)
    ax.set_ylim(0, 1.05)
    ax.set_xlim(x[0], x[-1])
    ax.set_xlabel('position in segment (start -0.5, end +0.5)', fontsize=7)
    ax.set_ylabel('weight (peak 1)', fontsize=7)
    ax.tick_params(labelsize=7)
    ax.legend(fontsize=6, loc='lower center')


def find_class_sensitivity(model) -> Union[object, None]:
    """The first ``ClassSensitivityEvaluator`` among ``model.modules()``."""
    for module in model.modules():
        if type(module).__name__ == 'ClassSensitivityEvaluator':
            return module
    return None
