"""ActivityNet-style JSON: one entry per video with its segments in seconds.

The layout of ActivityNet-1.3's ``activity_net.v1-3.min.json`` and of the
files the ActionFormer family ships for THUMOS14 (``thumos14.json``),
ActivityNet (``anet1.3_tsp_filtered.json``) and EPIC-Kitchens::

    {'version': ..., 'taxonomy': ... (ActivityNet only),
     'database': {video: {'subset': 'training' | 'validation' | 'testing'
                                    | 'Validation' | 'Test' ...,
                          'duration': seconds, 'fps': optional,
                          'annotations': [{'segment': [s, e],
                                           'label': name,
                                           'label_id': optional int}]}}}

The ASL authors' MultiTHUMOS / Charades files hold the same per-video
mapping without the ``'database'`` wrapper; both are read. Official
ActivityNet files have no ``label_id`` (classes are then the sorted names,
:func:`~.annotation_files.class_names_from_records`); ActionFormer's have
one. A segment may also be spelled ``start_time`` / ``end_time`` (the
metric's reader always accepted it).
"""
from typing import Dict, List, Optional, Sequence

from .annotation_files import (class_names_from_records, normalize_subset,
                               parse_label_id, parse_segment, read_json,
                               to_seconds)
from .tad_errors import TADDataError


def video_database(data, path: str) -> Dict[str, dict]:
    """The ``{video: entry}`` mapping, with or without ``'database'``."""
    if isinstance(data, dict) and isinstance(data.get('database'), dict):
        data = data['database']
    elif not (isinstance(data, dict) and all(
            isinstance(v, dict) and 'subset' in v for v in data.values())):
        raise TADDataError(f'{path}: expected {{"database": {{video: '
                           '{subset, duration, annotations}}}} (ActivityNet /'
                           ' ActionFormer layout) or that mapping alone')
    if not data:
        raise TADDataError(f'annotation file {path} holds no videos')
    return data


def parse_video_entry(name: str, video: dict, where: str,
                      ignore_labels: Sequence[str] = ()) -> dict:
    """One record (see ``annotation_files``) from one per-video entry.

    Segments labelled one of ``ignore_labels`` are left out (THUMOS14's
    ``Ambiguous``); ``info['ignored']`` counts them.
    """
    if not isinstance(video, dict):
        raise TADDataError(f'{where}: expected an object, got '
                           f'{type(video).__name__}')
    if 'subset' not in video:
        raise TADDataError(f"{where}: missing field 'subset'")
    segments, labels, label_ids = [], [], []
    ignored = 0
    for i, ann in enumerate(video.get('annotations') or []):
        here = f'{where}, annotation {i}'
        if not isinstance(ann, dict):
            raise TADDataError(f'{here}: expected an object, got {ann!r}')
        if 'segment' in ann:
            segment = parse_segment(ann['segment'], here)
        elif 'start_time' in ann and 'end_time' in ann:
            segment = parse_segment([ann['start_time'], ann['end_time']],
                                    here)
        else:
            raise TADDataError(f"{where}: missing field 'segment'")
        if 'label' not in ann and 'label_id' not in ann:
            raise TADDataError(f"{here}: needs 'label' or 'label_id'")
        label = str(ann.get('label', ''))
        if label in ignore_labels:
            ignored += 1
            continue
        segments.append(segment)
        labels.append(label)
        label_ids.append(None if ann.get('label_id') is None else
                         parse_label_id(ann['label_id'], here))
    with_ids = sum(i is not None for i in label_ids)
    if 0 < with_ids < len(label_ids):
        raise TADDataError(f'{where}: {with_ids} of {len(label_ids)} '
                           "segments have a 'label_id'; give it to all or "
                           'none')
    duration = video.get('duration')
    fps = video.get('fps')
    return dict(
        video_name=str(name), subset=normalize_subset(video['subset'], where),
        duration=None if duration is None else
        to_seconds(duration, where, 'duration'),
        fps=None if fps is None else to_seconds(fps, where, 'fps'),
        segments=segments, labels=labels,
        label_ids=label_ids if with_ids else None,
        info=dict(ignored=ignored))


def parse_activitynet_json(data, path: str,
                           ignore_labels: Sequence[str] = (),
                           unit: str = 'video') -> List[dict]:
    """Records (file order) of an ActivityNet-style JSON document."""
    return [parse_video_entry(name, video, f'{path}, {unit} {name}',
                              ignore_labels)
            for name, video in video_database(data, path).items()]


def read_activitynet_file(path: str,
                          class_names: Optional[Sequence[str]] = None,
                          ignore_labels: Sequence[str] = ()):
    """``(records, class names)`` of an ActivityNet-style JSON file."""
    records = parse_activitynet_json(read_json(path), path, ignore_labels)
    return records, class_names_from_records(records, class_names, path)


def records_to_activitynet_json(records: Sequence[dict],
                                class_names: Sequence[str],
                                version: str = 'converted') -> dict:
    """Records -> the ActionFormer layout (``label`` and ``label_id``).

    Subsets are spelled ``training`` / ``validation`` / ``testing``; a
    record's ``label_ids`` are written as they are (the caller resolved
    them against ``class_names``).
    """
    spelled = dict(train='training', val='validation', test='testing')
    database = {}
    for rec in records:
        entry = dict(subset=spelled[rec['subset']], duration=rec['duration'])
        if rec.get('fps') is not None:
            entry['fps'] = rec['fps']
        entry['annotations'] = [
            dict(segment=[float(s), float(e)], label=class_names[i],
                 label_id=int(i))
            for (s, e), i in zip(rec['segments'], rec['label_ids'])]
        database[rec['video_name']] = entry
    return dict(version=version, database=database)
