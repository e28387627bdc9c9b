from __future__ import annotations

import json
from pathlib import Path

from gosmarter_async.export import verify
from gosmarter_async.export._files import write_atomic
from gosmarter_async.export._journal import CertificateRecord, Journal
from gosmarter_async.export._manifest import write_outputs


def export_one(
    out: Path, company: str, cert_id: str, details: bytes
) -> CertificateRecord:
    directory = out / company / cert_id
    directory.mkdir(parents=True)
    files = (write_atomic(directory / "details.json", details),)
    return CertificateRecord(cert_id=cert_id, company_id=company, heats=2, files=files)


def make_export(out: Path) -> None:
    with Journal.open(out / "manifest.jsonl") as journal:
        journal.append(export_one(out, "c2", "a", b'{"n":1}'))
        journal.append(export_one(out, "c1", "b", b'{"n":2}'))
        journal.append(export_one(out, "c1", "a0", b'{"n":3}'))
        write_outputs(out, journal, {"a": "c2", "b": "c1", "a0": "c1"}, details=True)


def test_write_outputs_sorts_by_company_then_id_with_totals(tmp_path: Path) -> None:
    make_export(tmp_path)

    manifest = json.loads((tmp_path / "manifest.json").read_bytes())

    assert [("c1", "a0"), ("c1", "b"), ("c2", "a")] == [
        (c["company"], c["id"]) for c in manifest["certificates"]
    ]
    assert {"bytes": 21, "certificates": 3, "files": 3, "heats": 6} == manifest[
        "totals"
    ]
    assert b'{"n":3}\n{"n":2}\n{"n":1}\n' == (tmp_path / "details.jsonl").read_bytes()
    assert [("details.jsonl", 24)] == [
        (o["name"], o["size"]) for o in manifest["outputs"]
    ]


def test_verify_passes_on_an_intact_export(tmp_path: Path) -> None:
    make_export(tmp_path)

    report = verify(tmp_path)

    assert (True, 3, 4, 45) == (
        report.ok,
        report.certificates,
        report.files,
        report.bytes,
    )


def test_verify_reports_a_changed_file_and_a_changed_details_jsonl(
    tmp_path: Path,
) -> None:
    make_export(tmp_path)
    (tmp_path / "c1" / "b" / "details.json").write_bytes(b'{"n":9}')
    (tmp_path / "details.jsonl").write_bytes(b"")

    report = verify(tmp_path)

    assert 2 == len(report.problems)
    assert "c1/b/details.json does not match its sha256" in report.problems[0]
    assert "details.jsonl has 0 bytes" in report.problems[1]


def test_verify_reports_a_missing_manifest(tmp_path: Path) -> None:
    report = verify(tmp_path)

    assert not report.ok
    assert "manifest.json cannot be read" in report.problems[0]


def test_verify_refuses_a_manifest_that_points_outside_the_export(
    tmp_path: Path,
) -> None:
    entry = {"id": "..", "company": "c", "heats": 0, "files": []}
    manifest = {"certificates": [entry], "outputs": [], "totals": {}}
    (tmp_path / "manifest.json").write_text(json.dumps(manifest))

    report = verify(tmp_path)

    assert ("certificate id '..' is not a valid id",) == report.problems
