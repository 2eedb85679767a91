"""Ego4D Moment Queries annotations: the official and the converted layout.

Official release (``moments_train.json``, ``moments_val.json``,
``moments_test_unannotated.json``)::

    {'videos': [{'video_uid', 'split',
                 'clips': [{'clip_uid', 'video_start_sec', 'video_end_sec',
                            'annotations': [{'annotator_uid', 'labels': [
                                {'start_time', 'end_time', 'label',
                                 'primary', ...}]}]}]}]}

Converted per-clip layout (ActionFormer family,
``ego4d_clip_annotations.json``)::

    {clip_uid: {'video_id', 'clip_id', 'duration', 'parent_start_sec',
                'parent_end_sec', 'v_duration', 'fps', 'subset',
                'annotations': [{'segment': [s, e], 'label', 'label_id'}]}}

Times are seconds from the clip start in both. Both parse to the records
of ``annotation_files`` (one per clip, ``info=dict(video_id,
parent_start_sec, parent_end_sec)``).

Like Ego4D's own conversion script, only ``primary`` labels of the official
layout are kept, and every annotator's labels are kept (duplicates
included: the official evaluation scores each of them as a ground truth).
"""
from collections import defaultdict
from typing import Dict, List, Optional, Sequence

from .activitynet_annotations import parse_video_entry
from .annotation_files import (class_names_from_records, label_ids_of_record,
                               normalize_subset, read_json, to_seconds)
from .tad_errors import TADDataError

SPLIT_FILES = {'train': 'moments_train.json', 'val': 'moments_val.json',
               'test': 'moments_test_unannotated.json'}


def detect_layout(data, path: str) -> str:
    """``'moments'`` (official) or ``'clips'`` (converted)."""
    if isinstance(data, dict) and isinstance(data.get('videos'), list):
        return 'moments'
    if isinstance(data, dict) and data and all(
            isinstance(v, dict) and 'subset' in v for v in data.values()):
        return 'clips'
    if isinstance(data, dict) and not data:
        raise TADDataError(f'annotation file {path} holds no clips')
    raise TADDataError(
        f'{path}: not an Ego4D moments file (no "videos" list) nor a '
        'converted clip file ({clip_uid: {subset, duration, annotations}})')


def _need(entry: dict, key: str, where: str):
    if key not in entry:
        raise TADDataError(f'{where}: missing field {key!r}')
    return entry[key]


def parse_clip_layout(data: Dict[str, dict], path: str) -> List[dict]:
    """Records from the converted per-clip layout.

    The entries are ActivityNet-style (``activitynet_annotations``) with the
    clip's place in its parent video besides; a clip without ``duration``
    takes ``parent_end_sec - parent_start_sec``.
    """
    records = []
    for clip_uid, clip in data.items():
        where = f'{path}, clip {clip_uid}'
        rec = parse_video_entry(clip_uid, clip, where)
        if any(not name for name in rec['labels']):
            raise TADDataError(f"{where}: missing field 'label'")
        if rec['duration'] is None and 'parent_end_sec' in clip:
            rec['duration'] = (
                to_seconds(clip['parent_end_sec'], where, 'parent_end_sec') -
                to_seconds(clip.get('parent_start_sec', 0.0), where,
                           'parent_start_sec'))
        rec['info'] = dict(video_id=clip.get('video_id'),
                           parent_start_sec=clip.get('parent_start_sec'),
                           parent_end_sec=clip.get('parent_end_sec'))
        records.append(rec)
    return records


def parse_moments_layout(data: dict, path: str,
                         primary_only: bool = True) -> List[dict]:
    """Records from the official ``moments_*.json`` layout."""
    records, seen = [], set()
    for video in data['videos']:
        video_uid = _need(video, 'video_uid', path)
        where_video = f'{path}, video {video_uid}'
        subset = normalize_subset(_need(video, 'split', where_video),
                                  where_video)
        for clip in _need(video, 'clips', where_video):
            clip_uid = str(_need(clip, 'clip_uid', where_video))
            where = f'{path}, clip {clip_uid}'
            if clip_uid in seen:
                raise TADDataError(f'{where}: clip listed twice')
            seen.add(clip_uid)
            start = to_seconds(_need(clip, 'video_start_sec', where), where,
                               'video_start_sec')
            end = to_seconds(_need(clip, 'video_end_sec', where), where,
                             'video_end_sec')
            segments, labels = [], []
            for annotation in clip.get('annotations') or []:
                for label in _need(annotation, 'labels', where):
                    if primary_only and not label.get('primary', True):
                        continue
                    segments.append([
                        to_seconds(_need(label, 'start_time', where), where,
                                   'start_time'),
                        to_seconds(_need(label, 'end_time', where), where,
                                   'end_time')])
                    labels.append(str(_need(label, 'label', where)))
            records.append(dict(
                video_name=clip_uid, subset=subset, duration=end - start,
                fps=None, segments=segments, labels=labels, label_ids=None,
                info=dict(video_id=video_uid, parent_start_sec=start,
                          parent_end_sec=end)))
    return records


def read_ego4d_mq_file(path: str,
                       class_names: Optional[Sequence[str]] = None,
                       primary_only: bool = True):
    """``(records, class names)`` of an Ego4D-MQ file, layout detected.

    Class ids: ``class_names`` when given; else the converted file's
    ``label_id`` (the ids the public ASL / ActionFormer checkpoints use);
    else, for the official layout, the sorted label names. The class list
    is built from the whole file, whatever subset is used later.
    """
    data = read_json(path)
    if detect_layout(data, path) == 'moments':
        records = parse_moments_layout(data, path, primary_only)
    else:
        records = parse_clip_layout(data, path)
    return records, class_names_from_records(records, class_names, path)


# ---------------------------------------------------------------- converters
def moments_to_clips(moment_files: Sequence[dict], paths: Sequence[str],
                     class_names: Optional[Sequence[str]] = None,
                     primary_only: bool = True,
                     drop_unlabelled: bool = True) -> Dict[str, dict]:
    """Official moments files -> the converted per-clip layout.

    Like Ego4D's converter, train / val clips with no (primary) label are
    dropped; test clips are kept without annotations. ``label_id`` follows
    ``class_names`` or, without it, the sorted label names.
    """
    records = []
    for data, path in zip(moment_files, paths):
        records += parse_moments_layout(data, path, primary_only)
    classes = class_names_from_records(records, class_names, ','.join(paths))
    out = {}
    for rec in records:
        if drop_unlabelled and rec['subset'] != 'test' and not rec['labels']:
            continue
        ids = label_ids_of_record(rec, classes, unit='clip')
        info = rec['info']
        out[rec['video_name']] = dict(
            video_id=info['video_id'], clip_id=rec['video_name'],
            duration=rec['duration'],
            parent_start_sec=info['parent_start_sec'],
            parent_end_sec=info['parent_end_sec'], subset=rec['subset'],
            annotations=[dict(segment=list(seg), label=name, label_id=idx)
                         for seg, name, idx in zip(rec['segments'],
                                                   rec['labels'], ids)])
    return out


def clips_to_moments(clips: Dict[str, dict], path: str = 'clips'
                     ) -> Dict[str, dict]:
    """Converted clip layout -> official moments layout, one dict per split.

    Each clip's labels go under a single annotator (the converted layout no
    longer knows who drew what), all marked ``primary``. Test clips are
    written without annotations, as ``moments_test_unannotated.json`` is.
    """
    by_split: Dict[str, Dict[str, dict]] = defaultdict(dict)
    for rec in parse_clip_layout(clips, path):
        info = rec['info']
        start = info['parent_start_sec'] or 0.0
        end = info['parent_end_sec']
        if end is None:
            end = start + rec['duration']
        labels = [dict(start_time=s, end_time=e, label=name, primary=True,
                       video_start_time=start + s, video_end_time=start + e)
                  for (s, e), name in zip(rec['segments'], rec['labels'])]
        clip = dict(clip_uid=rec['video_name'], video_start_sec=start,
                    video_end_sec=end)
        if rec['subset'] != 'test':
            clip['annotations'] = [dict(annotator_uid='converted',
                                        labels=labels)]
        video_uid = info['video_id'] or rec['video_name']
        video = by_split[rec['subset']].setdefault(
            video_uid, dict(video_uid=video_uid, split=rec['subset'],
                            clips=[]))
        video['clips'].append(clip)
    return {split: dict(version='v1', videos=list(videos.values()))
            for split, videos in by_split.items()}
