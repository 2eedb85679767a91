"""asl-mmaction: Action Sensitivity Learning for MMAction2.

Importing this package registers every component (models, datasets,
transforms, metrics, hooks) into MMAction2's registries (scope ``mmaction``),
so a config only needs::

    custom_imports = dict(imports=['asl_mmaction'], allow_failed_imports=False)
"""
from .version import __version__  # noqa: F401
from . import structures  # noqa: F401
from . import models  # noqa: F401
from . import datasets  # noqa: F401
from . import evaluation  # noqa: F401
from . import engine  # noqa: F401
from . import visualization  # noqa: F401
from .utils import install_checkpoint_loader

# MMEngine resume / load_from under torch >= 2.6: see utils/checkpoint.py.
install_checkpoint_loader()

__all__ = ['__version__']
