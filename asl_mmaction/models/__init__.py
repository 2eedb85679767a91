from . import backbones, data_preprocessors, detectors, evaluators, heads, losses, necks  # noqa: F401,E501
