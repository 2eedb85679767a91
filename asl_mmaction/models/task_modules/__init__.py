from .label_assigner import assign_targets
from .label_assigner_reference import assign_targets_loop
from .point_generator import PointGenerator1D

__all__ = ['PointGenerator1D', 'assign_targets', 'assign_targets_loop']
