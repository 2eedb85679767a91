from .asl_detector import ASLDetector  # noqa: F401
