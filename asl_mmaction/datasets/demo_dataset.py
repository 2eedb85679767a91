"""The embedded demo data as a dataset: Ego4D-MQ clip layout, generated on
first use under ``data_root`` (see ``demo_data.py``)."""
from mmaction.registry import DATASETS

from .demo_data import ANN_FILE, CLASS_NAMES, FEAT_DIR, generate_demo_data
from .ego4d_mq_dataset import Ego4DMQDataset


@DATASETS.register_module()
class DemoTADDataset(Ego4DMQDataset):
    """``Ego4DMQDataset`` over the demo clips; writes them if missing.

    Only ``data_root`` is needed: the annotation file, the feature folder
    and the class list are the generator's. Other arguments are those of
    :class:`Ego4DMQDataset`.
    """

    METAINFO = dict(dataset_name='ego4d_mq')

    def __init__(self, data_root: str = 'data/demo', **kwargs) -> None:
        generate_demo_data(data_root)
        # Relative to data_root, which the base class joins.
        kwargs.setdefault('ann_file', ANN_FILE)
        kwargs.setdefault('feat_dirs', FEAT_DIR)
        kwargs.setdefault('class_names', list(CLASS_NAMES))
        super().__init__(data_root=data_root, **kwargs)
