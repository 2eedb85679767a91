"""Ground truth vs prediction timelines of videos, as PNG files.

One panel (axes) per video, x axis in seconds. Every class that appears in
the ground truth or in a drawn prediction gets one row; in that row the
ground truth is the upper bar (solid, outlined) and the predictions are the
lower bars. A detector keeps thousands of low-score segments per video, so
only the ``top_k`` highest-scoring predictions are drawn (default 10, and no
score threshold: a model's scores are relative, a weak but useful model may
score below 0.2). Overlapping predictions of one class are stacked in
lanes, every bar is drawn opaque with a dark outline and its rank and score
(``#1 0.14``) are written on it when it is wide enough, so nothing hides
behind anything else.

Figures are built with :class:`matplotlib.figure.Figure` and the Agg canvas
directly (not ``pyplot``), so nothing touches a global figure manager:
drawing from a hook during testing neither opens windows nor leaks figures.
"""
import os
import os.path as osp
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.patches import Patch

# Vertical layout of one class row, in row units.
_GT_BAND = (0.56, 0.36)     # (bottom, height) of the ground-truth bar
_PRED_BAND = (0.06, 0.46)   # (bottom, height) shared by the prediction lanes
_MAX_LANES = 3              # overlapping predictions of a class: stacked
# Defaults of every timeline entry point (tool, hook, functions).
DEFAULT_TOP_K = 10
DEFAULT_SCORE_THR = 0.0
_LABEL_MIN_PX = 34          # narrowest bar that gets its '#k 0.00' label


def _as_numpy(value, dtype, shape_tail=()) -> np.ndarray:
    """Tensor / list / array -> numpy of ``dtype``, empty when None."""
    if value is None:
        return np.zeros((0, ) + shape_tail, dtype=dtype)
    if hasattr(value, 'detach'):  # torch.Tensor
        value = value.detach().cpu().numpy()
    arr = np.asarray(value, dtype=dtype)
    return arr.reshape((-1, ) + shape_tail)


def normalize_video(video: dict) -> dict:
    """Check one video dict and convert its arrays to numpy.

    Args:
        video (dict): ``video_name``, ``duration`` (s), ``ann_segments``
            ([N, 2] s), ``ann_labels`` ([N]) and ``pred_instances`` (dict or
            ``InstanceData`` with ``segments`` [K, 2] s, ``scores`` [K],
            ``labels`` [K]); tensors or numpy. Ground truth and predictions
            may be missing (unlabelled test video, no detection).

    Returns:
        dict: ``name``, ``duration``, ``gt_segments`` [N, 2], ``gt_labels``
        [N], ``segments`` [K, 2], ``scores`` [K], ``labels`` [K] (numpy).
    """
    name = str(video.get('video_name', '?'))
    pred = video.get('pred_instances')
    if pred is not None and not isinstance(pred, dict):
        pred = {k: pred.get(k) for k in ('segments', 'scores', 'labels')}
    pred = pred or {}
    out = dict(
        name=name,
        gt_segments=_as_numpy(video.get('ann_segments'), np.float64, (2, )),
        gt_labels=_as_numpy(video.get('ann_labels'), np.int64),
        segments=_as_numpy(pred.get('segments'), np.float64, (2, )),
        scores=_as_numpy(pred.get('scores'), np.float64),
        labels=_as_numpy(pred.get('labels'), np.int64))
    if len(out['gt_segments']) != len(out['gt_labels']):
        raise ValueError(f'video {name}: {len(out["gt_segments"])} ground '
                         f'truth segments but {len(out["gt_labels"])} labels')
    if not len(out['segments']) == len(out['scores']) == len(out['labels']):
        raise ValueError(f'video {name}: predictions have '
                         f'{len(out["segments"])} segments, '
                         f'{len(out["scores"])} scores, '
                         f'{len(out["labels"])} labels')
    duration = video.get('duration')
    if duration is None:  # fall back to the furthest segment end
        ends = np.concatenate([out['gt_segments'][:, 1],
                               out['segments'][:, 1], [0.0]])
        duration = float(ends.max())
    out['duration'] = float(duration)
    return out


def select_predictions(segments: np.ndarray, scores: np.ndarray,
                       labels: np.ndarray,
                       score_thr: float = DEFAULT_SCORE_THR,
                       top_k: int = DEFAULT_TOP_K) -> np.ndarray:
    """Indices of the predictions to draw: score >= ``score_thr``, the
    ``top_k`` best, highest score first."""
    keep = np.flatnonzero(scores >= score_thr)
    order = keep[np.argsort(-scores[keep], kind='stable')]
    return order[:top_k]


def _class_name(label: int, class_names: Optional[Sequence[str]]) -> str:
    if class_names is not None and 0 <= label < len(class_names):
        return str(class_names[label])
    return f'class {label}'


def _class_color(label: int, cmap):
    return cmap(label % cmap.N)


def assign_lanes(segments: np.ndarray, order: np.ndarray,
                 labels: np.ndarray, max_lanes: int = _MAX_LANES
                 ) -> np.ndarray:
    """Lane (0 = top) of each prediction in ``order`` within its class row:
    the first lane where it overlaps no better prediction of its class; when
    all ``max_lanes`` are taken, the lane where it overlaps least.

    Returns:
        np.ndarray: ``int [len(order)]``, aligned with ``order``.
    """
    placed: Dict[Tuple[int, int], List[Tuple[float, float]]] = {}
    lanes = np.zeros(len(order), dtype=np.int64)
    for n, i in enumerate(order):
        start, end = segments[i]
        overlaps = []
        for lane in range(max_lanes):
            taken = placed.get((int(labels[i]), lane), [])
            overlaps.append(sum(max(0.0, min(end, e) - max(start, s))
                                for s, e in taken))
            if overlaps[-1] == 0.0:
                break
        lane = int(np.argmin(overlaps))
        placed.setdefault((int(labels[i]), lane), []).append((start, end))
        lanes[n] = lane
    return lanes


def draw_timeline_on_axes(ax, video: dict,
                          class_names: Optional[Sequence[str]] = None,
                          score_thr: float = DEFAULT_SCORE_THR,
                          top_k: int = DEFAULT_TOP_K) -> None:
    """Draw one video (see :func:`normalize_video`) into ``ax``."""
    from matplotlib import colormaps
    v = normalize_video(video)
    cmap = colormaps['tab10'] if 'tab10' in colormaps else colormaps['tab20']
    keep = select_predictions(v['segments'], v['scores'], v['labels'],
                              score_thr, top_k)
    rows = sorted(set(v['gt_labels'].tolist())
                  | set(v['labels'][keep].tolist()))
    row_of = {label: i for i, label in enumerate(rows)}
    duration = max(v['duration'], 1e-6)
    for (start, end), label in zip(v['gt_segments'], v['gt_labels']):
        y = row_of[int(label)] + _GT_BAND[0]
        ax.broken_barh([(start, end - start)], (y, _GT_BAND[1]),
                       facecolors=_class_color(int(label), cmap),
                       edgecolors='black', linewidth=0.8)
    lanes = assign_lanes(v['segments'], keep, v['labels'])
    n_lanes = int(lanes.max()) + 1 if len(lanes) else 1
    lane_height = _PRED_BAND[1] / n_lanes
    # pixels per second, to decide which bars can carry a label
    px_per_s = ax.figure.get_figwidth() * ax.figure.dpi * 0.85 / duration
    for rank, (i, lane) in enumerate(zip(keep, lanes), start=1):
        (start, end), score = v['segments'][i], float(v['scores'][i])
        label = int(v['labels'][i])
        y = row_of[label] + _PRED_BAND[0] + (n_lanes - 1 - lane) * \
            lane_height
        ax.broken_barh([(start, end - start)], (y + 0.01, lane_height - 0.02),
                       facecolors=_class_color(label, cmap), alpha=0.55,
                       edgecolors='#333333', linewidth=0.6, hatch='////')
        if (end - start) * px_per_s >= _LABEL_MIN_PX:
            ax.text((start + end) / 2, y + lane_height / 2,
                    f'#{rank} {score:.2f}', ha='center', va='center',
                    fontsize=6.5, clip_on=True,
                    bbox=dict(boxstyle='square,pad=0.1', facecolor='white',
                              edgecolor='none', alpha=0.8))
    ax.set_xlim(0, duration)
    ax.set_ylim(0, max(len(rows), 1))
    ax.set_yticks([i + 0.5 for i in range(len(rows))])
    ax.set_yticklabels([_class_name(r, class_names) for r in rows],
                       fontsize=8)
    for i in range(1, len(rows)):
        ax.axhline(i, color='gray', linewidth=0.4)
    ax.set_xlabel('time (s)')
    scores = v['scores'][keep]
    shown = (f'top {len(keep)} of {len(v["scores"])} predictions'
             + (f' with score >= {score_thr:g}' if score_thr > 0 else '')
             + (f', scores {scores.min():.2f}-{scores.max():.2f}'
                if len(keep) else ''))
    ax.set_title(f'{v["name"]}  ({len(v["gt_labels"])} GT, {shown})',
                 fontsize=9, loc='left')
    ax.grid(axis='x', linewidth=0.3, alpha=0.5)
    ax.legend(handles=[
        Patch(facecolor='lightgray', edgecolor='black', label='ground truth'),
        Patch(facecolor='lightgray', edgecolor='#333333', hatch='////',
              label='prediction (#rank score)')],
              loc='lower right', bbox_to_anchor=(1.0, 1.0), ncol=2,
              fontsize=7, frameon=False)
    if not rows:
        ax.text(0.5, 0.5, 'no ground truth and no prediction above the '
                'threshold', transform=ax.transAxes, ha='center',
                va='center', fontsize=8, color='gray')


def _save(fig: Figure, out_path: str) -> None:
    folder = osp.dirname(osp.abspath(out_path))
    os.makedirs(folder, exist_ok=True)
    fig.savefig(out_path, dpi=fig.dpi)


def _panel_height(video: dict, score_thr: float, top_k: int) -> float:
    """Inches for one panel: grows with the class rows and their lanes."""
    v = normalize_video(video)
    keep = select_predictions(v['segments'], v['scores'], v['labels'],
                              score_thr, top_k)
    rows = len(set(v['gt_labels'].tolist())
               | set(v['labels'][keep].tolist()))
    lanes = assign_lanes(v['segments'], keep, v['labels'])
    per_row = 0.45 + 0.15 * (int(lanes.max()) if len(lanes) else 0)
    return 1.3 + per_row * max(rows, 1)


def draw_timelines(videos: List[Dict], out_path: Optional[str],
                   class_names: Optional[Sequence[str]] = None,
                   score_thr: float = DEFAULT_SCORE_THR, max_videos: int = 8,
                   top_k: int = DEFAULT_TOP_K) -> Figure:
    """Draw the first ``max_videos`` videos, one panel each, into one PNG.

    Args:
        videos (list[dict]): see :func:`normalize_video`.
        out_path (str, optional): PNG to write; None only returns the figure.
        class_names (sequence[str], optional): names by label id.
        score_thr (float): hide predictions scoring below it (default 0:
            the ``top_k`` best are drawn whatever their scores).
        max_videos (int): at most this many panels.
        top_k (int): the best this many predictions per video are drawn.

    Returns:
        Figure: the figure (``len(fig.axes)`` panels).
    """
    if not videos:
        raise ValueError('draw_timelines: no video to draw')
    if max_videos < 1:
        raise ValueError(f'max_videos must be >= 1, got {max_videos}')
    videos = list(videos)[:max_videos]
    heights = [_panel_height(v, score_thr, top_k) for v in videos]
    fig = Figure(figsize=(12, sum(heights)), dpi=100)
    FigureCanvasAgg(fig)
    axes = fig.subplots(len(videos), 1, squeeze=False,
                        gridspec_kw=dict(height_ratios=heights))[:, 0]
    for ax, video in zip(axes, videos):
        draw_timeline_on_axes(ax, video, class_names, score_thr, top_k)
    fig.tight_layout()
    if out_path is not None:
        _save(fig, out_path)
    return fig


def draw_video_timeline(video: Dict, out_path: Optional[str],
                        class_names: Optional[Sequence[str]] = None,
                        score_thr: float = DEFAULT_SCORE_THR,
                        top_k: int = DEFAULT_TOP_K) -> Figure:
    """One video, one panel, one PNG (``out_path``); returns the figure."""
    return draw_timelines([video], out_path, class_names, score_thr,
                          max_videos=1, top_k=top_k)


def safe_file_name(video_name: str) -> str:
    """A video name usable as a file name (ids may contain ``/``)."""
    keep = [c if c.isalnum() or c in '-_.' else '_' for c in video_name]
    return ''.join(keep).strip('.') or 'video'
