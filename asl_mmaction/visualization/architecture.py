"""Overview diagram of the ASL detector (matplotlib boxes and arrows).

Top row: the inference path, shared by ActionFormer and ASL. Bottom, in a
dashed frame: the training-only parts ASL adds; none of them runs at test
time, so ASL costs nothing at inference.
"""
import os
import os.path as osp
from typing import Dict, List, Optional, Tuple

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.patches import FancyArrowPatch, FancyBboxPatch

INFER_COLOR = '#dbe9f6'
TRAIN_COLOR = '#fde9d4'
LOSS_COLOR = '#f9d0cf'
GT_COLOR = '#e2f0d9'

# name -> (x centre, y centre, width, height, colour, text)
_BOXES: Dict[str, Tuple[float, float, float, float, str, str]] = {
    'feats': (1.3, 7.6, 2.2, 1.3, INFER_COLOR,
              'clip features\n[C, T]\n(pre-extracted)'),
    'backbone': (4.3, 7.6, 2.8, 1.3, INFER_COLOR,
                 'conv-transformer\nbackbone\n(local self-attention,\n'
                 'stride-2 per level)'),
    'pyramid': (7.5, 7.6, 2.6, 1.3, INFER_COLOR,
                'feature pyramid\nL levels, [D, T / 2^l]'),
    'heads': (10.7, 7.6, 2.8, 1.3, INFER_COLOR,
              'shared heads per point\ncls: K logits\n'
              'reg: distances to start / end'),
    'decode': (14.1, 7.6, 2.8, 1.3, INFER_COLOR,
               'decode + 1-D NMS\nsegments (s), scores,\nlabels'),
    'gt': (1.3, 4.6, 2.2, 1.2, GT_COLOR,
           'ground truth\nsegments + labels\n(point assignment)'),
    'class_sens': (4.5, 4.6, 3.0, 1.6, TRAIN_COLOR,
                   'class-level sensitivity\nper class k: Gaussians over\n'
                   'position in the segment\n(cls, start, end)'),
    'weights': (8.1, 4.6, 2.6, 1.3, TRAIN_COLOR,
                'per-point weights\nw_cls, w_loc\n(class + instance)'),
    'inst_sens': (11.6, 4.6, 3.0, 1.6, TRAIN_COLOR,
                  'instance-level sensitivity\nevaluator (conv branch):\n'
                  'cls / loc quality\nof every point'),
    'losses': (14.9, 4.6, 2.4, 1.6, LOSS_COLOR,
               'reweighted losses\nsigmoid focal x w_cls\n'
               'DIoU x w_loc'),
    'ascl': (4.5, 1.9, 5.6, 1.5, LOSS_COLOR,
             'action-sensitive contrastive loss\n'
             'pyramid features at the most cls / start / end\n'
             'sensitive points: pulled together per class,\n'
             'pushed away from background points'),
}


def _anchor(name: str, side: str, shift: float = 0.0
            ) -> Tuple[float, float]:
    """Middle of one side (``l r t b``) of a box, moved by ``shift`` along
    that side."""
    x, y, w, h = _BOXES[name][:4]
    return {'l': (x - w / 2, y + shift), 'r': (x + w / 2, y + shift),
            't': (x + shift, y + h / 2), 'b': (x + shift, y - h / 2)}[side]


def _routes() -> List[Tuple[List[Tuple[float, float]], str]]:
    """Arrows as polylines (the arrow head is on the last point) with an
    optional label placed next to the second point. Elbows keep every arrow off
    the boxes it does not connect."""
    a = _anchor
    straight = [('feats', 'backbone'), ('backbone', 'pyramid'),
                ('pyramid', 'heads'), ('heads', 'decode'),
                ('gt', 'class_sens'), ('class_sens', 'weights')]
    routes = [([a(s, 'r'), a(d, 'l')], '') for s, d in straight]
    routes.append(([a('inst_sens', 'l'), a('weights', 'r')], ''))
    p = a('pyramid', 'b')
    q = a('inst_sens', 't')
    routes.append(([p, (p[0], 6.25), (q[0], 6.25), q], 'features'))
    h = a('heads', 'b', shift=1.1)
    q = a('losses', 't')
    routes.append(([h, (h[0], 6.5), (q[0], 6.5), q],
                   'logits, offsets, targets'))
    w = a('weights', 'b')
    q = a('losses', 'b')
    routes.append(([w, (w[0], 3.2), (q[0], 3.2), q], 'weights'))
    c = a('class_sens', 'b')
    routes.append(([c, (c[0], 3.2), a('ascl', 't')],
                   'most sensitive points'))
    return routes


def draw_architecture(out_path: Optional[str] = None,
                      dpi: int = 150) -> Figure:
    """Draw the ASL overview; write it to ``out_path`` (PNG) when given.

    Returns:
        Figure: one axes, with one patch per box in ``_BOXES`` plus the
        training-only frame.
    """
    fig = Figure(figsize=(16, 9), dpi=dpi)
    FigureCanvasAgg(fig)
    ax = fig.add_axes((0, 0, 1, 1))
    ax.set_xlim(0, 16.4)
    ax.set_ylim(0, 9.4)
    ax.axis('off')
    # Training-only frame behind the bottom rows.
    ax.add_patch(FancyBboxPatch(
        (0.1, 0.8), 16.2, 5.0, boxstyle='round,pad=0.05,rounding_size=0.2',
        facecolor='none', edgecolor='#c0504d', linestyle='--', linewidth=1.5))
    ax.text(0.3, 5.55, 'training only (not run at inference)',
            color='#c0504d', fontsize=11, style='italic')
    ax.text(0.3, 8.75, 'inference path (ActionFormer-style one-stage '
            'detector)', color='#1f4e79', fontsize=11, style='italic')
    for x, y, w, h, color, text in _BOXES.values():
        ax.add_patch(FancyBboxPatch(
            (x - w / 2, y - h / 2), w, h,
            boxstyle='round,pad=0.04,rounding_size=0.15', facecolor=color,
            edgecolor='#404040', linewidth=1.2))
        ax.text(x, y, text, ha='center', va='center', fontsize=9.5,
                wrap=False)
    for points, label in _routes():
        xs, ys = zip(*points)
        ax.plot(xs[:-1], ys[:-1], color='#303030', linewidth=1.3,
                solid_joinstyle='miter')
        ax.add_patch(FancyArrowPatch(
            points[-2], points[-1], arrowstyle='-|>', mutation_scale=14,
            linewidth=1.3, color='#303030', shrinkA=0, shrinkB=2))
        if label:
            ax.text(points[1][0] + 0.1, points[1][1] + 0.08, label,
                    fontsize=8.5, color='#303030', style='italic')
    ax.text(8.2, 0.35, 'ASL: Action Sensitivity Learning for temporal action '
            'localization (ICCV 2023)', ha='center', fontsize=10,
            color='#404040')
    if out_path is not None:
        os.makedirs(osp.dirname(osp.abspath(out_path)), exist_ok=True)
        fig.savefig(out_path, dpi=dpi)
    return fig
