"""Fail at start, not after an epoch, when the work dir cannot take output."""
import os
import os.path as osp
import shutil
from typing import Optional, Tuple

# Room for a few checkpoints of a mid-size model; override per call.
MIN_FREE_BYTES = 64 * 1024 * 1024

# Kernel filesystems that hold no user files (makedirs there fails with
# ENOENT or EPERM, which reads like a typo in the path).
PSEUDO_FILESYSTEMS = {'proc', 'sysfs', 'devpts', 'cgroup', 'cgroup2',
                      'debugfs', 'securityfs', 'tracefs', 'configfs',
                      'pstore', 'bpf', 'mqueue', 'fusectl', 'hugetlbfs',
                      'binfmt_misc', 'efivarfs', 'autofs'}


class WorkDirError(RuntimeError):
    """The work dir cannot be created or written, or is nearly full."""


def mount_of(path: str, mounts_file: str = '/proc/mounts'
             ) -> Optional[Tuple[str, str]]:
    """``(mount point, filesystem type)`` of the mount holding ``path``
    (the longest matching mount point), or None when unknown."""
    try:
        with open(mounts_file) as f:
            entries = [line.split()[1:3] for line in f if line.strip()]
    except OSError:
        return None
    real = osp.realpath(path)
    best = None
    for point, fstype in entries:
        point = point.replace('\\040', ' ')
        if real == point or real.startswith(point.rstrip('/') + '/'):
            if best is None or len(point) > len(best[0]):
                best = (point, fstype)
    return best


def _existing_ancestor(path: str) -> str:
    path = osp.abspath(path)
    while not osp.exists(path) and osp.dirname(path) != path:
        path = osp.dirname(path)
    return path


def _explain(work_dir: str, err: OSError) -> str:
    """Why ``work_dir`` could not be created or written, in words."""
    ancestor = _existing_ancestor(work_dir)
    mount = mount_of(ancestor)
    if mount is not None and mount[1] in PSEUDO_FILESYSTEMS:
        return (f'work dir {work_dir} cannot be created: {ancestor} is on '
                f'the {mount[1]} pseudo-filesystem (mounted at {mount[0]}), '
                'which holds no user files; pick a --work-dir on a disk')
    if osp.exists(ancestor) and not osp.isdir(ancestor):
        return (f'work dir {work_dir} is not writable: {ancestor} is a '
                'file, not a folder')
    where = '' if osp.abspath(ancestor) == osp.abspath(work_dir) else \
        f' (in {ancestor})'
    return f'work dir {work_dir} is not writable{where}: {err.strerror}'


def check_work_dir(work_dir: str, min_free_bytes: int = MIN_FREE_BYTES):
    """Create ``work_dir`` and check it is writable with enough free space.

    Raises:
        WorkDirError: naming the folder and the problem (a pseudo-filesystem
            such as ``/proc``, a file in the way, permissions, space).
    """
    try:
        os.makedirs(work_dir, exist_ok=True)
        probe = os.path.join(work_dir, f'.write_test.{os.getpid()}')
        with open(probe, 'w') as f:
            f.write('ok')
        os.remove(probe)
    except OSError as err:
        raise WorkDirError(_explain(work_dir, err)) from err
    free = shutil.disk_usage(work_dir).free
    if free < min_free_bytes:
        raise WorkDirError(
            f'work dir {work_dir} has only {free / 2**20:.0f} MiB free; '
            f'checkpoints need at least {min_free_bytes / 2**20:.0f} MiB')
