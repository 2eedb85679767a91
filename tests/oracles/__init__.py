"""Plain, obviously-right reference implementations and test fixtures that
the tests (and the benches in ``bench/``) compare the fast code against.
They are test oracles, not part of the package."""
from .label_assignment_loop import assign_targets_loop
from .nms_loop import nms_1d_reference
from .nms_padded_rounds import nms_1d_padded_rounds
from .trained_like import randomize_norms

__all__ = ['assign_targets_loop', 'nms_1d_padded_rounds', 'nms_1d_reference',
           'randomize_norms']
