from . import metrics  # noqa: F401
from . import functional  # noqa: F401
