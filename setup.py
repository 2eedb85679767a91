"""Install asl-mmaction.

``pip install -e .`` (a clone) or ``pip install .`` / a wheel. Runtime
requirements are ranges (``requirements/runtime.txt``); the exact set CI
tests is ``requirements/constraints.txt`` (``pip install -c ...``). MMCV is
an extra because ``mmcv-lite`` and ``mmcv`` install the same ``mmcv``
package: ``.[lite]`` adds ``mmcv-lite``, an installed ``mmcv`` is kept
otherwise.

Configs and tools ship inside the package, in ``asl_mmaction/.mim/``
(the OpenMMLab layout that ``mim train asl_mmaction CONFIG`` and
``asl_mmaction::path`` config references read): symlinks to the clone's
``configs/``, ``tools/`` and ``model-index.yml`` in an editable install,
copies in a wheel.
"""
import os
import os.path as osp
import platform
import shutil
import sys

from setuptools import find_packages, setup

REPO = osp.dirname(osp.abspath(__file__))
MIM_FILES = ('configs', 'tools', 'model-index.yml')


def read_requirements(name):
    """Read ``requirements/<name>.txt``, dropping comments and blank lines."""
    path = osp.join(REPO, 'requirements', f'{name}.txt')
    with open(path) as f:
        lines = (line.split('#')[0].strip() for line in f)
        return [line for line in lines if line]


def read_version():
    scope = {}
    with open(osp.join(REPO, 'asl_mmaction', 'version.py')) as f:
        exec(f.read(), scope)
    return scope['__version__']


def add_mim_extension():
    """Put ``configs/`` and ``tools/`` into ``asl_mmaction/.mim/``: symlinks
    for an editable install (edits in the clone take effect), copies when a
    wheel or an sdist is built. Other setup commands leave it alone."""
    if 'develop' in sys.argv or 'editable_wheel' in sys.argv:
        mode = 'copy' if platform.system() == 'Windows' else 'symlink'
    elif any(cmd in sys.argv for cmd in ('bdist_wheel', 'sdist', 'build')):
        mode = 'copy'
    else:
        return
    mim_path = osp.join(REPO, 'asl_mmaction', '.mim')
    os.makedirs(mim_path, exist_ok=True)
    for name in MIM_FILES:
        src, dst = osp.join(REPO, name), osp.join(mim_path, name)
        if osp.islink(dst) or osp.isfile(dst):
            os.remove(dst)
        elif osp.isdir(dst):
            shutil.rmtree(dst)
        if mode == 'symlink':
            os.symlink(osp.relpath(src, mim_path), dst)
        elif osp.isfile(src):
            shutil.copyfile(src, dst)
        else:
            shutil.copytree(src, dst, ignore=shutil.ignore_patterns(
                '__pycache__', '*.pyc'))


if __name__ == '__main__':
    add_mim_extension()
    setup(
        name='asl-mmaction',
        version=read_version(),
        description='Action Sensitivity Learning (ICCV 2023) for temporal '
        'action localization, as an MMAction2 plugin',
        long_description=open(osp.join(REPO, 'README.md')).read()
        if osp.exists(osp.join(REPO, 'README.md')) else '',
        long_description_content_type='text/markdown',
        packages=find_packages(
            exclude=('tests', 'tests.*', 'bench', 'configs', 'tools',
                     'tools.*')),
        include_package_data=True,
        python_requires='>=3.9',
        install_requires=read_requirements('runtime'),
        extras_require=dict(
            lite=read_requirements('mmcv_lite'),
            tests=read_requirements('tests'),
        ),
        license='Apache License 2.0',
        zip_safe=False,
    )
