"""Small readers shared by every annotation parser: JSON / CSV files, split
names, segments and class lists, each failing with a message naming the
file (and the row or video).

Every parser (``*_annotations.py``) turns its file into *records*, one per
video::

    dict(video_name, subset, duration (s) or None, fps or None,
         segments=[[s, e], ...] (seconds), labels=[name, ...],
         label_ids=[int, ...] or None (None: the file names classes only),
         info={...})

and the class list follows one rule, :func:`class_names_from_records`:
a given class list wins; else the file's ids fix the order; a file without
ids uses the sorted label names. A segment's class is its id where the file
has ids, else its name looked up in the class list
(:func:`label_ids_of_record`). The datasets and the metric's reader
(``evaluation/functional/annotation_io.py``) both go through these.
"""
import csv
import json
import logging
import os
from typing import Dict, List, Optional, Sequence, Union

from mmengine.logging import print_log

from .tad_errors import TADDataError

# Split spellings found in the public files -> the names used in configs.
SUBSET_ALIASES = {'train': 'train', 'training': 'train', 'val': 'val',
                  'validation': 'val', 'test': 'test', 'testing': 'test'}


def normalize_subset(name: str, where: str) -> str:
    """``'Validation'`` -> ``'val'``; unknown names are an error."""
    key = str(name).strip().lower()
    if key not in SUBSET_ALIASES:
        raise TADDataError(f'{where}: unknown subset {name!r}; expected one '
                           f'of {sorted(SUBSET_ALIASES)}')
    return SUBSET_ALIASES[key]


def normalize_subsets(subset: Union[str, Sequence[str], None]
                      ) -> Optional[set]:
    """The requested subsets as a set of canonical names (None: all)."""
    if subset is None:
        return None
    names = [subset] if isinstance(subset, str) else list(subset)
    return {normalize_subset(n, 'subset argument') for n in names}


def read_json(path: str):
    """Parsed JSON; a missing, empty or malformed file is a TADDataError."""
    if not os.path.isfile(path):
        raise TADDataError(f'annotation file not found: {path}')
    if os.path.getsize(path) == 0:
        raise TADDataError(f'annotation file is empty: {path}')
    try:
        with open(path, encoding='utf-8') as f:
            return json.load(f)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise TADDataError(f'annotation file {path} is not valid JSON: '
                           f'{exc}') from exc


def read_csv_rows(path: str, required: Sequence[str]) -> List[dict]:
    """Rows of a CSV file with a header that has every ``required`` column."""
    if not os.path.isfile(path):
        raise TADDataError(f'annotation file not found: {path}')
    with open(path, newline='', encoding='utf-8') as f:
        reader = csv.DictReader(f)
        if reader.fieldnames is None:
            raise TADDataError(f'annotation file is empty: {path}')
        missing = [c for c in required if c not in reader.fieldnames]
        if missing:
            raise TADDataError(f'{path}: missing column(s) {missing}; the '
                               f'header is {reader.fieldnames}')
        return list(reader)


def read_video_info(path: str) -> Dict[str, dict]:
    """``video_id -> dict(duration, fps)`` from a CSV with ``video_id``,
    ``duration`` (s) and ``fps`` columns (``EPIC_100_video_info.csv``, or
    one a user writes for THUMOS14 / MultiTHUMOS)."""
    info = {}
    for line, row in enumerate(read_csv_rows(
            path, ['video_id', 'duration', 'fps']), start=2):
        where = f"{path}, line {line} (video {row['video_id']})"
        info[row['video_id']] = dict(
            duration=to_seconds(row['duration'], where, 'duration'),
            fps=to_seconds(row['fps'], where, 'fps'))
    return info


def read_text_lines(path: str) -> List[str]:
    """Non-empty lines of a text file, stripped."""
    if not os.path.isfile(path):
        raise TADDataError(f'annotation file not found: {path}')
    with open(path, encoding='utf-8') as f:
        return [line.strip() for line in f if line.strip()]


def read_indexed_class_list(path: str) -> List[str]:
    """Class names from lines ``<id> <name>``, index = id - smallest id.

    MultiTHUMOS's ``class_list.txt`` (``1 BaseballPitch``, ids from 1) and
    Charades' ``Charades_v1_classes.txt`` (``c000 Holding some clothes``,
    ids from 0, letter prefix) are both this; names may hold spaces.
    """
    by_id: Dict[int, str] = {}
    for line in read_text_lines(path):
        code, _, name = line.partition(' ')
        digits = code.lstrip('abcdefghijklmnopqrstuvwxyz')
        if not digits.isdigit() or not name.strip():
            raise TADDataError(f'{path}: line {line!r} is not "<id> <name>"')
        if int(digits) in by_id:
            raise TADDataError(f'{path}: class id {code} listed twice')
        by_id[int(digits)] = name.strip()
    if not by_id:
        raise TADDataError(f'no class names in {path}')
    first = min(by_id)
    if sorted(by_id) != list(range(first, first + len(by_id))):
        raise TADDataError(f'{path}: class ids must run {first}..'
                           f'{first + len(by_id) - 1} without gaps')
    return [by_id[i] for i in range(first, first + len(by_id))]


def to_seconds(value, where: str, what: str = 'time') -> float:
    """A number of seconds from a JSON number or a numeric string."""
    try:
        seconds = float(value)
    except (TypeError, ValueError):
        raise TADDataError(f'{where}: {what} {value!r} is not a number of '
                           'seconds') from None
    return seconds


def parse_segment(value, where: str) -> List[float]:
    """``[start, end]`` seconds from a two-number list."""
    if not (isinstance(value, (list, tuple)) and len(value) == 2):
        raise TADDataError(f'{where}: malformed segment {value!r}; expected '
                           '[start, end] in seconds')
    return [to_seconds(value[0], where, 'segment start'),
            to_seconds(value[1], where, 'segment end')]


def parse_label_id(value, where: str, what: str = 'label_id') -> int:
    """A class id from a JSON number or a numeric string."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        number = None
    if number is None or not number.is_integer():
        raise TADDataError(f'{where}: {what} {value!r} is not an integer '
                           'class id')
    return int(number)


def class_names_from_records(records: Sequence[dict],
                             given: Optional[Sequence[str]],
                             path: str) -> List[str]:
    """The class list, index = class id (the one rule of the project).

    * ``given`` (a class file or list) wins;
    * else, when every segment of the file has an id, the ids fix the order
      (so checkpoints trained on that file keep their meaning); ids with no
      segment are named ``unseen_class_<id>``;
    * else the sorted label names (files that name classes only).
    """
    if given is not None:
        return list(given)
    by_id: Dict[int, str] = {}
    names = set()
    labelled = [rec for rec in records if rec['labels']]
    with_ids = sum(rec['label_ids'] is not None for rec in labelled)
    if 0 < with_ids < len(labelled):
        raise TADDataError(f'{path}: {with_ids} of {len(labelled)} labelled '
                           'videos give label_id for every segment; give it '
                           'to all segments or to none')
    for rec in records:
        names.update(rec['labels'])
        if not with_ids:
            continue
        for name, idx in zip(rec['labels'], rec['label_ids'] or []):
            name = name or f'class_{idx}'
            if by_id.setdefault(idx, name) != name:
                raise TADDataError(f'{path}: label_id {idx} is used for both '
                                   f'{by_id[idx]!r} and {name!r}')
    if not names:
        raise TADDataError(f'{path}: no labelled segment to build the class '
                           'list from; give the class list (class_names / '
                           'class_file)')
    if not by_id:
        return sorted(names)
    if min(by_id) < 0:
        raise TADDataError(f'{path}: negative label_id {min(by_id)}')
    named = [n for n in by_id.values() if not n.startswith('class_')]
    if len(set(named)) != len(named):
        raise TADDataError(f'{path}: the same label name has several '
                           'label_id values')
    missing = [i for i in range(max(by_id) + 1) if i not in by_id]
    if missing:  # a file with part of the data: ids keep their meaning
        print_log(f'{path}: no segment has label_id {missing}; those classes '
                  "are named 'unseen_class_<id>' (give the class list to "
                  'name them)', logger='current', level=logging.WARNING)
    return [by_id.get(i, f'unseen_class_{i}') for i in range(max(by_id) + 1)]


def label_ids_of_record(record: dict, classes: Sequence[str],
                        unit: str = 'video', what: str = 'class',
                        names_are_classes: bool = True) -> List[int]:
    """Class ids of a record's segments (see the module doc for the rule).

    Args:
        record (dict): One parsed video.
        classes (sequence[str]): The class list.
        unit (str): ``'video'`` / ``'clip'``, for the messages.
        what (str): Kind of class, for the messages (``'verb class'``).
        names_are_classes (bool): The file's label names are class names
            (Ego4D, THUMOS, ActivityNet...): with ids too, a name that is
            another class's name than its id's is an error. EPIC's names
            are narrated words ('put-down' for class 'put'): False.
    """
    name = record['video_name']
    if record['label_ids'] is None:
        index = {c: i for i, c in enumerate(classes)}
        unknown = sorted({n for n in record['labels'] if n not in index})
        if unknown:
            raise TADDataError(f'{unit} {name}: unknown label(s) {unknown} '
                               f'(not among the {len(classes)} classes)')
        return [index[n] for n in record['labels']]
    ids = list(record['label_ids'])
    bad = sorted({i for i in ids if not 0 <= i < len(classes)})
    if bad:
        raise TADDataError(f'{unit} {name}: unknown {what} id(s) {bad} '
                           f'(there are {len(classes)} classes)')
    if names_are_classes:
        known = set(classes)
        for label, idx in zip(record['labels'], ids):
            if label in known and label != classes[idx]:
                raise TADDataError(
                    f'{unit} {name}: label {label!r} has label_id {idx}, but '
                    f'class {idx} of the class list is {classes[idx]!r}; ids '
                    "follow the file's label_id (give the class list in that "
                    'order, or none)')
    return ids


def load_class_names(spec: Union[str, Sequence[str]]) -> List[str]:
    """Class names from a list or a file, index = label id.

    Files: ``.txt`` (one name a line), ``.json`` (a list) or ``.csv`` with
    ``id`` and ``key`` columns (the EPIC-Kitchens class files).
    """
    if not isinstance(spec, str):
        names = [str(n) for n in spec]
    elif spec.endswith('.csv'):
        rows = read_csv_rows(spec, ['id', 'key'])
        try:
            by_id = {int(r['id']): r['key'] for r in rows}
        except ValueError as exc:
            raise TADDataError(f'{spec}: non-integer class id: {exc}') from exc
        if sorted(by_id) != list(range(len(by_id))):
            raise TADDataError(f'{spec}: class ids must be 0..'
                               f'{len(by_id) - 1} without gaps')
        names = [by_id[i] for i in range(len(by_id))]
    elif spec.endswith('.json'):
        names = [str(n) for n in read_json(spec)]
    else:
        if not os.path.isfile(spec):
            raise TADDataError(f'class name file not found: {spec}')
        with open(spec, encoding='utf-8') as f:
            names = [line.rstrip('\n') for line in f if line.strip()]
    if not names:
        raise TADDataError(f'no class names in {spec!r}')
    if len(set(names)) != len(names):
        raise TADDataError(f'duplicate class names in {spec!r}')
    return names
