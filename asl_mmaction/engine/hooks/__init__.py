from .empty_class_prior_hook import EmptyClassPriorHook  # noqa: F401
from .plain_checkpoint_hook import PlainCheckpointHook  # noqa: F401
from .rng_state_hook import RNGStateHook  # noqa: F401
from .sensitivity_stats_hook import SensitivityStatsHook  # noqa: F401
from .timeline_visualization_hook import \
    TimelineVisualizationHook  # noqa: F401
