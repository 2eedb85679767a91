"""The one place where post-processing reads tensor values back on the host.

On a GPU every such read waits for the queued kernels (a host sync), so the
NMS routes each of them through :func:`to_host` and avoids the implicit ones
(``nonzero``, boolean indexing, ``unique``, ``repeat_interleave`` without
``output_size``). :func:`count_host_syncs` counts them, on any device, so a
test on CPU can check how many a batch costs.
"""
from contextlib import contextmanager
from typing import Iterator, List, Optional

from torch import Tensor

_log: Optional[List[str]] = None


def to_host(values: Tensor, what: str = ''):
    """``values.tolist()``, counted.

    Args:
        values (Tensor): any tensor (a 0-d one gives a Python number).
        what (str): why the value is needed, recorded by
            :func:`count_host_syncs`.
    """
    if _log is not None:
        _log.append(what)
    return values.tolist()


@contextmanager
def count_host_syncs() -> Iterator[List[str]]:
    """Record every :func:`to_host` call made inside the block.

    Yields:
        list[str]: the ``what`` of each call, in order.
    """
    global _log
    previous, _log = _log, []
    try:
        yield _log
    finally:
        _log = previous
