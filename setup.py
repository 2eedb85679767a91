"""Install asl-mmaction: ``pip install -e .`` (see README for the pinned set)."""
import os.path as osp

from setuptools import find_packages, setup


def read_requirements(name):
    """Read ``requirements/<name>.txt``, dropping comments and blank lines."""
    path = osp.join(osp.dirname(__file__), 'requirements', f'{name}.txt')
    with open(path) as f:
        lines = (line.split('#')[0].strip() for line in f)
        return [line for line in lines if line]


def read_version():
    scope = {}
    with open(osp.join('asl_mmaction', 'version.py')) as f:
        exec(f.read(), scope)
    return scope['__version__']


setup(
    name='asl-mmaction',
    version=read_version(),
    description='Action Sensitivity Learning (ICCV 2023) for temporal action '
    'localization, as an MMAction2 plugin',
    long_description=open('README.md').read() if osp.exists('README.md') else '',
    long_description_content_type='text/markdown',
    packages=find_packages(exclude=('tests', 'bench', 'configs', 'tools')),
    python_requires='>=3.9',
    install_requires=read_requirements('runtime'),
    extras_require=dict(
        tests=read_requirements('tests'),
    ),
    license='Apache License 2.0',
    zip_safe=False,
)
