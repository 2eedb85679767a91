"""THUMOS14 and MultiTHUMOS: ActivityNet-style JSON or the original
per-class text files (``thumos_annotations``), one sample per video."""
import os.path as osp
from typing import List, Optional, Sequence, Tuple

from mmaction.registry import DATASETS

from .activitynet_annotations import read_activitynet_file
from .activitynet_dataset import ActivityNetTADDataset
from .annotation_files import read_indexed_class_list
from .thumos_annotations import (THUMOS14_IGNORED_LABELS,
                                 read_multithumos_txt, read_thumos14_txt)


def is_text_annotation(path: str) -> bool:
    """A folder of per-class files, or one ``.txt`` file."""
    return osp.isdir(path) or path.lower().endswith('.txt')


def read_thumos14_file(path: str,
                       class_names: Optional[Sequence[str]] = None,
                       video_info_file: Optional[str] = None,
                       ignore_labels: Sequence[str] = THUMOS14_IGNORED_LABELS):
    """``(records, class names)`` of THUMOS14 annotations: ActionFormer's
    ``thumos14.json`` or a folder of ``<Class>_{val,test}.txt`` files."""
    if is_text_annotation(path):
        return read_thumos14_txt(path, class_names, video_info_file,
                                 ignore_labels)
    return read_activitynet_file(path, class_names, ignore_labels)


def read_multithumos_file(path: str,
                          class_names: Optional[Sequence[str]] = None,
                          video_info_file: Optional[str] = None,
                          class_file: Optional[str] = None):
    """``(records, class names)`` of MultiTHUMOS annotations: the release's
    ``annotations/`` folder (with ``class_list.txt`` as ``class_file``) or
    an ActivityNet-style JSON (TemporalMaxer's ``multithumos.json``)."""
    if class_names is None and class_file is not None:
        class_names = read_indexed_class_list(class_file)
    if is_text_annotation(path):
        return read_multithumos_txt(path, class_names, video_info_file)
    return read_activitynet_file(path, class_names)


@DATASETS.register_module()
class Thumos14Dataset(ActivityNetTADDataset):
    """THUMOS14 (20 classes) from ActionFormer's ``thumos14.json`` or the
    original ``<Class>_val.txt`` / ``<Class>_test.txt`` files.

    By convention the model trains on the ``val`` subset (the "Validation"
    videos) and is tested on ``test``. Defaults differ from
    :class:`ActivityNetTADDataset` in two places: ``ignore_labels`` is
    ``('Ambiguous',)`` and ``segments_past_end`` is ``'keep'`` (the public
    annotations put 30 segments of 5 videos past their video's end;
    the benchmark scores them as annotated). A CliffDiving segment is also
    a Diving one: both labels are kept on the one segment (the training
    de-duplication only merges segments of the same label, and the label
    assigner gives such a point both classes).

    Args (besides those of :class:`ActivityNetTADDataset`):
        video_info_file (str | None): Durations and fps for the text files,
            which have neither: a ``video_id,duration,fps`` CSV or an
            ActivityNet-style JSON of the videos (ActionFormer's
            ``thumos14.json``); without it set ``duration_from_features=True``
            and ``fps``.
    """

    METAINFO = dict(dataset_name='thumos14')

    def __init__(self, *args, video_info_file: Optional[str] = None,
                 ignore_labels: Sequence[str] = THUMOS14_IGNORED_LABELS,
                 segments_past_end: str = 'keep', **kwargs) -> None:
        self.video_info_file = video_info_file
        super().__init__(*args, ignore_labels=ignore_labels,
                         segments_past_end=segments_past_end, **kwargs)

    def parse_annotations(self) -> Tuple[List[dict], List[str]]:
        return read_thumos14_file(self.ann_file, self.given_class_names(),
                                  self.video_info_file, self.ignore_labels)


@DATASETS.register_module()
class MultiThumosDataset(ActivityNetTADDataset):
    """MultiTHUMOS (65 classes, dense multi-label, the THUMOS14 videos) from
    its per-class files or an ActivityNet-style JSON.

    Splits as THUMOS14 (train on ``val``, test on ``test``);
    ``segments_past_end`` defaults to ``'keep'`` as there.

    Args (besides those of :class:`ActivityNetTADDataset`):
        class_file (str | None): ``class_list.txt`` (``<id> <Class>``), the
            class order; without it (nor ``class_names``) the sorted names.
        video_info_file (str | None): Durations and fps for the text files,
            as for :class:`Thumos14Dataset` (e.g. ``thumos14.json``).
    """

    METAINFO = dict(dataset_name='multithumos')

    def __init__(self, *args, class_file: Optional[str] = None,
                 video_info_file: Optional[str] = None,
                 segments_past_end: str = 'keep', **kwargs) -> None:
        self.class_file = class_file
        self.video_info_file = video_info_file
        super().__init__(*args, segments_past_end=segments_past_end,
                         **kwargs)

    def parse_annotations(self) -> Tuple[List[dict], List[str]]:
        return read_multithumos_file(self.ann_file, self.given_class_names(),
                                     self.video_info_file, self.class_file)
