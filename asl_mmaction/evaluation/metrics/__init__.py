from .tad_metric import TADMetric  # noqa: F401
