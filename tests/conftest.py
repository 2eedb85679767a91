"""Shared test set-up: default scope, registration, the shared data folder."""
import os
from pathlib import Path

import pytest

# Keep the suite predictable on 2 cores.
os.environ.setdefault('OMP_NUM_THREADS', '1')

import torch  # noqa: E402
from mmengine.registry import DefaultScope, init_default_scope  # noqa: E402

import asl_mmaction  # noqa: E402,F401

torch.set_num_threads(1)
init_default_scope('mmaction')



@pytest.fixture(autouse=True)
def mmaction_scope():
    """Every test builds from MMAction2's registries, whatever scope an
    earlier test (a Runner, a Visualizer) left current."""
    with DefaultScope.overwrite_default_scope('mmaction'):
        yield


REPO_ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = REPO_ROOT.parent / 'shared' / 'data'


@pytest.fixture(scope='session')
def shared_data() -> Path:
    """The real annotation files beside the repo; skip when absent."""
    if not SHARED_DATA.is_dir():
        pytest.skip(f'real annotation files not found at {SHARED_DATA} '
                    '(they live in ../shared/data beside the repo)')
    return SHARED_DATA


@pytest.fixture(scope='session')
def demo_root(tmp_path_factory) -> Path:
    """The generated demo data, once per session."""
    from asl_mmaction.datasets.demo_data import generate_demo_data
    root = tmp_path_factory.mktemp('demo')
    generate_demo_data(str(root))
    return root
