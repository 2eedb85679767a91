"""THUMOS14 and MultiTHUMOS in their original release formats: one text file
per class, one action a line (``video start end``, seconds).

THUMOS14 (``TH14_Temporal_annotations_validation/annotation/`` and
``TH14_Temporal_Annotations_Test/annotations/annotation/``): files
``<Class>_val.txt`` / ``<Class>_test.txt``, e.g. ``BaseballPitch_val.txt``
with lines ``video_validation_0000051 67.5 75.9``. The 20 detection classes
plus ``Ambiguous_{val,test}.txt`` (hard-to-label parts, which the benchmark
neither rewards nor penalises and the ActionFormer family leaves out; left
out here by default). A CliffDiving action is also listed in
``Diving_*.txt``: both are kept, two labels of one segment.

MultiTHUMOS (``multithumos/annotations/``): ``<Class>.txt`` per class (65),
both splits in each file; the split comes from the video name
(``video_validation_*`` is the training split by convention,
``video_test_*`` the test split). ``class_list.txt`` (``<id> <Class>``,
ids from 1) fixes the class order.

Neither release has durations or frame rates: they come from a
``video_info_file``, a ``video_id,duration,fps`` CSV or any ActivityNet-style
JSON of the same videos (ActionFormer's ``thumos14.json`` has all 412), or
the dataset derives the duration from the feature length
(``duration_from_features``). Records are those of ``annotation_files``,
videos sorted by name; a video the info file lacks has no duration / fps.
"""
import glob
import os.path as osp
from typing import Dict, List, Optional, Sequence, Tuple, Union

from .activitynet_annotations import parse_activitynet_json
from .annotation_files import (class_names_from_records, parse_segment,
                               read_json, read_text_lines, read_video_info)
from .tad_errors import TADDataError

THUMOS14_IGNORED_LABELS = ('Ambiguous', )
_THUMOS14_SUFFIXES = {'_val.txt': 'val', '_test.txt': 'test'}
_VIDEO_PREFIXES = {'video_validation_': 'val', 'video_test_': 'test'}
# Files that sit beside MultiTHUMOS's per-class files but are no class.
_NOT_CLASS_FILES = ('class_list.txt', 'readme.txt')

PathSpec = Union[str, Sequence[str]]


def list_annotation_files(spec: PathSpec, what: str) -> List[str]:
    """Every ``.txt`` file of the given folders / files, sorted."""
    paths = [spec] if isinstance(spec, str) else list(spec)
    files = []
    for path in paths:
        if osp.isdir(path):
            files += glob.glob(osp.join(path, '*.txt'))
        elif osp.isfile(path):
            files.append(path)
        else:
            raise TADDataError(f'{what} annotation folder or file not '
                               f'found: {path}')
    if not files:
        raise TADDataError(f'no {what} annotation file (*.txt) in {paths}')
    return sorted(set(files))


def parse_class_file(path: str) -> List[Tuple[str, List[float]]]:
    """``[(video, [start, end]), ...]`` of one per-class file."""
    items = []
    for n, line in enumerate(read_text_lines(path), start=1):
        where = f'{path}, line {n}'
        parts = line.split()
        if len(parts) != 3:
            raise TADDataError(f'{where}: expected "video start end", got '
                               f'{line!r}')
        items.append((parts[0], parse_segment(parts[1:], where)))
    return items


def read_video_info_file(path: str) -> Dict[str, dict]:
    """``video -> dict(duration, fps)`` from a ``video_id,duration,fps`` CSV
    or an ActivityNet-style JSON (its entries' ``duration`` / ``fps``)."""
    if not path.lower().endswith('.json'):
        return read_video_info(path)
    return {rec['video_name']: dict(duration=rec['duration'], fps=rec['fps'])
            for rec in parse_activitynet_json(read_json(path), path)}


def subset_of_video(name: str, where: str) -> str:
    """``'val'`` / ``'test'`` from a THUMOS video name."""
    for prefix, subset in _VIDEO_PREFIXES.items():
        if name.startswith(prefix):
            return subset
    raise TADDataError(f'{where}: video {name!r} is neither '
                       'video_validation_* nor video_test_*')


def _records(items: List[Tuple[str, str, str, List[float]]],
             video_info: Optional[Dict[str, dict]]) -> List[dict]:
    """Records from ``(video, subset, label, segment)`` tuples."""
    by_video: Dict[str, dict] = {}
    for video, subset, label, segment in items:
        rec = by_video.get(video)
        if rec is None:
            info = (video_info or {}).get(video, {})
            rec = by_video[video] = dict(
                video_name=video, subset=subset,
                duration=info.get('duration'), fps=info.get('fps'),
                segments=[], labels=[], label_ids=None, info={})
        elif rec['subset'] != subset:
            raise TADDataError(f'video {video} is listed in both the '
                               f"{rec['subset']!r} and the {subset!r} files")
        rec['segments'].append(segment)
        rec['labels'].append(label)
    return [by_video[v] for v in sorted(by_video)]


def read_thumos14_txt(spec: PathSpec,
                      class_names: Optional[Sequence[str]] = None,
                      video_info_file: Optional[str] = None,
                      ignore_labels: Sequence[str] = THUMOS14_IGNORED_LABELS):
    """``(records, class names)`` of THUMOS14's per-class text files.

    Args:
        spec (str | list[str]): Folder(s) holding ``<Class>_val.txt`` /
            ``<Class>_test.txt`` files, or the files themselves.
        class_names (list[str] | None): Class order; default: sorted names
            (the order of ActionFormer's ``label_id``).
        video_info_file (str | None): Durations and fps
            (:func:`read_video_info_file`).
        ignore_labels (sequence[str]): Classes left out (``Ambiguous``).
    """
    items = []
    for path in list_annotation_files(spec, 'THUMOS14'):
        base = osp.basename(path)
        suffix = next((s for s in _THUMOS14_SUFFIXES if base.endswith(s)),
                      None)
        if suffix is None:
            raise TADDataError(f'{path}: a THUMOS14 annotation file is named '
                               '<Class>_val.txt or <Class>_test.txt')
        label = base[:-len(suffix)]
        if label in ignore_labels:
            continue
        for video, segment in parse_class_file(path):
            items.append((video, _THUMOS14_SUFFIXES[suffix], label, segment))
    info = read_video_info_file(video_info_file) if video_info_file else None
    records = _records(items, info)
    where = spec if isinstance(spec, str) else ', '.join(spec)
    return records, class_names_from_records(records, class_names, where)


def read_multithumos_txt(spec: PathSpec,
                         class_names: Optional[Sequence[str]] = None,
                         video_info_file: Optional[str] = None):
    """``(records, class names)`` of MultiTHUMOS's per-class text files.

    Args:
        spec (str | list[str]): The ``annotations/`` folder (``<Class>.txt``
            per class), or the files.
        class_names (list[str] | None): Class order, e.g. from
            ``class_list.txt`` (:func:`read_indexed_class_list`); default:
            sorted names.
        video_info_file (str | None): Durations and fps
            (:func:`read_video_info_file`).
    """
    items = []
    for path in list_annotation_files(spec, 'MultiTHUMOS'):
        if osp.basename(path).lower() in _NOT_CLASS_FILES:
            continue
        label = osp.splitext(osp.basename(path))[0]
        for video, segment in parse_class_file(path):
            items.append((video, subset_of_video(video, path), label,
                          segment))
    info = read_video_info_file(video_info_file) if video_info_file else None
    records = _records(items, info)
    where = spec if isinstance(spec, str) else ', '.join(spec)
    return records, class_names_from_records(records, class_names, where)
