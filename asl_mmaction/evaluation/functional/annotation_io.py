"""Ground truth of an annotation file, for scoring saved predictions.

``tools/eval_predictions.py`` (and the visualisation tools) score a
prediction file with nothing but the annotation file, so this module needs
no features and no config. It reads every format a dataset class reads,
through **the same parser functions** (``asl_mmaction/datasets/
*_annotations.py``) and the same class-order rule
(``annotation_files.class_names_from_records``: a given list, else the
file's ids, else the sorted names), so a metric run on a file agrees with
the dataset built on it on class names, class order and segment seconds.

Formats, by dataset (``dataset=None`` guesses it from the file):

========================  ==================================================
``ego4d_mq``              official ``moments_*.json``, the converted
                          per-clip JSON
``epic_kitchens_100``     ``EPIC_100_*.csv`` (durations and class names from
                          ``EPIC_100_video_info.csv`` and
                          ``EPIC_100_{task}_classes.csv`` beside it when
                          present), ActionFormer's JSON
``thumos14``              ActionFormer's ``thumos14.json``, a folder of
                          ``<Class>_{val,test}.txt`` (``Ambiguous`` left out)
``activitynet``           ``activity_net.v1-3.min.json`` or any other
                          ActivityNet-style JSON (``{"database": ...}``)
``multithumos``           the ``annotations/`` folder of per-class files
                          (``class_list.txt`` beside it orders the classes),
                          an ActivityNet-style JSON
``charades``              ``Charades_v1_{train,test}.csv``
                          (``Charades_v1_classes.txt`` beside it names the
                          classes), an ActivityNet-style JSON
========================  ==================================================
"""
import os
import os.path as osp
from typing import Callable, Dict, Optional, Sequence, Tuple

import numpy as np

from asl_mmaction.datasets.activitynet_annotations import \
    read_activitynet_file
from asl_mmaction.datasets.annotation_files import (label_ids_of_record,
                                                    load_class_names,
                                                    normalize_subset,
                                                    read_json)
from asl_mmaction.datasets.charades_dataset import read_charades_file
from asl_mmaction.datasets.ego4d_annotations import read_ego4d_mq_file
from asl_mmaction.datasets.epic_annotations import parse_timestamp
from asl_mmaction.datasets.epic_annotations import read_epic_file
from asl_mmaction.datasets.tad_errors import TADDataError
from asl_mmaction.datasets.thumos14_dataset import (is_text_annotation,
                                                    read_multithumos_file,
                                                    read_thumos14_file)

# The old name of the EPIC timestamp parser.
timestamp_to_seconds = parse_timestamp

# The split each benchmark reports (the one a prediction file is scored on
# when no subset is asked).
EVAL_SUBSETS = {'ego4d_mq': 'val', 'epic_kitchens_100': 'val',
                'thumos14': 'test', 'activitynet': 'val',
                'multithumos': 'test', 'charades': 'test'}


def _beside(path: str, name: str) -> Optional[str]:
    """``name`` in the folder of ``path`` (or its parent), if it exists."""
    folder = path if osp.isdir(path) else osp.dirname(path)
    for place in (folder, osp.dirname(folder)):
        candidate = osp.join(place, name)
        if osp.isfile(candidate):
            return candidate
    return None


def _read_epic(path, task, class_names):
    is_csv = path.lower().endswith('.csv')
    return read_epic_file(
        path, task,
        video_info_file=_beside(path, 'EPIC_100_video_info.csv')
        if is_csv else None,
        class_file=class_names if class_names is not None else
        (_beside(path, f'EPIC_100_{task}_classes.csv') if is_csv else None),
        require_meta=False)


READERS: Dict[str, Callable] = {
    'ego4d_mq': lambda path, task, names: read_ego4d_mq_file(path, names),
    'epic_kitchens_100': _read_epic,
    'thumos14': lambda path, task, names: read_thumos14_file(path, names),
    'activitynet': lambda path, task, names: read_activitynet_file(path,
                                                                   names),
    'multithumos': lambda path, task, names: read_multithumos_file(
        path, names, class_file=None if names is not None else
        _beside(path, 'class_list.txt')),
    'charades': lambda path, task, names: read_charades_file(
        path, names, class_file=None if names is not None else
        _beside(path, 'Charades_v1_classes.txt')),
}


def guess_dataset(path: str) -> str:
    """The dataset whose reader fits ``path``, from its name / content."""
    if is_text_annotation(path):
        if osp.isdir(path):
            names = ' '.join(sorted(os.listdir(path)))
        else:
            names = osp.basename(path)
        return ('thumos14' if '_val.txt' in names or '_test.txt' in names
                else 'multithumos')
    if path.lower().endswith('.csv'):
        with open(path, encoding='utf-8') as f:
            header = f.readline()
        return ('charades' if 'actions' in header and 'length' in header
                else 'epic_kitchens_100')
    data = read_json(path)
    if isinstance(data, dict) and isinstance(data.get('database'), dict):
        return 'activitynet'
    return 'ego4d_mq'


def read_tad_annotations(path: str, subset: Optional[str] = None,
                         task: str = 'verb', dataset: Optional[str] = None,
                         class_names: Optional[Sequence[str]] = None
                         ) -> Tuple[Dict[str, dict], Tuple[str, ...]]:
    """Ground truth of one split, in seconds.

    Args:
        path (str): An annotation file (or folder, for per-class text
            files) in one of the formats of the module doc.
        subset (str, optional): Keep the videos of this subset (``val`` /
            ``validation``... are the same); None keeps all. Ignored for
            a CSV (EPIC-Kitchens, Charades): each is one split already.
        task (str): ``'verb'`` or ``'noun'`` for EPIC-Kitchens.
        dataset (str, optional): The dataset (a key of :data:`READERS`);
            None guesses it from the file.
        class_names (sequence[str] | str, optional): Class list (or a file
            of it) instead of the one the file gives.

    Returns:
        tuple: ``videos`` (``video_name -> dict(duration, segments [N, 2]
        float64 as annotated, labels [N] int64)``, file order) and the class
        names. A video without a duration in the file gets its last
        segment's end (the metric does not use it).
    """
    dataset = dataset or guess_dataset(path)
    if dataset not in READERS:
        raise TADDataError(f'unknown dataset {dataset!r}; known: '
                           f'{sorted(READERS)}')
    given = (None if class_names is None else load_class_names(class_names))
    records, classes = READERS[dataset](path, task, given)
    if subset is not None and not path.lower().endswith('.csv'):
        wanted = normalize_subset(subset, 'subset argument')
        records = [r for r in records if r['subset'] == wanted]
        if not records:
            raise TADDataError(f'{path}: no video in subset {subset!r}')
    videos = {}
    for rec in records:
        segments = np.asarray(rec['segments'], np.float64).reshape(-1, 2)
        labels = label_ids_of_record(
            rec, classes, names_are_classes=dataset != 'epic_kitchens_100')
        duration = rec['duration']
        if duration is None:
            duration = float(segments[:, 1].max()) if len(segments) else 0.0
        videos[rec['video_name']] = dict(
            duration=float(duration), segments=segments,
            labels=np.asarray(labels, dtype=np.int64))
    return videos, tuple(classes)


def eval_subset(dataset: str, path: str) -> Optional[str]:
    """The subset to score when none is asked (:data:`EVAL_SUBSETS`); None
    for a CSV, which is one split."""
    if path.lower().endswith('.csv'):
        return None
    return EVAL_SUBSETS.get(dataset)
