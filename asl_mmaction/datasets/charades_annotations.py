"""Charades in its original release format: ``Charades_v1_{train,test}.csv``.

One row per video: ``id`` (e.g. ``46GP8``), ``length`` (seconds) and
``actions``, ``;``-separated ``c### start end`` triples (class code and
seconds), e.g. ``c092 11.90 21.20;c147 0.00 12.60``, empty for a video
without action; the other columns (subject, scene, script, ...) are not
used. ``Charades_v1_classes.txt`` lists the 157 classes as ``c### name``;
the code's number is the class id (``c000`` -> 0). The split comes from the
file name (``..._train.csv`` -> train, ``..._test.csv`` -> test; the test
CSV is labelled and is the split every paper reports).

An action with end <= start cannot be scored nor learnt: it is left out,
and ``info['dropped']`` counts those of each video (the dataset logs them).
Records are those of ``annotation_files``, in file order.
"""
import os.path as osp
from typing import Optional, Sequence

from .annotation_files import (class_names_from_records, parse_segment,
                               read_csv_rows, to_seconds)
from .tad_errors import TADDataError

NUM_CLASSES = 157


def subset_of_charades_csv(path: str) -> str:
    """``'train'`` / ``'test'`` from ``Charades_v1_{train,test}.csv``."""
    name = osp.basename(path).lower()
    for key in ('train', 'test'):
        if key in name:
            return key
    raise TADDataError(f'{path}: cannot tell the split from the file name '
                       '(Charades_v1_train.csv or Charades_v1_test.csv)')


def parse_actions(text: str, where: str):
    """``'c092 11.90 21.20;c147 0.00 12.60'`` -> codes, ids, segments."""
    codes, ids, segments = [], [], []
    for i, item in enumerate(t for t in (text or '').split(';') if t.strip()):
        here = f'{where}, action {i}'
        parts = item.split()
        if len(parts) != 3 or not (parts[0][:1] == 'c' and
                                   parts[0][1:].isdigit()):
            raise TADDataError(f'{here}: expected "c### start end", got '
                               f'{item!r}')
        codes.append(parts[0])
        ids.append(int(parts[0][1:]))
        segments.append(parse_segment(parts[1:], here))
    return codes, ids, segments


def read_charades_csv(path: str,
                      class_names: Optional[Sequence[str]] = None):
    """``(records, class names)`` of a Charades CSV.

    Args:
        path (str): ``Charades_v1_train.csv`` or ``Charades_v1_test.csv``.
        class_names (list[str] | None): e.g. from
            ``Charades_v1_classes.txt``; default: the codes found
            (``c000`` ...), ordered by id.
    """
    subset = subset_of_charades_csv(path)
    records = []
    for line, row in enumerate(read_csv_rows(path, ['id', 'actions',
                                                    'length']), start=2):
        where = f"{path}, line {line} (video {row['id']})"
        codes, ids, segments = parse_actions(row['actions'], where)
        keep = [k for k, (s, e) in enumerate(segments) if e > s]
        names = ([class_names[i] if 0 <= i < len(class_names) else codes[k]
                  for k, i in enumerate(ids)] if class_names is not None
                 else codes)
        records.append(dict(
            video_name=row['id'], subset=subset,
            duration=to_seconds(row['length'], where, 'length'), fps=None,
            segments=[segments[k] for k in keep],
            labels=[names[k] for k in keep],
            label_ids=[ids[k] for k in keep],
            info=dict(dropped=len(segments) - len(keep))))
    if not records:
        raise TADDataError(f'annotation file has no rows: {path}')
    return records, class_names_from_records(records, class_names, path)
