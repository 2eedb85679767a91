"""EPIC-Kitchens-100 annotations: the official CSVs and ActionFormer's JSON.

Official CSVs (``EPIC_100_{train,validation}.csv``): one row per action with
``video_id``, ``start_timestamp`` / ``stop_timestamp`` (``HH:MM:SS.ff``),
``verb_class`` / ``noun_class``; video durations and frame rates come from
``EPIC_100_video_info.csv``. The test CSV has no class columns.

ActionFormer JSON::

    {'database': {video_id: {'subset', 'duration', 'fps',
                             'annotations': [{'segment': [s, e], 'label',
                                              'label_id'}]}}}

Both parse to the record layout of ``ego4d_annotations`` (one per video),
with ``label_ids`` set.
"""
import os
import re
from collections import OrderedDict
from fractions import Fraction
from typing import Dict, List, Optional, Sequence

from .annotation_files import normalize_subset, read_csv_rows
from .tad_errors import TADDataError

TASKS = ('verb', 'noun')
_TIMESTAMP = re.compile(r'^(\d+):([0-5]\d):([0-5]\d(?:\.\d+)?)$')


def parse_timestamp(text: str, where: str = '') -> float:
    """``'HH:MM:SS.ff'`` -> seconds, computed exactly before rounding once."""
    match = _TIMESTAMP.match(str(text).strip())
    if match is None:
        raise TADDataError(f'{where}: malformed timestamp {text!r}; expected '
                           'HH:MM:SS.ff')
    hours, minutes, seconds = match.groups()
    return float(3600 * int(hours) + 60 * int(minutes) + Fraction(seconds))


def format_timestamp(seconds: float) -> str:
    """Seconds -> ``'HH:MM:SS.ff'`` (the official two decimals)."""
    hundredths = int(round(seconds * 100))
    hours, rest = divmod(hundredths, 360000)
    minutes, rest = divmod(rest, 6000)
    return f'{hours:02d}:{minutes:02d}:{rest // 100:02d}.{rest % 100:02d}'


def subset_of_csv(path: str) -> Optional[str]:
    """The split an official CSV holds, from its name (None if unclear)."""
    name = os.path.basename(path).lower()
    for key, subset in (('train', 'train'), ('validation', 'val'),
                        ('val', 'val'), ('test', 'test')):
        if key in name:
            return subset
    return None


def read_video_info(path: str) -> Dict[str, dict]:
    """``video_id -> dict(duration, fps)`` from ``EPIC_100_video_info.csv``."""
    info = {}
    for row in read_csv_rows(path, ['video_id', 'duration', 'fps']):
        try:
            info[row['video_id']] = dict(duration=float(row['duration']),
                                         fps=float(row['fps']))
        except ValueError as exc:
            raise TADDataError(f"{path}, video {row['video_id']}: "
                               f'bad duration / fps: {exc}') from exc
    return info


def parse_csv(path: str, task: str, video_info: Dict[str, dict],
              subset: Optional[str] = None) -> List[dict]:
    """Records (one per video, in file order) from an official CSV."""
    if task not in TASKS:
        raise TADDataError(f"task must be 'verb' or 'noun', got {task!r}")
    rows = read_csv_rows(path, ['video_id', 'start_timestamp',
                                'stop_timestamp'])
    if not rows:
        raise TADDataError(f'annotation file has no rows: {path}')
    subset = subset or subset_of_csv(path) or 'train'
    labelled = f'{task}_class' in rows[0]
    videos: Dict[str, dict] = OrderedDict()
    for line, row in enumerate(rows, start=2):
        vid = row['video_id']
        where = f'{path}, line {line} (video {vid})'
        if vid not in videos:
            if vid not in video_info:
                raise TADDataError(f'{where}: video not in the video info '
                                   'file (video_info_file)')
            videos[vid] = dict(
                video_name=vid, subset=subset,
                duration=video_info[vid]['duration'],
                fps=video_info[vid]['fps'], segments=[], labels=[],
                label_ids=[], info=dict(participant_id=row.get(
                    'participant_id', vid.split('_')[0])))
        if not labelled:
            continue
        rec = videos[vid]
        rec['segments'].append([
            parse_timestamp(row['start_timestamp'], where),
            parse_timestamp(row['stop_timestamp'], where)])
        try:
            rec['label_ids'].append(int(row[f'{task}_class']))
        except ValueError as exc:
            raise TADDataError(f'{where}: bad {task}_class: {exc}') from exc
        rec['labels'].append(row.get(task, ''))
    return list(videos.values())


def parse_actionformer_json(data, path: str) -> List[dict]:
    """Records from ActionFormer's ``{'database': {...}}`` layout."""
    if not isinstance(data, dict) or not isinstance(data.get('database'),
                                                    dict):
        raise TADDataError(f'{path}: expected {{"database": {{video_id: '
                           '...}}}} (ActionFormer layout) or an official CSV')
    if not data['database']:
        raise TADDataError(f'annotation file {path} holds no videos')
    records = []
    for vid, video in data['database'].items():
        where = f'{path}, video {vid}'
        if 'subset' not in video:
            raise TADDataError(f"{where}: missing field 'subset'")
        segments, labels, label_ids = [], [], []
        for ann in video.get('annotations') or []:
            if 'segment' not in ann or 'label_id' not in ann:
                raise TADDataError(f'{where}: annotation {ann!r} needs '
                                   "'segment' and 'label_id'")
            segments.append([float(ann['segment'][0]),
                             float(ann['segment'][1])])
            label_ids.append(int(ann['label_id']))
            labels.append(str(ann.get('label', '')))
        records.append(dict(
            video_name=str(vid), subset=normalize_subset(video['subset'],
                                                         where),
            duration=video.get('duration'), fps=video.get('fps'),
            segments=segments, labels=labels, label_ids=label_ids, info={}))
    return records


def names_from_records(records: List[dict], path: str) -> List[str]:
    """Class names when no class file is given: from the JSON labels."""
    by_id: Dict[int, str] = {}
    for rec in records:
        for idx, name in zip(rec['label_ids'], rec['labels']):
            by_id.setdefault(idx, name or f'class_{idx}')
    if not by_id:
        raise TADDataError(f'{path}: no labelled segment to build the class '
                           'list from; set class_file')
    # Classes never seen in this file still need their index.
    return [by_id.get(i, f'unseen_class_{i}') for i in range(max(by_id) + 1)]


# ---------------------------------------------------------------- converters
def records_to_actionformer_json(records: List[dict],
                                 class_names: Sequence[str]) -> dict:
    """Records -> ActionFormer JSON (subsets spelled 'training' etc.)."""
    spelled = dict(train='training', val='validation', test='testing')
    database = OrderedDict()
    for rec in records:
        database[rec['video_name']] = dict(
            subset=spelled[rec['subset']], duration=rec['duration'],
            fps=rec['fps'],
            annotations=[dict(segment=list(seg), label=class_names[idx],
                              label_id=idx)
                         for seg, idx in zip(rec['segments'],
                                             rec['label_ids'])])
    return dict(version='EPIC-Kitchens-100', database=database)


def records_to_csv_rows(records: List[dict], task: str,
                        class_names: Sequence[str]) -> List[dict]:
    """Records -> rows in the official CSV columns that can be rebuilt.

    Narrations and the other task's class are not in a one-task JSON, so
    only ``narration_id, participant_id, video_id, start_timestamp,
    stop_timestamp, start_frame, stop_frame, {task}, {task}_class`` are
    written. Frames use the video's fps.
    """
    rows = []
    for rec in records:
        order = sorted(range(len(rec['segments'])),
                       key=lambda i: tuple(rec['segments'][i]))
        for n, i in enumerate(order):
            start, stop = rec['segments'][i]
            fps = rec['fps'] or 0.0
            rows.append({
                'narration_id': f"{rec['video_name']}_{n}",
                'participant_id': rec['video_name'].split('_')[0],
                'video_id': rec['video_name'],
                'start_timestamp': format_timestamp(start),
                'stop_timestamp': format_timestamp(stop),
                'start_frame': int(round(start * fps)) + 1,
                'stop_frame': int(round(stop * fps)) + 1,
                task: class_names[rec['label_ids'][i]],
                f'{task}_class': rec['label_ids'][i]})
    return rows
