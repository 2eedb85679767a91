"""Small readers shared by the dataset adapters: JSON / CSV files, split
names and class-name lists, each failing with a message naming the file."""
import csv
import json
import os
from typing import List, Optional, Sequence, Union

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
