from .label_assigner import assign_targets
from .point_generator import PointGenerator1D

__all__ = ['PointGenerator1D', 'assign_targets']
