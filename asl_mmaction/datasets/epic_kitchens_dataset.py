"""EPIC-Kitchens-100 action detection, one sample per video."""
import os.path as osp
from typing import List, Optional, Tuple

from mmaction.registry import DATASETS

from .annotation_files import label_ids_of_record
from .base_tad_dataset import BaseTADDataset
from .epic_annotations import check_task, read_epic_file, subset_of_csv
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
        check_task(task, f"EpicKitchensDataset({kwargs.get('ann_file', '')})")
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
        subset = None
        if self.ann_file.lower().endswith('.csv'):
            subset = subset_of_csv(self.ann_file)
            if (self.subsets is not None and subset is not None
                    and subset not in self.subsets):
                raise TADDataError(
                    f'{self.ann_file} holds the {subset!r} split but '
                    f'subset={sorted(self.subsets)} was asked')
            subset = subset or next(iter(self.subsets or []), None)
        return read_epic_file(self.ann_file, self.task, self.video_info_file,
                              self.class_names or self.class_file, subset)

    def label_ids_of(self, record: dict) -> List[int]:
        return label_ids_of_record(record, self.classes,
                                   what=f'{self.task} class',
                                   names_are_classes=False)
