"""File system steps that make a write durable, shared by downloads and the export."""

from __future__ import annotations

import os

__all__ = ["fsync_directory"]


def fsync_directory(directory: str | os.PathLike[str]) -> None:
    """Flush a directory's entries (new names, renames) to disk, where supported.

    A rename is durable only once the directory entry is on disk (POSIX); Windows
    cannot open a directory, and its renames are durable without this.
    """
    if os.name != "posix":
        return
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
