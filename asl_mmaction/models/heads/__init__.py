from .asl_head import ASLHead  # noqa: F401
