"""Helpers of the training-tool tests: tiny configs and tool subprocesses.

The tests here run ``tools/train.py``, ``tools/test.py`` and the torchrun
scripts as the user would, on a budget of a few iterations: a config that
inherits a demo config is written into the test's ``tmp_path`` and the tool
runs in a subprocess with a timeout, so that a hang fails the test instead
of stalling the suite.
"""
import json
import os
import signal
import socket
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from typing import Dict, List, Optional, Sequence

REPO = Path(__file__).resolve().parents[1]
ASL_DEMO = REPO / 'configs' / 'asl' / 'asl_demo.py'
ACTIONFORMER_DEMO = REPO / 'configs' / 'actionformer' / 'actionformer_demo.py'
LOSS_KEYS = ('loss', 'loss_cls', 'loss_reg')


def load_script(path, name: Optional[str] = None):
    """A script of the repository (a tool or a bench: ``path`` absolute or
    relative to the repository root) imported as a module, to call its
    ``main`` in process."""
    import importlib.util
    path = REPO / path
    spec = importlib.util.spec_from_file_location(name or path.stem,
                                                  str(path))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def free_port() -> int:
    """A TCP port nobody listens on now (for torchrun's rendezvous)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(('127.0.0.1', 0))
        return sock.getsockname()[1]


def write_config(folder: Path, data_root: Path, name: str = 'tiny.py',
                 base: Path = ASL_DEMO, max_epochs: int = 1,
                 num_train: int = 8, batch_size: int = 2,
                 num_val: Optional[int] = None, extra: str = '') -> Path:
    """Write a config inheriting ``base`` with a tiny budget; returns it.

    Args:
        folder (Path): Where to write the config.
        data_root (Path): Demo data folder (generated if missing).
        base (Path): Config to inherit, ``ASL_DEMO`` or ``ACTIONFORMER_DEMO``.
        max_epochs (int): Epochs; one checkpoint per epoch.
        num_train (int): Training clips (the dataset's ``indices``).
        batch_size (int): Clips per process and iteration.
        num_val (int, optional): Validation clips, validated every epoch;
            None turns validation off.
        extra (str): Config text appended at the end (hooks, overrides).
    """
    # Short warm-up then cosine, so that the weights move visibly in a few
    # iterations (the demo's warm-up starts at 1e-3 of the learning rate).
    schedule = ("dict(type='LinearLR', start_factor=0.1, by_epoch=True, "
                "begin=0, end=1, convert_to_iter_based=True)")
    if max_epochs > 1:
        schedule += (f", dict(type='CosineAnnealingLR', by_epoch=True, "
                     f"begin=1, end={max_epochs}, T_max={max_epochs - 1}, "
                     "eta_min=1e-5, convert_to_iter_based=True)")
    if num_val is None:
        val = ('val_cfg = None\nval_dataloader = None\nval_evaluator = None\n'
               'test_dataloader = dict(dataset=dict(data_root=data_root, '
               'indices=4))\n')
        save_best = None
    else:
        val = (f'val_dataloader = dict(batch_size=2, dataset=dict('
               f'data_root=data_root, indices={num_val}))\n'
               'test_dataloader = val_dataloader\n')
        save_best = 'auto'
    text = textwrap.dedent(f"""\
        _base_ = [{str(base)!r}]
        data_root = {str(data_root)!r}
        train_dataloader = dict(
            batch_size={batch_size},
            dataset=dict(data_root=data_root, indices={num_train}))
        train_cfg = dict(max_epochs={max_epochs}, val_interval=1)
        param_scheduler = [{schedule}]
        default_hooks = dict(
            logger=dict(interval=1),
            checkpoint=dict(interval=1, max_keep_ckpts=-1,
                            save_best={save_best!r}))
        # one iteration per logged value, not a running mean
        log_processor = dict(window_size=1)
        randomness = dict(seed=0, deterministic=True)
        """) + val + textwrap.dedent(extra)
    path = folder / name
    path.write_text(text)
    return path


def write_module(folder: Path, name: str, source: str) -> str:
    """Write a Python module (e.g. a test-only hook) importable through
    ``custom_imports`` once ``folder`` is on PYTHONPATH; returns its name."""
    (folder / f'{name}.py').write_text(textwrap.dedent(source))
    return name


def tool_env(extra_paths: Sequence[Path] = (), **env: str) -> Dict[str, str]:
    """Environment of a tool subprocess: the repo (and ``extra_paths``) on
    PYTHONPATH, one thread per process, this interpreter first on PATH."""
    out = dict(os.environ)
    paths = [str(REPO)] + [str(p) for p in extra_paths]
    if out.get('PYTHONPATH'):
        paths.append(out['PYTHONPATH'])
    out.update(PYTHONPATH=os.pathsep.join(paths), OMP_NUM_THREADS='1',
               MKL_NUM_THREADS='1', PYTHON=sys.executable,
               PATH=os.pathsep.join([str(Path(sys.executable).parent),
                                     out.get('PATH', '')]))
    out.setdefault('PORT', str(free_port()))
    out.update(env)
    return out


def descendants(pid: int) -> List[int]:
    """Ids of every live descendant of ``pid`` (Linux ``/proc``)."""
    children: Dict[int, List[int]] = {}
    for stat in Path('/proc').glob('[0-9]*/stat'):
        try:
            # the command name may hold spaces: fields after its ')'
            fields = stat.read_text().rsplit(')', 1)[1].split()
        except OSError:  # exited meanwhile
            continue
        children.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    found, todo = [], [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def kill_tree(pid: int) -> None:
    """SIGKILL ``pid`` and its descendants. torchrun starts each worker in
    a session of its own, so killing the launcher's process group would
    leave the workers running (and holding the output pipe open)."""
    for target in [pid] + descendants(pid):
        try:
            os.kill(target, signal.SIGKILL)
        except ProcessLookupError:
            pass


def run_tool(args: List[str], timeout: float = 120,
             extra_paths: Sequence[Path] = (), check: bool = True,
             **env: str) -> subprocess.CompletedProcess:
    """Run a tool, e.g. ``['tools/train.py', cfg, '--work-dir', d]`` (a
    ``.py`` runs with this interpreter, a ``.sh`` with bash); on timeout it
    is killed with every process it started, and the test fails.

    Returns:
        CompletedProcess with ``stdout`` (stderr merged) and
        ``wall_s``, the seconds it ran.
    """
    tool = str(REPO / args[0])
    cmd = ([sys.executable, tool] if tool.endswith('.py') else
           ['bash', tool]) + [str(a) for a in args[1:]]
    start = time.monotonic()
    proc = subprocess.Popen(cmd, cwd=str(REPO), stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True,
                            env=tool_env(extra_paths, **env))
    try:
        out, _ = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        kill_tree(proc.pid)
        out, _ = proc.communicate()
        raise AssertionError(f'{" ".join(cmd)} did not finish in {timeout} s'
                             f'; output tail:\n{out[-4000:]}')
    result = subprocess.CompletedProcess(cmd, proc.returncode, out)
    result.wall_s = time.monotonic() - start
    if check and proc.returncode != 0:
        raise AssertionError(f'{" ".join(cmd)} exited {proc.returncode}; '
                             f'output tail:\n{out[-6000:]}')
    return result


def train_scalars(work_dir: Path) -> List[dict]:
    """Training records of every run in ``work_dir`` (a resumed run adds a
    timestamp folder), oldest first, from ``vis_data/scalars.json``."""
    records = []
    for log in sorted(Path(work_dir).glob('*/vis_data/scalars.json')):
        for line in log.read_text().splitlines():
            record = json.loads(line)
            if 'loss' in record:
                records.append(record)
    if not records:
        raise AssertionError(f'no training scalars under {work_dir}')
    return records


def losses_by_iter(work_dir: Path,
                   keys: Sequence[str] = LOSS_KEYS) -> Dict[int, dict]:
    """``{iter: {key: value}}`` of the logged training losses."""
    return {r['iter']: {k: r[k] for k in keys}
            for r in train_scalars(work_dir)}
