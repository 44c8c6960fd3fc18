"""Output files written whole or not at all.

Every report, table and figure fp8forge writes goes through here: the content is written to a
hidden temporary name in the destination folder and renamed into place, so a reader (or a
later run) sees the old file or the complete new one, never a part, and a run killed or out of
disk space leaves no temporary file behind (the ``finally`` removes it).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

__all__ = ["atomic_path", "atomic_write"]


@contextmanager
def atomic_path(path: str | os.PathLike) -> Iterator[Path]:
    """A temporary path beside ``path`` for the caller to write; renamed to ``path`` when the
    block ends without an exception, removed in every case."""
    path = Path(path)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        yield tmp
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def atomic_write(path: str | os.PathLike, content: str | bytes) -> None:
    """Write ``content`` (text as UTF-8, or bytes) to ``path`` through ``atomic_path``."""
    with atomic_path(path) as tmp:
        if isinstance(content, bytes):
            tmp.write_bytes(content)
        else:
            tmp.write_text(content, encoding="utf-8")
