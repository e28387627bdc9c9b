"""The export journal: one JSON line per completed certificate, fsynced as it lands.

A line is appended only after every file of its certificate is in place, so a line
in the journal is a promise that those files exist with that size and sha256. A
crash can leave at most one partial last line (no newline); `Journal.open` cuts it
off before appending. The journal keeps only an offset per certificate id in memory
and reads a line back when it is needed, so memory grows with the number of ids, not
with the size of their records.
"""

from __future__ import annotations

import json
import logging
import os
import threading
from collections.abc import Iterable, Iterator
from pathlib import Path
from types import TracebackType
from typing import IO, Any

from attrs import define, field, frozen

from .._fs import fsync_directory
from ._files import FileRecord, canonical_json

__all__ = ["CertificateRecord", "Journal"]

log = logging.getLogger("gosmarter_async.export")


@frozen
class CertificateRecord:
    """One exported certificate: where it belongs and the files written for it.

    Args:
        cert_id: The mill certification's id.
        company_id: The company it belongs to.
        heats: How many heats it has.
        files: Its files, in the order the export writes them.
    """

    cert_id: str
    company_id: str
    heats: int
    files: tuple[FileRecord, ...]

    @property
    def size(self) -> int:
        """The bytes of all its files."""
        return sum(f.size for f in self.files)

    def to_json(self) -> dict[str, Any]:
        """The record as plain JSON data."""
        return {
            "company": self.company_id,
            "files": [f.to_json() for f in self.files],
            "heats": self.heats,
            "id": self.cert_id,
        }

    @classmethod
    def from_json(cls, data: object) -> CertificateRecord:
        """Read a record written by `to_json`.

        Raises:
            KeyError: a field is missing.
            TypeError: a field has the wrong type.
        """
        if not isinstance(data, dict):
            raise TypeError("record is not a JSON object")
        cert_id, company, heats = data["id"], data["company"], data["heats"]
        if not (isinstance(cert_id, str) and isinstance(company, str)):
            raise TypeError("record has a non-string id or company")
        if not isinstance(heats, int) or not isinstance(data["files"], list):
            raise TypeError("record has non-int heats or non-list files")
        files = tuple(FileRecord.from_json(f) for f in data["files"])
        return cls(cert_id=cert_id, company_id=company, heats=heats, files=files)


@define
class Journal:
    """An append-only journal file; open it with `Journal.open`.

    Appends are serialized by a lock, so worker threads may call `append` at once.
    When an id appears on several lines (a certificate fetched again after it failed
    verification), the last line wins.
    """

    path: Path
    _handle: IO[bytes] = field(repr=False)
    _offsets: dict[str, int] = field(repr=False)
    _size: int
    _lock: threading.Lock = field(factory=threading.Lock, repr=False)

    @classmethod
    def open(cls, path: Path) -> Journal:
        """Open (or create) the journal at `path`, dropping a partial last line.

        Raises:
            OSError: the file cannot be read or written.
        """
        offsets, size = _scan(path)
        handle = path.open("ab")
        try:
            handle.truncate(size)
            handle.flush()
            os.fsync(handle.fileno())
            fsync_directory(path.parent)
        except BaseException:
            handle.close()
            raise
        return cls(path, handle, offsets, size)

    def __enter__(self) -> Journal:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        """Close the file, after any append in progress."""
        with self._lock:
            self._handle.close()

    def __contains__(self, cert_id: object) -> bool:
        return cert_id in self._offsets

    def __len__(self) -> int:
        return len(self._offsets)

    def append(self, record: CertificateRecord) -> None:
        """Append one record and make it durable (flush and fsync) before returning.

        Raises:
            OSError: the write failed; the journal may then end in a partial line,
                which the next `open` drops.
        """
        line = canonical_json(record.to_json()) + b"\n"
        with self._lock:
            self._handle.write(line)
            self._handle.flush()
            os.fsync(self._handle.fileno())
            self._offsets[record.cert_id] = self._size
            self._size += len(line)

    def read(self, cert_id: str) -> CertificateRecord:
        """Read back the last record of `cert_id`.

        Raises:
            KeyError: the journal has no record of `cert_id`.
        """
        return next(self.read_many([cert_id]))

    def read_many(self, cert_ids: Iterable[str]) -> Iterator[CertificateRecord]:
        """Read back the last record of each id, in the order given, with one handle.

        Raises:
            KeyError: the journal has no record of one of the ids.
        """
        with self.path.open("rb") as reader:
            for cert_id in cert_ids:
                reader.seek(self._offsets[cert_id])
                yield CertificateRecord.from_json(json.loads(reader.readline()))


def _scan(path: Path) -> tuple[dict[str, int], int]:
    """Index the complete lines of an existing journal.

    Returns:
        The offset of each id's last line, and the length of the complete lines
        (where a partial last line, if any, starts).
    """
    offsets: dict[str, int] = {}
    if not path.exists():
        return offsets, 0
    position = 0
    with path.open("rb") as reader:
        for line in reader:
            if not line.endswith(b"\n"):
                log.warning("dropping a partial last line of %s (a crash)", path)
                break
            cert_id = _line_id(line)
            if cert_id is None:
                log.warning(
                    "ignoring an unreadable line at byte %d of %s", position, path
                )
            else:
                offsets[cert_id] = position
            position += len(line)
    return offsets, position


def _line_id(line: bytes) -> str | None:
    try:
        return CertificateRecord.from_json(json.loads(line)).cert_id
    except (ValueError, KeyError, TypeError):
        return None
