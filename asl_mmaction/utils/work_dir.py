"""Fail at start, not after an epoch, when the work dir cannot take output."""
import os
import shutil

# Room for a few checkpoints of a mid-size model; override per call.
MIN_FREE_BYTES = 64 * 1024 * 1024


def check_work_dir(work_dir: str, min_free_bytes: int = MIN_FREE_BYTES):
    """Create ``work_dir`` and check it is writable with enough free space.

    Raises:
        RuntimeError: naming the folder and the problem.
    """
    try:
        os.makedirs(work_dir, exist_ok=True)
        probe = os.path.join(work_dir, f'.write_test.{os.getpid()}')
        with open(probe, 'w') as f:
            f.write('ok')
        os.remove(probe)
    except OSError as err:
        raise RuntimeError(
            f'work dir {work_dir} is not writable: {err.strerror}') from err
    free = shutil.disk_usage(work_dir).free
    if free < min_free_bytes:
        raise RuntimeError(
            f'work dir {work_dir} has only {free / 2**20:.0f} MiB free; '
            f'checkpoints need at least {min_free_bytes / 2**20:.0f} MiB')
