"""Charades (157 classes, dense multi-label), one sample per video."""
import logging
from typing import List, Optional, Sequence, Tuple

from mmengine.logging import print_log
from mmaction.registry import DATASETS

from .activitynet_annotations import read_activitynet_file
from .activitynet_dataset import ActivityNetTADDataset
from .annotation_files import read_indexed_class_list
from .charades_annotations import read_charades_csv


def read_charades_file(path: str,
                       class_names: Optional[Sequence[str]] = None,
                       class_file: Optional[str] = None):
    """``(records, class names)`` of Charades annotations: the release's
    ``Charades_v1_{train,test}.csv`` (with ``Charades_v1_classes.txt`` as
    ``class_file``) or an ActivityNet-style JSON."""
    if class_names is None and class_file is not None:
        class_names = read_indexed_class_list(class_file)
    if path.lower().endswith('.csv'):
        return read_charades_csv(path, class_names)
    return read_activitynet_file(path, class_names)


@DATASETS.register_module()
class CharadesDataset(ActivityNetTADDataset):
    """Charades from ``Charades_v1_{train,test}.csv`` or an ActivityNet-style
    JSON. Train on ``train``, test on ``test``.

    Args (besides those of :class:`ActivityNetTADDataset`):
        class_file (str | None): ``Charades_v1_classes.txt`` (``c### name``);
            without it (nor ``class_names``) classes are the codes found.
    """

    METAINFO = dict(dataset_name='charades')

    def __init__(self, *args, class_file: Optional[str] = None,
                 **kwargs) -> None:
        self.class_file = class_file
        super().__init__(*args, **kwargs)

    def parse_annotations(self) -> Tuple[List[dict], List[str]]:
        records, classes = read_charades_file(
            self.ann_file, self.given_class_names(), self.class_file)
        dropped = sum(r['info'].get('dropped', 0) for r in records)
        if dropped:
            print_log(f'{self.ann_file}: left out {dropped} actions with end '
                      '<= start', logger='current', level=logging.WARNING)
        return records, classes
