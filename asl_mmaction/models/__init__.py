from . import backbones, data_preprocessors, detectors, evaluators, heads, losses, necks  # noqa: F401,E501
from . import task_modules  # noqa: F401
from . import layers  # noqa: F401
