from . import hooks  # noqa: F401
from . import schedulers  # noqa: F401
