from .dense_targets import (DenseTargets, SegmentPoints, assign_targets,
                            build_dense_targets, pad_gt_instances)
from .point_generator import PointGenerator1D

__all__ = [
    'DenseTargets', 'PointGenerator1D', 'SegmentPoints', 'assign_targets',
    'build_dense_targets', 'pad_gt_instances'
]
