"""PNG plots (matplotlib, Agg canvas): timelines, sensitivity curves,
training curves and the architecture diagram."""
from .architecture import draw_architecture
from .sensitivity_curves import (draw_sensitivity_curves,
                                 find_class_sensitivity, profile_curves)
from .timeline import (draw_timelines, draw_video_timeline, normalize_video,
                       safe_file_name)
from .training_curves import (available_keys, load_json_log, plot_curves,
                              train_time_stats)

__all__ = [
    'draw_architecture', 'draw_sensitivity_curves', 'find_class_sensitivity',
    'profile_curves', 'draw_timelines',
    'draw_video_timeline', 'normalize_video', 'safe_file_name',
    'available_keys', 'load_json_log', 'plot_curves', 'train_time_stats'
]
