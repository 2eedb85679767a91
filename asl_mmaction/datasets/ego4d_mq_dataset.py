"""Ego4D Moment Queries, clip-level samples keyed by ``clip_uid``."""
from typing import List, Tuple

from mmaction.registry import DATASETS

from .annotation_files import label_ids_of_record, load_class_names
from .base_tad_dataset import BaseTADDataset
from .ego4d_annotations import read_ego4d_mq_file


@DATASETS.register_module()
class Ego4DMQDataset(BaseTADDataset):
    """Ego4D-MQ from the official ``moments_*.json`` or the converted
    per-clip JSON (layout detected from the file).

    Class ids: ``class_names`` when given; else the converted file's
    ``label_id`` (the ids the public ASL / ActionFormer checkpoints use);
    else, for the official layout, the sorted label names. The class list
    is built from the whole file, so it does not depend on ``subset``.

    Ground truth: ``ann_segments`` keeps every annotator's segment (the
    official evaluation scores each one); training targets drop same-label
    segments whose ends agree within ``dedup_tol`` seconds.

    Args (besides those of :class:`BaseTADDataset`):
        primary_only (bool): Official layout: keep only ``primary`` labels,
            as Ego4D's own converter does. Defaults to True.
    """

    METAINFO = dict(dataset_name='ego4d_mq')

    def __init__(self, *args, primary_only: bool = True, **kwargs) -> None:
        self.primary_only = primary_only
        super().__init__(*args, **kwargs)

    def parse_annotations(self) -> Tuple[List[dict], List[str]]:
        given = (None if self.class_names is None else
                 load_class_names(self.class_names))
        return read_ego4d_mq_file(self.ann_file, given, self.primary_only)

    def label_ids_of(self, record: dict) -> List[int]:
        return label_ids_of_record(record, self.classes, unit='clip')
