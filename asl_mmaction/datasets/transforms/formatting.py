"""``PackTADInputs``: pipeline results -> ``inputs`` + ``TADDataSample``."""
from typing import Sequence

import numpy as np
import torch
from mmcv.transforms import BaseTransform
from mmengine.structures import InstanceData
from mmaction.registry import TRANSFORMS

from asl_mmaction.structures import TADDataSample

DEFAULT_META_KEYS = ('video_name', 'duration', 'fps', 'feat_stride',
                     'feat_offset', 'feat_len', 'crop_start',
                     'ann_segments', 'ann_labels')


@TRANSFORMS.register_module()
class PackTADInputs(BaseTransform):
    """Pack features and targets as the data contract says.

    Returns ``{'inputs': Tensor[C, T] float32, 'data_samples':
    TADDataSample}`` with ``gt_instances.segments_in_steps``
    (``Tensor[N, 2]``, feature steps of ``inputs``) and
    ``gt_instances.labels`` (``Tensor[N]`` long), and
    ``meta_keys`` as metainfo.
    """

    def __init__(self, meta_keys: Sequence[str] = DEFAULT_META_KEYS) -> None:
        self.meta_keys = tuple(meta_keys)

    def transform(self, results: dict) -> dict:
        feats = np.ascontiguousarray(results['feats'], dtype=np.float32)
        gt = InstanceData()
        gt.segments_in_steps = torch.as_tensor(
            np.asarray(results.get('gt_segments', np.zeros((0, 2))),
                       dtype=np.float32).reshape(-1, 2))
        gt.labels = torch.as_tensor(
            np.asarray(results.get('gt_labels', np.zeros(0)),
                       dtype=np.int64))
        sample = TADDataSample()
        sample.gt_instances = gt
        missing = [k for k in self.meta_keys if k not in results]
        if missing:
            raise KeyError(f'PackTADInputs: results lack {missing}; put '
                           'LoadTADFeatures first in the pipeline')
        sample.set_metainfo({k: results[k] for k in self.meta_keys})
        return dict(inputs=torch.from_numpy(feats), data_samples=sample)

    def __repr__(self) -> str:
        return f'{type(self).__name__}(meta_keys={self.meta_keys})'
