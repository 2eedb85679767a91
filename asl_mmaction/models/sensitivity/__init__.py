from .class_sensitivity import ClassSensitivityEvaluator  # noqa: F401
from .instance_sensitivity import InstanceSensitivityEvaluator  # noqa: F401
