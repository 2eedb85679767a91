"""EPIC-Kitchens-100 action detection, one sample per video."""
import os.path as osp
from typing import List, Optional, Tuple

from mmaction.registry import DATASETS

from .annotation_files import load_class_names, read_json
from .base_tad_dataset import BaseTADDataset
from .epic_annotations import (TASKS, names_from_records,
                               parse_actionformer_json, parse_csv,
                               read_video_info, subset_of_csv)
from .tad_errors import TADDataError


@DATASETS.register_module()
class EpicKitchensDataset(BaseTADDataset):
    """EPIC-Kitchens-100 from the official CSVs or ActionFormer's JSON.

    Args (besides those of :class:`BaseTADDataset`):
        task (str): ``'verb'`` (97 classes) or ``'noun'`` (300).
        video_info_file (str | None): ``EPIC_100_video_info.csv`` (durations
            and frame rates); required for the CSV layout.
        class_file (str | None): ``EPIC_100_{verb,noun}_classes.csv`` (or
            any file ``class_names`` accepts); required for the CSV layout,
            optional for the JSON (names then come from its labels).

    The split of an official CSV comes from its name (``..._train.csv`` ->
    train, ``..._validation.csv`` -> val, ``..._test...`` -> test, unlabelled);
    asking for another subset is an error.
    """

    METAINFO = dict(dataset_name='epic_kitchens_100')

    def __init__(self, *args, task: str = 'verb',
                 video_info_file: Optional[str] = None,
                 class_file: Optional[str] = None, **kwargs) -> None:
        if task not in TASKS:
            raise ValueError(f"task must be 'verb' or 'noun', got {task!r}")
        self.task = task
        self.video_info_file = video_info_file
        self.class_file = class_file
        super().__init__(*args, **kwargs)

    def _join_prefix(self):
        super()._join_prefix()
        root = self.data_root or ''
        if self.video_info_file:
            self.video_info_file = osp.join(root, self.video_info_file)
        if self.class_file:
            self.class_file = osp.join(root, self.class_file)

    def parse_annotations(self) -> Tuple[List[dict], List[str]]:
        class_spec = self.class_names or self.class_file
        if self.ann_file.lower().endswith('.csv'):
            if not self.video_info_file:
                raise TADDataError(f'{self.ann_file}: the CSV layout needs '
                                   'video_info_file (EPIC_100_video_info.csv)')
            if class_spec is None:
                raise TADDataError(f'{self.ann_file}: the CSV layout needs '
                                   f'class_file (EPIC_100_{self.task}_'
                                   'classes.csv)')
            csv_subset = subset_of_csv(self.ann_file)
            if (self.subsets is not None and csv_subset is not None
                    and csv_subset not in self.subsets):
                raise TADDataError(
                    f'{self.ann_file} holds the {csv_subset!r} split but '
                    f'subset={sorted(self.subsets)} was asked')
            records = parse_csv(self.ann_file, self.task,
                                read_video_info(self.video_info_file),
                                subset=(csv_subset or
                                        next(iter(self.subsets or []),
                                             None)))
        else:
            records = parse_actionformer_json(read_json(self.ann_file),
                                              self.ann_file)
        classes = (load_class_names(class_spec) if class_spec is not None
                   else names_from_records(records, self.ann_file))
        return records, classes

    def label_ids_of(self, record: dict) -> List[int]:
        bad = sorted({i for i in record['label_ids']
                      if not 0 <= i < len(self.classes)})
        if bad:
            raise TADDataError(f"video {record['video_name']}: unknown "
                               f'{self.task} class id(s) {bad} (there are '
                               f'{len(self.classes)} classes)')
        return list(record['label_ids'])
