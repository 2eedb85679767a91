"""Post-processing of dense detections: 1-D NMS family in plain torch."""
from .nms_1d import NMS_METHODS, batched_nms_1d, decay_scores, vote_boundaries

__all__ = ['NMS_METHODS', 'batched_nms_1d', 'decay_scores', 'vote_boundaries']
