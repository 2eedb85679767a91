"""Post-processing of dense detections: 1-D NMS family in plain torch."""
from .host_sync import count_host_syncs
from .nms_1d import NMS_METHODS, batched_nms_1d
from .selection_rounds import decay_weights
from .segment_pairs import intersecting_pairs, intersecting_pairs_between
from .voting import vote_boundaries

__all__ = [
    'NMS_METHODS', 'batched_nms_1d', 'count_host_syncs', 'decay_weights',
    'intersecting_pairs', 'intersecting_pairs_between', 'vote_boundaries'
]
