"""Write and read prediction files, atomically.

Formats (``results`` maps ``video_name -> dict(segments [K, 2] seconds,
scores [K], labels [K] int)``):

* ``'ego4d_mq'``: the Ego4D Moment Queries challenge submission::

      {"version": "1.0", "challenge": "ego4d_moment_queries",
       "detect_results": {clip_uid: [{"label": name, "score": s,
                                      "segment": [start, end]}, ...]},
       "retrieve_results": {...same...}}

  Labels are class *names*. The official packing script fills
  ``retrieve_results`` from a second inference pass; with a single model
  both entries hold the same detections.
* ``'actionformer'``: the JSON ActionFormer's ``load_pred_seg_from_json``
  reads: ``{"version": "1.0", "database": {video: [{"segment": [s, e],
  "label_id": int, "label": name, "scores": s}, ...]}}``.

:func:`load_predictions` also reads the ``{"results": {...}}`` files the
official Ego4D and ActivityNet tools write before packing.
"""
import json
from typing import Dict, Optional, Sequence

import numpy as np

from asl_mmaction.utils.atomic_files import atomic_write_json

PREDICTION_FORMATS = ('ego4d_mq', 'actionformer')


def _entries(pred: dict, video: str, classes: Optional[Sequence[str]],
             fmt: str) -> list:
    segs = np.asarray(pred['segments'], dtype=np.float64).reshape(-1, 2)
    scores = np.asarray(pred['scores'], dtype=np.float64).reshape(-1)
    labels = np.asarray(pred['labels']).reshape(-1).astype(np.int64)
    if not segs.shape[0] == scores.shape[0] == labels.shape[0]:
        raise ValueError(f'video {video}: {segs.shape[0]} segments, '
                         f'{scores.shape[0]} scores, {labels.shape[0]} labels')
    if classes is not None and labels.size and (
            labels.min() < 0 or labels.max() >= len(classes)):
        raise ValueError(f'video {video}: label {labels.max()} outside the '
                         f'{len(classes)} classes')
    out = []
    for (s, e), score, label in zip(segs.tolist(), scores.tolist(),
                                    labels.tolist()):
        name = classes[label] if classes is not None else None
        if fmt == 'ego4d_mq':
            out.append({'label': name, 'score': score, 'segment': [s, e]})
        else:
            entry = {'segment': [s, e], 'label_id': label, 'scores': score}
            if name is not None:
                entry['label'] = name
            out.append(entry)
    return out


def dump_predictions(results: Dict[str, dict], path: str,
                     format: str = 'ego4d_mq',
                     classes: Optional[Sequence[str]] = None) -> None:
    """Write predictions of several videos to ``path`` (atomic).

    Args:
        results (dict): ``video_name -> dict(segments, scores, labels)``.
        path (str): output ``.json``.
        format (str): ``'ego4d_mq'`` or ``'actionformer'``.
        classes (sequence[str], optional): class names; required for
            ``'ego4d_mq'`` (it stores names).
    """
    if format not in PREDICTION_FORMATS:
        raise ValueError(f'format must be one of {PREDICTION_FORMATS}, '
                         f'got {format!r}')
    if format == 'ego4d_mq' and classes is None:
        raise ValueError('the ego4d_mq format stores class names: pass '
                         '`classes`')
    per_video = {
        str(video): _entries(pred, video, classes, format)
        for video, pred in results.items()
    }
    if format == 'ego4d_mq':
        obj = {'version': '1.0', 'challenge': 'ego4d_moment_queries',
               'detect_results': per_video, 'retrieve_results': per_video}
    else:
        obj = {'version': '1.0', 'database': per_video}
    atomic_write_json(obj, path)


def _label_id(entry: dict, name_to_id: Optional[dict], video: str,
              path: str) -> int:
    if 'label_id' in entry:
        return int(entry['label_id'])
    label = entry.get('label')
    if isinstance(label, (int, np.integer)):
        return int(label)
    if name_to_id is None:
        raise ValueError(f'{path}: video {video} has label {label!r} by name; '
                         'pass `classes` to map names to indices')
    if label not in name_to_id:
        raise ValueError(f'{path}: video {video} has unknown label {label!r}')
    return name_to_id[label]


def load_predictions(path: str,
                     classes: Optional[Sequence[str]] = None
                     ) -> Dict[str, dict]:
    """Read a prediction file of any supported format.

    Args:
        path (str): the ``.json`` file.
        classes (sequence[str], optional): class names, to map labels given
            by name.

    Returns:
        dict: ``video_name -> dict(segments [K, 2] float64, scores [K]
        float64, labels [K] int64)``, entries in file order.
    """
    with open(path) as f:
        obj = json.load(f)
    for key in ('detect_results', 'database', 'results'):
        if isinstance(obj, dict) and key in obj:
            per_video = obj[key]
            break
    else:
        raise ValueError(f'{path}: not a prediction file (expected a '
                         '"detect_results", "database" or "results" entry)')
    name_to_id = None if classes is None else {
        name: i for i, name in enumerate(classes)}
    results = {}
    for video, entries in per_video.items():
        try:
            segs = [[float(e['segment'][0]), float(e['segment'][1])]
                    for e in entries]
            scores = [float(e['score'] if 'score' in e else e['scores'])
                      for e in entries]
        except (KeyError, IndexError, TypeError) as err:
            raise ValueError(f'{path}: video {video} has an entry without a '
                             f'valid segment / score ({err!r})') from err
        labels = [_label_id(e, name_to_id, video, path) for e in entries]
        results[video] = dict(
            segments=np.asarray(segs, dtype=np.float64).reshape(-1, 2),
            scores=np.asarray(scores, dtype=np.float64),
            labels=np.asarray(labels, dtype=np.int64))
    return results
