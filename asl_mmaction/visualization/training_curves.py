"""Read MMEngine's JSON scalar logs and plot training / validation curves.

MMEngine writes one JSON dict per line to
``work_dir/<timestamp>/vis_data/<timestamp>.json`` (and the same scalars to
``scalars.json``):

* training lines, every ``log_interval`` iterations: ``lr``, the losses,
  ``time``, ``data_time``, ``memory``, ``iter`` (global, 1-based), ``epoch``
  (epoch-based loops only) and ``step`` (= ``iter``);
* validation lines, after each validation: the metrics (``mmaction/mAP``,
  ``mAP@0.5``, ...), ``time``, ``data_time`` and ``step`` (the epoch for
  epoch-based loops, else the iteration). They carry no ``iter`` key, which
  is how the two are told apart. With ``log_with_hierarchy=True`` the keys
  are prefixed ``train/`` and ``val/`` instead.
"""
import json
import os
import os.path as osp
from typing import Dict, List, Optional, Sequence

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

# Keys that describe a line rather than measure something.
_BOOKKEEPING = {'step', 'iter', 'epoch'}


def load_json_log(path: str) -> Dict[str, list]:
    """Split an MMEngine scalar log into training and validation lines.

    Args:
        path (str): the ``.json`` log (one JSON dict per line).

    Returns:
        dict: ``train`` and ``val``, lists of dicts in file order, plus
        ``by_epoch`` (bool): whether training lines carry an ``epoch``,
        i.e. whether the validation ``step`` counts epochs.
    """
    train, val = [], []
    with open(path) as f:
        for lineno, line in enumerate(f, 1):
            line = line.strip()
            if not line:
                continue
            try:
                entry = json.loads(line)
            except json.JSONDecodeError as err:
                raise ValueError(f'{path}, line {lineno}: not JSON ({err})'
                                 ) from err
            if not isinstance(entry, dict):
                raise ValueError(f'{path}, line {lineno}: expected a JSON '
                                 f'object, got {type(entry).__name__}')
            entry = _strip_hierarchy(entry)
            if 'iter' in entry:
                train.append(entry)
            elif 'step' in entry:
                val.append(entry)
            else:
                raise ValueError(f'{path}, line {lineno}: neither "iter" nor '
                                 '"step"; not an MMEngine scalar log')
    if not train and not val:
        raise ValueError(f'{path}: empty log')
    return dict(train=train, val=val,
                by_epoch=any('epoch' in e for e in train))


def _strip_hierarchy(entry: dict) -> dict:
    """``train/loss`` -> ``loss``, ``val/mAP`` -> ``mAP`` (hierarchical
    logs); a ``train/`` prefix also marks the line as a training line."""
    out = {}
    for key, value in entry.items():
        for prefix in ('train/', 'val/', 'test/'):
            if key.startswith(prefix):
                key = key[len(prefix):]
                break
        out[key] = value
    return out


def resolve_key(log: dict, key: str) -> Optional[str]:
    """The log key a requested key refers to.

    An exact match wins; otherwise a key whose last ``/`` component equals
    ``key`` (``mAP`` -> ``mmaction/mAP``). None when absent.

    Raises:
        ValueError: if several keys end with ``/key``.
    """
    keys = set()
    for entry in log['train'] + log['val']:
        keys.update(entry)
    if key in keys:
        return key
    matches = sorted(k for k in keys if k.split('/')[-1] == key)
    if len(matches) > 1:
        raise ValueError(f'key {key!r} is ambiguous: {matches}')
    return matches[0] if matches else None


def available_keys(log: dict) -> List[str]:
    """Every plottable key of a log, sorted."""
    keys = set()
    for entry in log['train'] + log['val']:
        keys.update(k for k, v in entry.items()
                    if k not in _BOOKKEEPING and isinstance(v, (int, float)))
    return sorted(keys)


def curve(log: dict, key: str) -> Dict[str, object]:
    """x / y values of one key.

    Training keys are plotted against the global iteration; validation
    keys against ``step`` (epoch or iteration). A key found on both kinds
    of line (``time``, ``data_time``) is taken from the training lines.

    Returns:
        dict: ``x`` and ``y`` arrays, ``xlabel`` and ``source``
        (``'train'`` / ``'val'``); empty arrays when the key is absent.
    """
    name = resolve_key(log, key)
    for source, x_key in (('train', 'iter'), ('val', 'step')):
        pts = [(e[x_key], e[name]) for e in log[source]
               if name is not None and name in e
               and isinstance(e[name], (int, float))]
        if pts:
            x, y = np.asarray(pts, dtype=np.float64).T
            if source == 'train':
                xlabel = 'iteration'
            else:
                xlabel = 'epoch' if log['by_epoch'] else 'iteration'
            return dict(x=x, y=y, xlabel=xlabel, source=source, name=name)
    return dict(x=np.zeros(0), y=np.zeros(0), xlabel='', source=None,
                name=name)


def plot_curves(logs: Sequence[dict], keys: Sequence[str],
                out_path: Optional[str] = None,
                legend: Optional[Sequence[str]] = None,
                title: Optional[str] = None) -> Figure:
    """One panel per key, one line per log.

    Args:
        logs (sequence[dict]): outputs of :func:`load_json_log`.
        keys (sequence[str]): scalar names (``loss``, ``loss_cls``,
            ``mAP``...); see :func:`resolve_key`.
        out_path (str, optional): PNG to write.
        legend (sequence[str], optional): one label per log.

    Returns:
        Figure: with ``len(keys)`` panels.

    Raises:
        KeyError: if a key is in none of the logs (lists what exists).
    """
    if not logs or not keys:
        raise ValueError('plot_curves needs at least one log and one key')
    legend = list(legend) if legend is not None else [
        f'log {i}' for i in range(len(logs))]
    if len(legend) != len(logs):
        raise ValueError(f'{len(legend)} legend entries for {len(logs)} logs')
    ncols = min(len(keys), 2)
    nrows = -(-len(keys) // ncols)
    fig = Figure(figsize=(6 * ncols, 3.5 * nrows), dpi=100)
    FigureCanvasAgg(fig)
    axes = fig.subplots(nrows, ncols, squeeze=False).flatten()
    for ax in axes[len(keys):]:
        fig.delaxes(ax)
    for ax, key in zip(axes, keys):
        found = False
        for log, label in zip(logs, legend):
            c = curve(log, key)
            if not len(c['x']):
                continue
            found = True
            marker = 'o' if c['source'] == 'val' else None
            ax.plot(c['x'], c['y'], marker=marker, markersize=3,
                    linewidth=1, label=label)
            ax.set_xlabel(c['xlabel'])
        if not found:
            have = sorted(set().union(*(available_keys(g) for g in logs)))
            raise KeyError(f'key {key!r} is in none of the logs; they have: '
                           f'{have}')
        ax.set_title(key)
        ax.grid(linewidth=0.3)
        if len(logs) > 1:
            ax.legend(fontsize=7)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    if out_path is not None:
        os.makedirs(osp.dirname(osp.abspath(out_path)), exist_ok=True)
        fig.savefig(out_path, dpi=fig.dpi)
    return fig


def train_time_stats(log: dict) -> Dict[str, float]:
    """Seconds per iteration, from the ``time`` of the training lines.

    Each training line's ``time`` is the mean over the iterations since the
    previous line; they are grouped by epoch (or taken as one group in
    iteration-based runs).

    Returns:
        dict: ``mean`` (s/iter over the run), per-epoch ``slowest_epoch`` /
        ``fastest_epoch`` (ids) with their means ``slowest`` / ``fastest``,
        ``std`` of the per-epoch means and ``num_epochs``.
    """
    per_epoch: Dict[int, List[float]] = {}
    for entry in log['train']:
        if isinstance(entry.get('time'), (int, float)):
            per_epoch.setdefault(int(entry.get('epoch', 0)),
                                 []).append(float(entry['time']))
    if not per_epoch:
        raise ValueError('no training line with a "time" value in the log')
    epochs = sorted(per_epoch)
    means = np.asarray([np.mean(per_epoch[e]) for e in epochs])
    all_times = np.concatenate([per_epoch[e] for e in epochs])
    return dict(mean=float(all_times.mean()),
                slowest_epoch=epochs[int(means.argmax())],
                slowest=float(means.max()),
                fastest_epoch=epochs[int(means.argmin())],
                fastest=float(means.min()), std=float(means.std()),
                num_epochs=len(epochs))
