"""Data sample for temporal action detection.

``gt_instances`` (training targets, in feature steps):
    segments_in_steps (Tensor[N, 2] float): start / end in feature steps
        of the (possibly cropped) input.
    labels (Tensor[N] long): class indices.
``pred_instances`` (model output, in seconds of the original video):
    segments (Tensor[K, 2] float, seconds), scores (Tensor[K]),
    labels (Tensor[K]).

The two segment fields are named apart on purpose: steps inside the model,
seconds outside it (``structures/time_conversion.py`` converts).

Meta information (see ``docs/data_contract.md``): ``video_name``,
``duration``, ``fps``, ``feat_stride``, ``feat_offset``, ``feat_len``,
``ann_segments`` / ``ann_labels`` (ground truth in seconds, for metrics).
"""
from mmengine.structures import BaseDataElement, InstanceData


class TADDataSample(BaseDataElement):
    """A video's ground-truth and predicted action segments."""

    @property
    def gt_instances(self) -> InstanceData:
        return self._gt_instances

    @gt_instances.setter
    def gt_instances(self, value: InstanceData):
        self.set_field(value, '_gt_instances', dtype=InstanceData)

    @gt_instances.deleter
    def gt_instances(self):
        del self._gt_instances

    @property
    def pred_instances(self) -> InstanceData:
        return self._pred_instances

    @pred_instances.setter
    def pred_instances(self, value: InstanceData):
        self.set_field(value, '_pred_instances', dtype=InstanceData)

    @pred_instances.deleter
    def pred_instances(self):
        del self._pred_instances
