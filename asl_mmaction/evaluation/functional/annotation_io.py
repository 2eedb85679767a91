"""Small readers of ground-truth files, for scoring saved predictions.

Independent of the dataset classes on purpose: ``tools/eval_predictions.py``
must score a prediction file with nothing but the annotation file.

Layouts read:

* per-video JSON, optionally under ``"database"`` (the converted Ego4D-MQ
  file and ActionFormer's EPIC-KITCHENS JSON): ``{video: {subset, duration,
  annotations: [{segment: [s, e] | start_time/end_time, label,
  label_id}]}}``;
* the EPIC-KITCHENS-100 CSV (``EPIC_100_validation.csv``), one row per
  action with ``HH:MM:SS.ff`` timestamps; class names come from
  ``EPIC_100_{verb,noun}_classes.csv`` and durations from
  ``EPIC_100_video_info.csv`` next to it when present.
"""
import csv
import json
import os.path as osp
from typing import Dict, Optional, Tuple

import numpy as np

# Subset names as the different files spell them.
_SUBSET_ALIASES = {'training': 'train', 'validation': 'val', 'testing': 'test'}


def _subset(name: str) -> str:
    name = str(name).lower()
    return _SUBSET_ALIASES.get(name, name)


def timestamp_to_seconds(stamp: str) -> float:
    """``'HH:MM:SS.ff'`` -> seconds."""
    hours, minutes, seconds = stamp.split(':')
    return int(hours) * 3600 + int(minutes) * 60 + float(seconds)


def read_tad_annotations(path: str, subset: Optional[str] = None,
                         task: str = 'verb'
                         ) -> Tuple[Dict[str, dict], Tuple[str, ...]]:
    """Ground truth of one split, in seconds.

    Args:
        path (str): a ``.json`` or EPIC ``.csv`` annotation file.
        subset (str, optional): keep the videos of this subset (JSON only:
            an EPIC CSV is one split already). ``val`` / ``validation``
            and ``train`` / ``training`` are the same.
        task (str): ``'verb'`` or ``'noun'`` for an EPIC CSV.

    Returns:
        tuple: ``videos`` (``video_name -> dict(duration, segments [N, 2]
        float64, labels [N] int64)``) and the class names.
    """
    if path.endswith('.csv'):
        return _read_epic_csv(path, task)
    return _read_json(path, subset)


def _read_json(path: str, subset: Optional[str]):
    with open(path) as f:
        database = json.load(f)
    database = database.get('database', database)
    label_ids = _label_ids(path, database)
    names = {}
    videos = {}
    for video, info in database.items():
        segs, labels = [], []
        for i, ann in enumerate(info.get('annotations', [])):
            try:
                seg = ann['segment'] if 'segment' in ann else \
                    [ann['start_time'], ann['end_time']]
                label = label_ids[ann['label']] if label_ids else \
                    int(ann['label_id'])
            except (KeyError, TypeError, ValueError) as err:
                raise ValueError(f'{path}: video {video}, annotation {i}: '
                                 f'no segment / label ({err!r})') from err
            names.setdefault(label, ann.get('label', f'class_{label}'))
            segs.append([float(seg[0]), float(seg[1])])
            labels.append(label)
        if subset is not None:
            if 'subset' not in info:
                raise ValueError(f'{path}: video {video} has no "subset" '
                                 f'field, cannot select {subset!r}')
            if _subset(info['subset']) != _subset(subset):
                continue
        videos[video] = dict(
            duration=float(info.get('duration', max(
                [s[1] for s in segs], default=0.0))),
            segments=np.asarray(segs, dtype=np.float64).reshape(-1, 2),
            labels=np.asarray(labels, dtype=np.int64))
    if subset is not None and not videos:
        raise ValueError(f'{path}: no video in subset {subset!r}')
    num_classes = 1 + max(names, default=-1)
    classes = tuple(names.get(i, f'class_{i}') for i in range(num_classes))
    return videos, classes


def _label_ids(path: str, database: dict) -> Optional[Dict[str, int]]:
    """Indices for files that name classes without ``label_id`` (the
    official Ego4D layout): sorted names. ``None`` when ids are given."""
    anns = [a for info in database.values()
            for a in info.get('annotations', [])]
    with_id = sum('label_id' in a for a in anns)
    if with_id == len(anns):
        return None
    if with_id:
        raise ValueError(f'{path}: only {with_id} of {len(anns)} annotations '
                         'have a "label_id"; give it to all or none')
    return {name: i for i, name in enumerate(sorted(
        {str(a.get('label')) for a in anns}))}


def _read_epic_csv(path: str, task: str):
    if task not in ('verb', 'noun'):
        raise ValueError(f'EPIC task must be "verb" or "noun", got {task!r}')
    rows = {}
    with open(path, newline='') as f:
        for row in csv.DictReader(f):
            try:
                item = ([timestamp_to_seconds(row['start_timestamp']),
                         timestamp_to_seconds(row['stop_timestamp'])],
                        int(row[f'{task}_class']))
            except (KeyError, ValueError) as err:
                raise ValueError(f'{path}: row {row.get("narration_id")}: '
                                 f'bad timestamps / {task}_class ({err!r})'
                                 ) from err
            rows.setdefault(row['video_id'], []).append(item)
    folder = osp.dirname(path)
    durations = _epic_durations(osp.join(folder, 'EPIC_100_video_info.csv'))
    videos = {}
    for video, items in rows.items():
        segs = np.asarray([s for s, _ in items], dtype=np.float64)
        videos[video] = dict(
            duration=durations.get(video, float(segs[:, 1].max())),
            segments=segs,
            labels=np.asarray([lab for _, lab in items], dtype=np.int64))
    class_file = osp.join(folder, f'EPIC_100_{task}_classes.csv')
    if osp.exists(class_file):
        with open(class_file, newline='') as f:
            classes = tuple(r['key'] for r in csv.DictReader(f))
    else:
        num = 1 + max(int(v['labels'].max()) for v in videos.values())
        classes = tuple(f'{task}_{i}' for i in range(num))
    return videos, classes


def _epic_durations(path: str) -> Dict[str, float]:
    if not osp.exists(path):
        return {}
    with open(path, newline='') as f:
        return {r['video_id']: float(r['duration']) for r in csv.DictReader(f)}
