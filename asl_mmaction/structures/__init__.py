from .tad_data_sample import TADDataSample
from .time_conversion import seconds_to_steps, steps_to_seconds

__all__ = ['TADDataSample', 'seconds_to_steps', 'steps_to_seconds']
