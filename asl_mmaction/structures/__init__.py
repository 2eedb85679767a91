from .segment_iou import aligned_segment_iou, offsets_iou, segment_iou_1d
from .tad_data_sample import TADDataSample
from .time_conversion import seconds_to_steps, steps_to_seconds

__all__ = [
    'TADDataSample', 'aligned_segment_iou', 'offsets_iou', 'seconds_to_steps',
    'segment_iou_1d', 'steps_to_seconds'
]
