"""Install metadata: ranges (no exact torch pin), the constraints file the
README and CI install, no dead dependency, configs and tools shipped in
the package (asl_mmaction/.mim) and resolvable as ``asl_mmaction::``, and
the one-line refusal of the broken mmaction2 1.2.0 wheel."""
import re
import runpy
import shutil
import subprocess
import sys
import textwrap
import zipfile
from pathlib import Path

import pytest
from packaging.requirements import Requirement

from run_helpers import REPO, tool_env

SETUP = runpy.run_path(str(REPO / 'setup.py'), run_name='setup_module')
# distribution -> module the code imports (a dependency nobody imports is
# a dead pin); setuptools: MMEngine imports its pkg_resources
MODULES = {'torch': 'torch', 'numpy': 'numpy', 'mmengine': 'mmengine',
           'mmaction2': 'mmaction', 'mmcv-lite': 'mmcv', 'tqdm': 'tqdm',
           'matplotlib': 'matplotlib', 'h5py': 'h5py', 'pytest': 'pytest'}


def requirements(name):
    return {r.name: r for r in map(Requirement,
                                   SETUP['read_requirements'](name))}


def constraints():
    pins = {}
    for line in (REPO / 'requirements' / 'constraints.txt').read_text(
            ).splitlines():
        line = line.split('#')[0].strip()
        if line:
            name, version = line.split('==')
            pins[name.lower()] = version
    return pins


def test_runtime_requirements_are_ranges_without_torch_pin():
    runtime = requirements('runtime')
    for name in ('torch', 'numpy', 'mmengine', 'mmaction2'):
        spec = runtime[name].specifier
        assert spec and not any(s.operator in ('==', '===') for s in spec), \
            f'{name}: {spec}'
    assert not any(s.operator == '==' for s in runtime['torch'].specifier)
    lite = requirements('mmcv_lite')['mmcv-lite'].specifier
    assert lite and not any(s.operator == '==' for s in lite)
    assert not {'mmdet', 'importlib-metadata'} & set(runtime)


def test_every_dependency_is_imported_by_the_code():
    sources = '\n'.join(p.read_text() for folder in ('asl_mmaction', 'tools')
                        for p in (REPO / folder).rglob('*.py'))
    deps = set(requirements('runtime')) | set(requirements('mmcv_lite')) | \
        set(requirements('tests')) - {'setuptools'}
    for dep in deps - {'setuptools', 'pytest'}:
        module = MODULES[dep]
        assert re.search(rf'^\s*(import|from) {module}\b', sources, re.M), \
            f'{dep} is required but nothing imports {module}'


def test_constraints_pin_a_set_inside_the_ranges():
    pins = constraints()
    for name, req in {**requirements('runtime'),
                      **requirements('mmcv_lite'),
                      **requirements('tests')}.items():
        assert name.lower() in pins, f'{name} is not pinned'
        assert req.specifier.contains(pins[name.lower()]), (name, req)


def test_readme_and_ci_install_with_the_constraints_file():
    readme = (REPO / 'README.md').read_text()
    first = next(line for line in readme.splitlines()
                 if line.startswith('python3 -m venv .venv'))
    # torch (the CPU build on this machine) first, then the pinned set
    assert first.index('pip install torch==2.13.0') < first.index(
        '-c requirements/constraints.txt')
    assert 'tools/demo.py' in first
    assert first in (REPO / '.ci' / 'run').read_text()


def built_wheel(tmp_path) -> Path:
    """A wheel built from a copy of the source tree (the checkout itself
    keeps its editable-install symlinks)."""
    src = tmp_path / 'src'
    files = subprocess.run(['git', 'ls-files', '-co', '--exclude-standard'],
                           cwd=REPO, capture_output=True, text=True,
                           check=True).stdout.split()
    for name in files:
        if (REPO / name).is_file():
            (src / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(REPO / name, src / name)
    subprocess.run([sys.executable, '-m', 'pip', 'wheel', '--no-deps',
                    '--no-build-isolation', '-q', '-w', str(tmp_path / 'dist'),
                    str(src)], check=True, capture_output=True, timeout=300)
    return next((tmp_path / 'dist').glob('asl_mmaction-*.whl'))


RESOLVE = '''
import sys
import asl_mmaction
from mmengine.config import Config
from mmengine.registry import init_default_scope
from mmaction.registry import MODELS
site = sys.argv[1]
assert asl_mmaction.__file__.startswith(site), asl_mmaction.__file__
path, scope = Config._get_cfg_path('asl_mmaction::asl/asl_demo.py', '')
assert path.startswith(site) and scope == 'asl_mmaction', path
cfg = Config.fromfile(sys.argv[2])
init_default_scope('mmaction')
model = MODELS.build(cfg.model)
print(type(model).__name__, cfg.model.head.num_classes,
      cfg.train_cfg.max_epochs)
'''


def test_wheel_ships_configs_and_tools_for_package_references(tmp_path):
    wheel = built_wheel(tmp_path)
    names = set(zipfile.ZipFile(wheel).namelist())
    for shipped in ('configs/asl/asl_demo.py', 'configs/_base_/'
                    'default_runtime.py', 'tools/train.py', 'tools/test.py',
                    'tools/dist_train.sh', 'model-index.yml'):
        assert f'asl_mmaction/.mim/{shipped}' in names, shipped
    site = tmp_path / 'site'
    subprocess.run([sys.executable, '-m', 'pip', 'install', '--no-deps',
                    '-q', '--target', str(site), str(wheel)], check=True,
                   capture_output=True, timeout=300)
    user_cfg = tmp_path / 'user_cfg.py'
    user_cfg.write_text(textwrap.dedent("""\
        _base_ = ['asl_mmaction::asl/asl_demo.py']
        train_cfg = dict(max_epochs=4)
        """))
    env = tool_env()
    env['PYTHONPATH'] = str(site)  # the installed copy, not this checkout
    proc = subprocess.run([sys.executable, '-c', RESOLVE, str(site),
                           str(user_cfg)], cwd=str(tmp_path), env=env,
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert proc.stdout.split()[-3:] == ['ASLDetector', '6', '4']


def test_broken_mmaction2_wheel_is_refused_in_one_line(tmp_path):
    """The 1.2.0 wheel's localizers/__init__.py imports .drn, which the
    wheel lacks; a stand-in package with that layout is refused."""
    fake = tmp_path / 'mmaction'
    (fake / 'models' / 'localizers').mkdir(parents=True)
    (fake / '__init__.py').write_text("__version__ = '1.2.0'\n")
    (fake / 'models' / 'localizers' / '__init__.py').write_text(
        'from .bmn import BMN\nfrom .drn.drn import DRN\n')
    env = tool_env()
    env['PYTHONPATH'] = f'{tmp_path}:{env["PYTHONPATH"]}'
    proc = subprocess.run([sys.executable, '-c', 'import asl_mmaction'],
                          cwd=str(tmp_path), env=env, capture_output=True,
                          text=True, timeout=120)
    assert proc.returncode == 1
    last = proc.stderr.strip().splitlines()[-1]
    assert last.startswith('asl_mmaction.utils.compat.IncompatibleInstall'
                           'Error: mmaction2 ')
    assert 'lacks mmaction/models/localizers/drn' in last
    assert "pip install 'mmaction2>=1.1.0,<1.2'" in last


@pytest.mark.parametrize('tool', sorted(
    str(p.relative_to(REPO)) for p in (REPO / 'tools').rglob('*.py')))
def test_every_tool_reports_errors_through_the_shared_helper(tool):
    source = (REPO / tool).read_text()
    assert 'sys.exit(run_main(main))' in source and 'add_debug_arg(' in \
        source, tool
