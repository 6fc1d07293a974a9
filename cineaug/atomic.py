"""Atomic file writes: a reader sees the old file or the new one, never a half-written one.

Every file cineaug writes that another stage reads (cache cycles and ``dataset.json``, snapshots,
training states, run statistics, benchmark results, pretrained manifests) goes through
:func:`atomic_write_bytes`: the data goes to a temporary file in the same folder, is flushed
and fsync'ed, and is renamed over the target with ``os.replace`` (atomic on POSIX and Windows
when both names are on one file system). On any error the temporary file is removed and the
old file is left as it was.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any

__all__ = ["atomic_write_bytes", "atomic_write_json"]


def atomic_write_bytes(path: str | os.PathLike, data: bytes) -> None:
    """Write ``data`` to ``path`` through a temporary file in the same folder and ``os.replace``.

    Args:
        path: the target file; missing parent folders are created.
        data: the whole content.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def atomic_write_json(path: str | os.PathLike, obj: Any) -> None:
    """Write ``obj`` as indented JSON (one trailing newline) with :func:`atomic_write_bytes`."""
    atomic_write_bytes(path, (json.dumps(obj, indent=1) + "\n").encode())
