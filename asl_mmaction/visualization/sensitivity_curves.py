"""Plots of the learned class-level sensitivity profiles.

A class-sensitivity plug-in (``BaseClassSensitivity``, e.g.
``ClassSensitivityEvaluator``) describes, per class, how much a point
matters for classification (``cls``) and for locating the start / end, as a
function of its relative position ``x`` inside its ground-truth segment
(``(t - centre) / length``: -0.5 start, +0.5 end). The plot draws what the
plug-in's own ``curves(x)`` returns (stride 1 where a mode depends on it),
so every plug-in is drawn by its own rule; one panel per chosen class shows
the three curves, the regression weight (dashed: ``mean(start, end)``,
times ``cls`` in ``reference`` mode, as the evaluator weighs) and the
segment bounds.

Each curve is scaled to peak 1 over the plotted range: the loss weights of
a segment are rescaled to mean 1 (in the modes that do so), so the shape is
what the profile encodes.
"""
import os
import os.path as osp
from typing import Optional, Sequence, Tuple, Union

import numpy as np
import torch
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

TASK_STYLES = (('cls', 'tab:blue', '-'), ('start', 'tab:green', '-'),
               ('end', 'tab:red', '-'))


def profile_curves(module, x: np.ndarray) -> np.ndarray:
    """``[K, 4, X]`` curves of every class at positions ``x``: the
    plug-in's cls, start, end and the regression weight, each scaled to
    peak 1."""
    if not hasattr(module, 'curves'):
        raise TypeError(f'expected a class-sensitivity plug-in with '
                        f'curves(), got {type(module).__name__}')
    with torch.no_grad():
        curves = module.curves(torch.as_tensor(x, dtype=torch.float32))
    curves = curves.detach().cpu().double().numpy()  # [K, 3, X]
    loc = curves[:, 1:].mean(axis=1, keepdims=True)
    if getattr(module, 'mode', None) == 'reference':
        loc = loc * curves[:, :1]  # the released code multiplies by cls
    out = np.concatenate([curves, loc], axis=1)
    return out / np.maximum(out.max(axis=2, keepdims=True), 1e-12)


def draw_sensitivity_curves(module, class_ids: Sequence[int],
                            class_names: Optional[Sequence[str]] = None,
                            out_path: Optional[str] = None,
                            x_range: Tuple[float, float] = (-0.75, 0.75),
                            ncols: int = 3, num_points: int = 301
                            ) -> Figure:
    """One panel per class in ``class_ids``; PNG to ``out_path``.

    Args:
        module: a class-sensitivity plug-in (``curves()``).
        class_ids (sequence[int]): classes to draw.
        class_names (sequence[str], optional): names by class id.
        out_path (str, optional): PNG to write; None only returns the figure.
        x_range (tuple): plotted positions; the segment is [-0.5, 0.5],
            a margin shows where the profiles sit outside it.
        ncols (int): panels per row.

    Returns:
        Figure: with ``len(class_ids)`` panels.
    """
    x = np.linspace(x_range[0], x_range[1], num_points)
    curves = profile_curves(module, x)
    class_ids = [int(c) for c in class_ids]
    if not class_ids:
        raise ValueError('draw_sensitivity_curves: no class chosen')
    bad = [c for c in class_ids if not 0 <= c < len(curves)]
    if bad:
        raise ValueError(f'class ids {bad} outside the {len(curves)} classes '
                         'of the sensitivity module')
    ncols = max(1, min(ncols, len(class_ids)))
    nrows = -(-len(class_ids) // ncols)
    fig = Figure(figsize=(4.2 * ncols, 3.0 * nrows), dpi=100)
    FigureCanvasAgg(fig)
    grid = fig.subplots(nrows, ncols, squeeze=False)
    mu = getattr(module, 'mu', None)
    for i, ax in enumerate(grid.flat):
        if i >= len(class_ids):
            fig.delaxes(ax)  # empty slot of the last row
            continue
        c = class_ids[i]
        _draw_class(ax, c, curves[c], x, class_names,
                    None if mu is None else mu[c].detach().cpu().numpy())
    mode = getattr(module, 'mode', type(module).__name__)
    fig.suptitle(f'class-level sensitivity ({mode}); x = (t - centre) / '
                 'segment length', fontsize=10)
    fig.tight_layout()
    if out_path is not None:
        os.makedirs(osp.dirname(osp.abspath(out_path)), exist_ok=True)
        fig.savefig(out_path, dpi=fig.dpi)
    return fig


def _draw_class(ax, class_id: int, curves: np.ndarray, x: np.ndarray,
                class_names: Optional[Sequence[str]],
                mu: Optional[np.ndarray]) -> None:
    for k, (task, color, style) in enumerate(TASK_STYLES):
        label = task if mu is None else f'{task}: peak at {mu[k]:+.2f}'
        ax.plot(x, curves[k], color=color, linestyle=style, label=label)
    ax.plot(x, curves[3], color='black', linestyle='--', linewidth=1,
            label='regression weight')
    for bound in (-0.5, 0.5):
        ax.axvline(bound, color='gray', linewidth=0.8, linestyle=':')
    name = (class_names[class_id] if class_names is not None
            and class_id < len(class_names) else f'class {class_id}')
    ax.set_title(f'{class_id}: {name}', fontsize=9)
    ax.set_ylim(0, 1.05)
    ax.set_xlim(x[0], x[-1])
    ax.set_xlabel('position in segment (start -0.5, end +0.5)', fontsize=7)
    ax.set_ylabel('profile (peak 1)', fontsize=7)
    ax.tick_params(labelsize=7)
    ax.legend(fontsize=6, loc='lower center')


def find_class_sensitivity(model) -> Union[object, None]:
    """The first class-sensitivity plug-in among ``model.modules()``."""
    from asl_mmaction.models.heads.plugins import BaseClassSensitivity
    for module in model.modules():
        if isinstance(module, BaseClassSensitivity):
            return module
    return None
