"""asl-mmaction: Action Sensitivity Learning for MMAction2.

Importing this package registers every component (models, datasets,
transforms, metrics, hooks) into MMAction2's registries (scope ``mmaction``),
so a config only needs::

    custom_imports = dict(imports=['asl_mmaction'], allow_failed_imports=False)

Importing it changes nothing else in the process: MMEngine's checkpoint
loader stays MMEngine's (this project's checkpoints load under torch's
``weights_only=True`` default, see ``utils/checkpoint.py``), and
``asl_mmaction.visualization`` (matplotlib) loads only when it is used.
The one addition is ``asl_mmaction::`` in MMEngine's table of config
packages (``utils/compat.py``).
"""
from .utils.compat import (check_mmaction_version, enable_config_references,
                           quiet_mmaction_import)

check_mmaction_version()
enable_config_references()
with quiet_mmaction_import():
    # MMAction2's models first, here, where mmcv-lite's import warning is
    # silenced: MMEngine's registry would import them later, loudly.
    import mmaction.models  # noqa: F401
    from .version import __version__  # noqa: F401
    from . import structures  # noqa: F401
    from . import models  # noqa: F401
    from . import datasets  # noqa: F401
    from . import evaluation  # noqa: F401
    from . import engine  # noqa: F401
    from . import registry  # noqa: F401  (the asl_mmaction:: scope)

__all__ = ['__version__']
