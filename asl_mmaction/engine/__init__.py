from . import hooks  # noqa: F401
from . import optimizers, schedulers  # noqa: F401
