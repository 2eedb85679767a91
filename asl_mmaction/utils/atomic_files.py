"""Write a JSON file so that a reader never sees it half written."""
import json
import os
import os.path as osp
import tempfile
from typing import Optional


def atomic_write_json(obj, path: str, indent: Optional[int] = None) -> None:
    """Write ``obj`` as JSON through a temporary file in the same folder
    (created if missing), then rename it to ``path``; a failed write leaves
    no temporary file behind."""
    folder = osp.dirname(osp.abspath(path))
    os.makedirs(folder, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix='.tmp_', suffix='.json', dir=folder)
    try:
        with os.fdopen(fd, 'w', encoding='utf-8') as f:
            json.dump(obj, f, indent=indent)
        os.replace(tmp, path)
    except BaseException:
        if osp.exists(tmp):
            os.remove(tmp)
        raise
