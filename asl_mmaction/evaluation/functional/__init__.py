"""Plain functions behind the TAD metric: mAP, Recall@kx, file I/O."""
from .annotation_io import read_tad_annotations, timestamp_to_seconds
from .detection_map import average_precision, interpolated_ap, match_detections
from .prediction_io import (PREDICTION_FORMATS, atomic_write_json,
                            dump_predictions, load_predictions)
from .segment_set import (Pairs, SegmentSet, duplicate_gt_mask, pair_up,
                          pairwise_iou)
from .topk_recall import RECALL_PROTOCOLS, topk_recall

__all__ = [
    'read_tad_annotations', 'timestamp_to_seconds', 'average_precision',
    'interpolated_ap', 'match_detections', 'PREDICTION_FORMATS',
    'atomic_write_json', 'dump_predictions', 'load_predictions', 'Pairs',
    'SegmentSet', 'duplicate_gt_mask', 'pair_up', 'pairwise_iou',
    'RECALL_PROTOCOLS', 'topk_recall'
]
