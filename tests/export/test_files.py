from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from gosmarter_async.export import FileRecord
from gosmarter_async.export._files import (
    atomic_writer,
    canonical_json,
    check_file,
    remove_stale_temps,
    write_atomic,
)


def test_canonical_json_sorts_keys_and_drops_spaces() -> None:
    assert b'{"a":[1,{"b":"\xc3\xa9","c":null}],"z":1}' == canonical_json(
        {"z": 1, "a": [1, {"c": None, "b": "é"}]}
    )


def test_atomic_writer_leaves_the_old_file_when_the_block_fails(tmp_path: Path) -> None:
    target = tmp_path / "f.json"
    target.write_bytes(b"old")

    def crash_midway() -> None:
        with atomic_writer(target) as handle:
            handle.write(b"half of the new")
            raise RuntimeError("crash")

    with pytest.raises(RuntimeError):
        crash_midway()

    assert b"old" == target.read_bytes()
    assert ["f.json"] == [p.name for p in tmp_path.iterdir()]


def test_write_atomic_records_size_and_sha256(tmp_path: Path) -> None:
    record = write_atomic(tmp_path / "x.bin", b"hello")

    assert FileRecord("x.bin", 5, hashlib.sha256(b"hello").hexdigest()) == record
    assert check_file(tmp_path / "x.bin", record) is None


def test_check_file_reports_missing_resized_and_changed(tmp_path: Path) -> None:
    record = write_atomic(tmp_path / "x.bin", b"hello")
    path = tmp_path / "x.bin"

    path.write_bytes(b"jello")
    changed = check_file(path, record)
    path.write_bytes(b"hi")
    resized = check_file(path, record)
    path.unlink()
    missing = check_file(path, record)

    assert changed is not None
    assert changed.endswith("does not match its sha256")
    assert resized is not None
    assert resized.endswith("has 2 bytes, expected 5")
    assert missing is not None
    assert missing.endswith("is missing")


def test_remove_stale_temps_removes_only_our_temporary_files(tmp_path: Path) -> None:
    (tmp_path / ".gosmarter-mtc.pdf.abc.tmp").write_bytes(b"partial")
    (tmp_path / "mtc.pdf").write_bytes(b"whole")

    remove_stale_temps(tmp_path)

    assert ["mtc.pdf"] == [p.name for p in tmp_path.iterdir()]
