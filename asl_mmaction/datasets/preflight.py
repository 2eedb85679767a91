"""Checks of a configured dataset against its model, before training.

What building a dataset cannot know, because it needs the model or reads
every file: labels against the head's ``num_classes``, the class list
against the head, and the values of every feature file
(``feature_checks.py``). ``tools/train.py`` runs :func:`preflight_check`
before the first iteration; ``tools/check_dataset.py`` reports the same
problems video by video.
"""
import os.path as osp
from typing import List, Optional, Sequence, Tuple

from mmengine.config import Config

from .feature_checks import CACHE_NAME, check_dataset_feature_values
from .tad_errors import TADDataError, summarize_bad_videos

Problem = Tuple[str, str]  # (video name, reason)


def model_num_classes(cfg: Config) -> Optional[int]:
    """``model.head.num_classes`` of the config, None when it has none."""
    head = (cfg.get('model') or {}).get('head') or {}
    value = head.get('num_classes')
    return None if value is None else int(value)


def build_split_dataset(cfg: Config, split: str, collect_bad: bool = False):
    """The ``{split}_dataloader.dataset`` of ``cfg`` without its pipeline
    (nothing is loaded); ``collect_bad`` records bad videos in
    ``dataset.bad_videos`` instead of raising at the first."""
    from mmaction.registry import DATASETS
    loader = cfg.get(f'{split}_dataloader')
    if not loader or not loader.get('dataset'):
        raise TADDataError(f'the config has no {split}_dataloader.dataset')
    dataset_cfg = loader['dataset'].copy()
    dataset_cfg['pipeline'] = []
    if collect_bad:
        dataset_cfg['skip_bad_videos'] = True
    return DATASETS.build(dataset_cfg)


def label_problems(dataset, num_classes: int) -> List[Problem]:
    """Videos with a label id outside ``[0, num_classes)``."""
    classes = list(dataset.metainfo.get('classes') or [])
    problems = []
    for idx in range(len(dataset)):
        info = dataset.get_data_info(idx)
        bad = sorted({int(label) for label in info['ann_labels']
                      if not 0 <= int(label) < num_classes})
        if bad:
            named = ', '.join(
                f'{b} ({classes[b]!r})' if b < len(classes) else str(b)
                for b in bad)
            problems.append((info['video_name'], (
                f'label id(s) {named} outside the model\'s {num_classes} '
                f'classes (model.head.num_classes={num_classes})')))
    return problems


def class_list_problem(dataset, num_classes: int) -> Optional[str]:
    """A message when the dataset has more classes than the model."""
    classes = list(dataset.metainfo.get('classes') or [])
    if len(classes) <= num_classes:
        return None
    source = getattr(dataset, 'class_file', None) or \
        getattr(dataset, 'class_names', None)
    where = (f'the class file {source}' if isinstance(source, str) else
             'the class names' if source is not None else
             f'the labels of {dataset.ann_file}')
    return (f'{type(dataset).__name__}: {where} give {len(classes)} classes '
            f'but the model has model.head.num_classes={num_classes}; set '
            'num_classes to the number of classes, or fix the class list / '
            'labels')


def feature_cache_file(cfg: Config) -> Optional[str]:
    """Where the feature-value cache lives: the run's work dir."""
    work_dir = cfg.get('work_dir')
    return osp.join(work_dir, CACHE_NAME) if work_dir else None


def preflight_check(cfg: Config, splits: Sequence[str] = ('train', 'val'),
                    check_values: bool = True, progress: bool = True
                    ) -> dict:
    """Build each split's dataset and check it against the model.

    Checks labels against ``model.head.num_classes``, the class list, and
    (``check_values``) every feature file's values, with the cache in the
    work dir (see ``feature_checks.py``). Splits without a dataloader (e.g.
    ``val`` with ``--no-validate``) are skipped.

    Returns:
        dict: per split, the feature check's statistics.

    Raises:
        TADDataError: every problem found, video by video, and how to see
            them all with ``tools/check_dataset.py``.
    """
    num_classes = model_num_classes(cfg)
    stats = {}
    for split in splits:
        if not cfg.get(f'{split}_dataloader'):
            continue
        dataset = build_split_dataset(cfg, split)
        problems: List[Problem] = []
        if num_classes is not None:
            problems += label_problems(dataset, num_classes)
            problem = class_list_problem(dataset, num_classes)
            if problem and not problems:
                raise TADDataError(problem)
        if check_values:
            result = check_dataset_feature_values(
                dataset, feature_cache_file(cfg), progress=progress)
            problems += result['bad']
            stats[split] = {k: v for k, v in result.items()
                            if k in ('read', 'cached', 'seconds')}
        if problems:
            raise TADDataError(
                f'{split} set ({dataset.ann_file}): {len(problems)} bad '
                'video(s), found before training:\n'
                + summarize_bad_videos(problems)
                + f'\n(python tools/check_dataset.py CONFIG --split {split} '
                'lists every problem)')
    return stats
