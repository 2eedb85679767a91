"""Post-processing of dense detections: 1-D NMS family in plain torch."""
from .nms_1d import NMS_METHODS, batched_nms_1d, decay_scores, vote_boundaries
from .nms_reference import nms_1d_reference
from .segment_iou import aligned_segment_iou, segment_iou_1d

__all__ = [
    'NMS_METHODS', 'batched_nms_1d', 'decay_scores', 'vote_boundaries',
    'nms_1d_reference', 'aligned_segment_iou', 'segment_iou_1d'
]
