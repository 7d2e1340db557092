"""Writing report and export files safely (the one place that does it).

Files are written atomically (a temporary file in the same folder, then ``os.replace``), so
a reader never sees half a report and an interrupted run leaves the old file intact, and
with restrictive permissions: reports name people and carry directory details.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable


def write_atomic(path: str, data: str | bytes, mode: int = 0o640) -> None:
    """Replace ``path`` with ``data`` in one step; create the folder when missing."""
    folder = os.path.dirname(os.path.abspath(path))
    os.makedirs(folder, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".tmp-", dir=folder)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data.encode("utf-8") if isinstance(data, str) else data)
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def write_if_changed(path: str, data: str | bytes, mode: int = 0o640,
                     normalize: Callable[[str | bytes], str | bytes] | None = None) -> bool:
    """Write atomically unless the file already holds ``data``; True when written.

    ``normalize`` maps the old content before the comparison (e.g. to ignore a time stamp).
    """
    try:
        with open(path, "rb") as handle:
            old: str | bytes = handle.read()
        if isinstance(data, str):
            old = old.decode("utf-8", errors="replace")
        if normalize is not None:
            old = normalize(old)
        if old == data:
            return False
    except OSError:
        pass
    write_atomic(path, data, mode)
    return True
