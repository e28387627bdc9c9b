from __future__ import annotations

import json
from pathlib import Path

from gosmarter_async.export import CertificateRecord, FileRecord
from gosmarter_async.export._journal import Journal


def record(cert_id: str, size: int = 3) -> CertificateRecord:
    return CertificateRecord(
        cert_id=cert_id,
        company_id="c",
        heats=1,
        files=(FileRecord(name="details.json", size=size, sha256="ab"),),
    )


def test_journal_append_is_read_back_after_reopening(tmp_path: Path) -> None:
    path = tmp_path / "manifest.jsonl"
    with Journal.open(path) as journal:
        journal.append(record("a"))
        journal.append(record("b"))

    with Journal.open(path) as reopened:
        assert (2, True, False) == (len(reopened), "a" in reopened, "z" in reopened)
        assert [record("b"), record("a")] == list(reopened.read_many(["b", "a"]))


def test_journal_open_drops_a_partial_last_line(tmp_path: Path) -> None:
    path = tmp_path / "manifest.jsonl"
    with Journal.open(path) as journal:
        journal.append(record("a"))
    whole = path.read_bytes()
    path.write_bytes(whole + b'{"company":"c","files":[')

    with Journal.open(path) as journal:
        journal.append(record("b"))

    assert (
        whole
        + json.dumps(record("b").to_json(), separators=(",", ":")).encode()
        + b"\n"
        == path.read_bytes()
    )


def test_journal_last_line_of_a_repeated_id_wins(tmp_path: Path) -> None:
    path = tmp_path / "manifest.jsonl"
    with Journal.open(path) as journal:
        journal.append(record("a", size=1))
        journal.append(record("a", size=2))

    with Journal.open(path) as journal:
        assert (1, 2) == (len(journal), journal.read("a").size)


def test_journal_open_ignores_an_unreadable_whole_line(tmp_path: Path) -> None:
    path = tmp_path / "manifest.jsonl"
    line = json.dumps(record("a").to_json()).encode() + b"\n"
    path.write_bytes(b"not json\n" + b'{"id": 3}\n' + line)

    with Journal.open(path) as journal:
        assert (1, record("a")) == (len(journal), journal.read("a"))
