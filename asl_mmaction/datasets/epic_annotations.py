"""EPIC-Kitchens-100 annotations: the official CSVs and ActionFormer's JSON.

Official CSVs (``EPIC_100_{train,validation}.csv``): one row per action with
``video_id``, ``start_timestamp`` / ``stop_timestamp`` (``HH:MM:SS.ff``),
``verb`` / ``verb_class`` and ``noun`` / ``noun_class``; video durations
and frame rates come from ``EPIC_100_video_info.csv``, class names from
``EPIC_100_{verb,noun}_classes.csv`` (by their ``id`` column). The test
CSV (``EPIC_100_test_timestamps.csv``) has no class columns: only a CSV of
the test split may lack them. ``verb`` / ``noun`` are the narrated words
('put-down' for class 'put'), so the class ids, never the names, label
the segments.

ActionFormer's JSON is the ActivityNet-style layout
(``activitynet_annotations``). Both parse to the records of
``annotation_files`` (one per video) with ``label_ids`` set.
"""
import os
import re
from collections import OrderedDict
from fractions import Fraction
from typing import Dict, List, Optional, Sequence

from .activitynet_annotations import (parse_activitynet_json,
                                      records_to_activitynet_json)
from .annotation_files import (  # noqa: F401 (read_video_info: API)
    class_names_from_records, load_class_names, parse_label_id, read_csv_rows,
    read_json, read_video_info)
from .tad_errors import TADDataError

TASKS = ('verb', 'noun')
_TIMESTAMP = re.compile(r'^(\d+):([0-5]\d):([0-5]\d(?:\.\d+)?)$')


def check_task(task: str, where: str = 'EPIC-Kitchens') -> str:
    """``task`` if it is ``'verb'`` or ``'noun'``; else a TADDataError."""
    if task not in TASKS:
        hint = ''
        if isinstance(task, str) and task.lower().rstrip('s') in TASKS:
            hint = f" (did you mean {task.lower().rstrip('s')!r}?)"
        raise TADDataError(f"{where}: task must be 'verb' or 'noun', got "
                           f'{task!r}{hint}')
    return task


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


def parse_csv(path: str, task: str, video_info: Optional[Dict[str, dict]],
              subset: Optional[str] = None) -> List[dict]:
    """Records (one per video, in file order) from an official CSV.

    Args:
        path (str): The CSV.
        task (str): ``'verb'`` or ``'noun'``.
        video_info (dict | None): ``video_id -> dict(duration, fps)``
            (:func:`read_video_info`); None leaves both None (scoring needs
            neither).
        subset (str | None): The split; defaults to the one in the file
            name, else ``'train'``.
    """
    check_task(task, path)
    rows = read_csv_rows(path, ['video_id', 'start_timestamp',
                                'stop_timestamp'])
    if not rows:
        raise TADDataError(f'annotation file has no rows: {path}')
    subset = subset or subset_of_csv(path) or 'train'
    column = f'{task}_class'
    labelled = column in rows[0]
    if not labelled and subset != 'test':
        raise TADDataError(
            f'{path}: no {column!r} column, so no {task} labels (the header '
            f'is {list(rows[0])}); only the test split\'s CSV comes without '
            'labels: is this the right file, or the right task?')
    videos: Dict[str, dict] = OrderedDict()
    for line, row in enumerate(rows, start=2):
        vid = row['video_id']
        where = f'{path}, line {line} (video {vid})'
        if vid not in videos:
            if video_info is not None and vid not in video_info:
                raise TADDataError(f'{where}: video not in the video info '
                                   'file (video_info_file)')
            info = (video_info or {}).get(vid, {})
            videos[vid] = dict(
                video_name=vid, subset=subset,
                duration=info.get('duration'), fps=info.get('fps'),
                segments=[], labels=[], label_ids=[], info=dict(
                    participant_id=row.get('participant_id',
                                           vid.split('_')[0])))
        if not labelled:
            continue
        rec = videos[vid]
        rec['segments'].append([
            parse_timestamp(row['start_timestamp'], where),
            parse_timestamp(row['stop_timestamp'], where)])
        rec['label_ids'].append(parse_label_id(row[column], where, column))
        rec['labels'].append(row.get(task, ''))
    return list(videos.values())


def parse_actionformer_json(data, path: str) -> List[dict]:
    """Records from ActionFormer's ``{'database': {...}}`` layout (every
    segment must have a ``label_id``)."""
    records = parse_activitynet_json(data, path)
    for rec in records:
        if rec['segments'] and rec['label_ids'] is None:
            raise TADDataError(f"{path}, video {rec['video_name']}: EPIC "
                               "annotations need a 'label_id' per segment")
        if rec['label_ids'] is None:
            rec['label_ids'] = []
    return records


def placeholder_class_names(records: Sequence[dict], task: str
                            ) -> List[str]:
    """``'{task}_{id}'`` for ids ``0..max``: scoring a CSV without its
    class file (the metric only needs the ids)."""
    top = max((max(r['label_ids']) for r in records if r['label_ids']),
              default=-1)
    return [f'{task}_{i}' for i in range(top + 1)]


def read_epic_file(path: str, task: str = 'verb',
                   video_info_file: Optional[str] = None,
                   class_file=None, subset: Optional[str] = None,
                   require_meta: bool = True):
    """``(records, class names)`` of an EPIC CSV or ActionFormer JSON.

    Args:
        path (str): ``.csv`` (official) or ``.json`` (ActionFormer).
        task (str): ``'verb'`` or ``'noun'``.
        video_info_file (str | None): ``EPIC_100_video_info.csv``.
        class_file (str | list | None): class names (a file
            :func:`load_class_names` reads, or a list).
        subset (str | None): A CSV's split when its name does not say.
        require_meta (bool): The CSV layout needs ``video_info_file`` and
            ``class_file`` (a dataset does); False falls back to no
            durations and :func:`placeholder_class_names` (scoring).
    """
    check_task(task, path)
    given = None if class_file is None else load_class_names(class_file)
    if not path.lower().endswith('.csv'):
        records = parse_actionformer_json(read_json(path), path)
        return records, class_names_from_records(records, given, path)
    if require_meta and not video_info_file:
        raise TADDataError(f'{path}: the CSV layout needs video_info_file '
                           '(EPIC_100_video_info.csv)')
    if require_meta and given is None:
        raise TADDataError(f'{path}: the CSV layout needs class_file '
                           f'(EPIC_100_{task}_classes.csv)')
    info = read_video_info(video_info_file) if video_info_file else None
    records = parse_csv(path, task, info, subset)
    return records, (given if given is not None else
                     placeholder_class_names(records, task))


# ---------------------------------------------------------------- converters
def records_to_actionformer_json(records: List[dict],
                                 class_names: Sequence[str]) -> dict:
    """Records -> ActionFormer JSON (subsets spelled 'training' etc.)."""
    return records_to_activitynet_json(records, class_names,
                                       version='EPIC-Kitchens-100')


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
