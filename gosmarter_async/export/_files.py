"""Files on disk: deterministic JSON, atomic writes, and checks of size and sha256.

Every file the export writes goes through a temporary file in the same directory,
flushed and fsynced, then renamed over its final name (`os.replace` is atomic on
POSIX and Windows), and the directory is fsynced so that the rename itself survives
a power loss. A reader therefore sees the old file or the new one, never half of one.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

from attrs import frozen

from .._fs import fsync_directory

__all__ = [
    "FileRecord",
    "atomic_writer",
    "canonical_json",
    "check_file",
    "file_digest",
    "remove_stale_temps",
    "write_atomic",
]

# Our temporary files start with this, so that a rerun can recognise (and remove)
# the ones a crash left behind.
TEMP_PREFIX = ".gosmarter-"

_CHUNK = 1 << 20


@frozen
class FileRecord:
    """One exported file as the journal and the manifest record it.

    Args:
        name: The file name inside its certificate's directory.
        size: Its size in bytes.
        sha256: The hex SHA-256 of its content.
    """

    name: str
    size: int
    sha256: str

    def to_json(self) -> dict[str, Any]:
        """The record as plain JSON data."""
        return {"name": self.name, "sha256": self.sha256, "size": self.size}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> FileRecord:
        """Read a record written by `to_json`.

        Raises:
            KeyError: a field is missing.
            TypeError: a field has the wrong type.
        """
        name, size, sha256 = data["name"], data["size"], data["sha256"]
        if not (isinstance(name, str) and isinstance(size, int)):
            raise TypeError("file record has a non-string name or non-int size")
        if not isinstance(sha256, str):
            raise TypeError("file record has a non-string sha256")
        return cls(name=name, size=size, sha256=sha256)


def canonical_json(data: object) -> bytes:
    """Serialize `data` the same way every time: sorted keys, no spaces, UTF-8.

    Two exports of the same data are then byte-identical, whatever order the
    gateway sent the keys in.
    """
    text = json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return text.encode("utf-8")


@contextlib.contextmanager
def atomic_writer(path: Path) -> Iterator[IO[bytes]]:
    """Open a temporary file that replaces `path` only if the block succeeds.

    Args:
        path: The final file name.

    Yields:
        A binary file to write; it is flushed, fsynced and renamed on exit.
    """
    fd, temp = tempfile.mkstemp(
        dir=path.parent, prefix=f"{TEMP_PREFIX}{path.name}.", suffix=".tmp"
    )
    try:
        with os.fdopen(fd, "wb") as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temp)
        raise
    fsync_directory(path.parent)


def write_atomic(path: Path, data: bytes) -> FileRecord:
    """Write `data` to `path` atomically.

    Returns:
        The record of the written file.
    """
    with atomic_writer(path) as handle:
        handle.write(data)
    return FileRecord(
        name=path.name, size=len(data), sha256=hashlib.sha256(data).hexdigest()
    )


def file_digest(path: Path) -> tuple[int, str]:
    """The size and hex SHA-256 of a file, read in chunks (constant memory)."""
    digest = hashlib.sha256()
    size = 0
    with path.open("rb") as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
            size += len(chunk)
    return size, digest.hexdigest()


def check_file(path: Path, record: FileRecord) -> str | None:
    """Compare a file on disk with its record.

    Returns:
        None when size and sha256 match, else what is wrong, in a few words.
    """
    try:
        size = path.stat().st_size
    except FileNotFoundError:
        return f"{path} is missing"
    # The size is checked first: it costs a stat, the hash costs a full read.
    if size != record.size:
        return f"{path} has {size} bytes, expected {record.size}"
    if file_digest(path)[1] != record.sha256:
        return f"{path} does not match its sha256"
    return None


def remove_stale_temps(directory: Path) -> None:
    """Delete the temporary files a crash left in `directory`, if any."""
    for stale in directory.glob(f"{TEMP_PREFIX}*.tmp"):
        with contextlib.suppress(FileNotFoundError):
            stale.unlink()
