"""What this package needs from the OpenMMLab install, checked at import.

Two things a user of ``mmcv-lite`` + MMAction2 meets on every command:

* MMAction2 1.2.0's wheel on PyPI lacks the package
  ``mmaction/models/localizers/drn``, so ``import mmaction.models`` fails
  with a bare ``ModuleNotFoundError``. :func:`check_mmaction_version` says
  so in one line, with the fix, before anything imports MMAction2's models.
* MMEngine resolves ``package::path`` config references only for the
  packages it lists in ``MODULE2PACKAGE``; :func:`enable_config_references`
  adds this one, so ``_base_ = ['asl_mmaction::asl/asl_demo.py']`` reads
  the configs shipped in ``asl_mmaction/.mim/configs``.
* ``mmcv.cnn.bricks.transformer`` warns that ``MultiScaleDeformableAttention``
  (a compiled op that ``mmcv-lite`` does not ship and this project does not
  use) cannot be imported. :func:`quiet_mmaction_import` silences that one
  warning while this package imports MMAction2.
"""
import contextlib
import importlib.util
import os.path as osp
import warnings
from typing import Iterator

# The text mmcv warns with (a regex matched against the message start).
MSDA_WARNING = r'Fail to import ``MultiScaleDeformableAttention``'

# drn/ has no __init__.py in the repository, so the wheel build skips it;
# an editable install of a clone imports it as a namespace package.
BROKEN_WHEEL_FIX = ("pip install 'mmaction2>=1.1.0,<1.2' (or pip install -e "
                    'a clone of mmaction2 1.2.0)')


class IncompatibleInstallError(ImportError):
    """The installed OpenMMLab packages cannot run this project."""


def _has_module(name: str) -> bool:
    try:
        return importlib.util.find_spec(name) is not None
    except ModuleNotFoundError:  # a parent package is missing
        return False


def _imports_missing_drn(mmaction_dir: str) -> bool:
    """True when ``mmaction/models/localizers/__init__.py`` imports ``.drn``
    but the folder is not installed (the PyPI wheel of 1.2.0)."""
    localizers = osp.join(mmaction_dir, 'models', 'localizers')
    try:
        with open(osp.join(localizers, '__init__.py')) as f:
            imports_drn = 'from .drn' in f.read()
    except OSError:
        return False
    return imports_drn and not osp.isdir(osp.join(localizers, 'drn'))


def check_mmaction_version() -> None:
    """Raise :class:`IncompatibleInstallError` (one line: cause and fix)
    when MMAction2 or MMCV is missing, or MMAction2 is the broken 1.2.0
    wheel. Runs before MMAction2's models are imported."""
    if not _has_module('mmcv'):
        raise IncompatibleInstallError(
            'asl_mmaction needs MMCV 2.0.x: pip install '
            "'mmcv-lite>=2.0.0,<2.1' (CPU, no compiled ops) or mmcv 2.0.x "
            '(mim install "mmcv>=2.0.0,<2.1")')
    spec = importlib.util.find_spec('mmaction')
    if spec is None or spec.origin is None:
        raise IncompatibleInstallError(
            "asl_mmaction needs MMAction2: pip install "
            "'mmaction2>=1.1.0,<1.2'")
    # Look at the files: importing mmaction.models is what fails.
    if _imports_missing_drn(osp.dirname(spec.origin)):
        from importlib.metadata import version
        raise IncompatibleInstallError(
            f'mmaction2 {version("mmaction2")} is installed from a wheel '
            'that lacks mmaction/models/localizers/drn (import '
            f'mmaction.models fails); fix: {BROKEN_WHEEL_FIX}')


@contextlib.contextmanager
def quiet_mmaction_import() -> Iterator[None]:
    """Inside the block, mmcv-lite's ``MultiScaleDeformableAttention``
    import warning is not shown; every other warning is."""
    with warnings.catch_warnings():
        warnings.filterwarnings('ignore', message=MSDA_WARNING,
                                category=UserWarning)
        yield


def enable_config_references() -> None:
    """Let MMEngine resolve ``asl_mmaction::<path>`` (configs shipped in
    ``asl_mmaction/.mim/configs``). Adds one entry to MMEngine's table of
    packages; nothing else changes. The reference must be read after
    ``import asl_mmaction`` (this repository's tools import it first)."""
    from mmengine.config.utils import MODULE2PACKAGE
    # MMEngine finds the package folder from the distribution, which for an
    # editable install (PEP 660) points at site-packages, where the folder
    # is not. A module name is not a distribution, so MMEngine falls back to
    # that module's location: right for editable and wheel installs alike.
    MODULE2PACKAGE.setdefault('asl_mmaction', 'asl_mmaction.registry')
