from __future__ import annotations

import asyncio
import datetime
import json
from pathlib import Path

import pytest

from gosmarter_async import NotFoundError, ServerError, TransportError
from gosmarter_async.export import (
    CertificateRecord,
    ExportError,
    ExportInterruptedError,
    export_certificates,
    verify,
)
from tests.export.fakes import FakeClient, cert_ids

COMPANY_A = "c0a00000-0000-4000-8000-00000000000a"
COMPANY_B = "c0b00000-0000-4000-8000-00000000000b"


def make_client(a: int = 12, b: int = 5) -> FakeClient:
    return FakeClient(
        {COMPANY_A: cert_ids(COMPANY_A, a), COMPANY_B: cert_ids(COMPANY_B, b)}
    )


class Progress:
    def __init__(self, stop_after: int = 0) -> None:
        self.stop_after = stop_after
        self.reached = asyncio.Event()
        self.total = 0
        self.records: list[tuple[str, bool]] = []

    def listed(self, total: int) -> None:
        self.total = total

    def completed(self, record: CertificateRecord, *, skipped: bool) -> None:
        self.records.append((record.cert_id, skipped))
        if len(self.records) == self.stop_after:
            self.reached.set()


def journal_ids(out: Path) -> list[str]:
    lines = (out / "manifest.jsonl").read_bytes().splitlines()
    return [json.loads(line)["id"] for line in lines]


def tree(out: Path) -> dict[str, bytes]:
    """Every output file but the journal, whose line order depends on timing."""
    return {
        str(p.relative_to(out)): p.read_bytes()
        for p in sorted(out.rglob("*"))
        if p.is_file() and p.name != "manifest.jsonl"
    }


async def test_export_certificates_writes_layout_manifest_and_details(
    tmp_path: Path,
) -> None:
    client = make_client(a=3, b=2)

    result = await export_certificates(
        client, out_dir=tmp_path, company_ids=[COMPANY_B, COMPANY_A], concurrency=2
    )

    cert = cert_ids(COMPANY_A, 3)[0]
    directory = tmp_path / COMPANY_A / cert
    assert sorted(p.name for p in directory.iterdir()) == sorted(
        ["details.json", f"{cert}.csv", "scans.zip", "mtc.pdf"]
    )
    assert (
        f"csv:None:{COMPANY_A}:{cert}".encode()
        == (directory / f"{cert}.csv").read_bytes()
    )
    assert (
        f"scans:page:{COMPANY_A}:{cert}".encode()
        == (directory / "scans.zip").read_bytes()
    )
    manifest = json.loads((tmp_path / "manifest.json").read_bytes())
    keys = [(c["company"], c["id"]) for c in manifest["certificates"]]
    assert sorted(keys) == keys
    assert 5 == len(keys) == manifest["totals"]["certificates"]
    assert 20 == manifest["totals"]["files"] == result.files
    details = (tmp_path / "details.jsonl").read_bytes().splitlines()
    assert [k[1] for k in keys] == [
        json.loads(d)["millCertificationId"] for d in details
    ]
    assert (5, 0) == (result.certificates, result.skipped)
    assert (100 + 2 + 5 * 4, 9, None) == (
        result.requests,
        result.retries,
        result.token_requests,
    )
    assert result.bytes == result.fetched_bytes == manifest["totals"]["bytes"]
    assert verify(tmp_path).ok


async def test_export_certificates_is_byte_identical_whatever_the_concurrency(
    tmp_path: Path,
) -> None:
    one, eight = tmp_path / "one", tmp_path / "eight"

    await export_certificates(
        make_client(), out_dir=one, company_ids=[COMPANY_A, COMPANY_B], concurrency=1
    )
    await export_certificates(
        make_client(), out_dir=eight, company_ids=[COMPANY_A, COMPANY_B], concurrency=8
    )

    assert tree(one) == tree(eight)


async def test_export_certificates_details_json_is_canonical(tmp_path: Path) -> None:
    client = make_client(a=1, b=0)

    await export_certificates(client, out_dir=tmp_path, company_ids=[COMPANY_A])

    cert = cert_ids(COMPANY_A, 1)[0]
    expected = (
        f'{{"companyId":"{COMPANY_A}","heats":["h"],"millCertificationId":"{cert}"}}'
    ).encode()
    assert expected == (tmp_path / COMPANY_A / cert / "details.json").read_bytes()


async def test_export_certificates_exports_a_repeated_listing_item_once(
    tmp_path: Path,
) -> None:
    client = make_client(a=12, b=0)
    repeated = cert_ids(COMPANY_A, 12)[0]
    client.mill_certifications.repeat_on_next_page = repeated

    result = await export_certificates(
        client, out_dir=tmp_path, company_ids=[COMPANY_A]
    )

    assert 12 == result.certificates
    assert 1 == client.mill_certifications.calls[("details", repeated)]
    assert sorted(cert_ids(COMPANY_A, 12)) == sorted(journal_ids(tmp_path))


async def test_export_certificates_rerun_skips_journaled_certificates(
    tmp_path: Path,
) -> None:
    await export_certificates(make_client(), out_dir=tmp_path, company_ids=[COMPANY_A])
    before = tree(tmp_path)
    client = make_client()

    result = await export_certificates(
        client, out_dir=tmp_path, company_ids=[COMPANY_A]
    )

    assert (12, 12, 0) == (result.certificates, result.skipped, result.fetched_bytes)
    assert {"list"} == {op for op, _ in client.mill_certifications.calls}
    assert before == tree(tmp_path)
    assert 12 == len(journal_ids(tmp_path))


async def test_export_certificates_resume_drops_a_partial_journal_line(
    tmp_path: Path,
) -> None:
    await export_certificates(make_client(), out_dir=tmp_path, company_ids=[COMPANY_A])
    expected = tree(tmp_path)
    journal = tmp_path / "manifest.jsonl"
    lines = journal.read_bytes().splitlines(keepends=True)
    crashed_id = json.loads(lines[-1])["id"]
    journal.write_bytes(b"".join(lines[:-1]) + lines[-1][:25])
    (tmp_path / "manifest.json").unlink()
    client = make_client()

    result = await export_certificates(
        client, out_dir=tmp_path, company_ids=[COMPANY_A]
    )

    assert (12, 11) == (result.certificates, result.skipped)
    assert 1 == client.mill_certifications.calls[("details", crashed_id)]
    assert sorted(cert_ids(COMPANY_A, 12)) == sorted(journal_ids(tmp_path))
    assert expected == tree(tmp_path)


async def test_export_certificates_cancelled_midway_keeps_whole_records_and_resumes(
    tmp_path: Path,
) -> None:
    client = make_client(a=20, b=0)
    gate = asyncio.Event()
    progress = Progress(stop_after=5)
    started = 0

    async def pause_after_five(op: str, key: str) -> None:
        nonlocal started
        if op == "details":
            started += 1
            if started > 5:
                await gate.wait()

    client.mill_certifications.hook = pause_after_five
    task = asyncio.create_task(
        export_certificates(
            client,
            out_dir=tmp_path,
            company_ids=[COMPANY_A],
            concurrency=4,
            progress=progress,
        )
    )
    async with asyncio.timeout(5):
        await progress.reached.wait()

    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task

    assert 5 == len(journal_ids(tmp_path))
    assert not (tmp_path / "manifest.json").exists()
    rerun = await export_certificates(
        make_client(a=20, b=0), out_dir=tmp_path, company_ids=[COMPANY_A]
    )
    assert (20, 5) == (rerun.certificates, rerun.skipped)
    assert sorted(cert_ids(COMPANY_A, 20)) == sorted(set(journal_ids(tmp_path)))
    assert 20 == len(journal_ids(tmp_path))
    assert verify(tmp_path).ok


async def test_export_certificates_refetches_a_corrupted_file_on_resume(
    tmp_path: Path,
) -> None:
    await export_certificates(make_client(), out_dir=tmp_path, company_ids=[COMPANY_A])
    expected = tree(tmp_path)
    victim = cert_ids(COMPANY_A, 12)[3]
    scans = tmp_path / COMPANY_A / victim / "scans.zip"
    scans.write_bytes(b"X" * scans.stat().st_size)
    assert not verify(tmp_path).ok
    client = make_client()

    result = await export_certificates(
        client, out_dir=tmp_path, company_ids=[COMPANY_A]
    )

    assert (12, 11) == (result.certificates, result.skipped)
    assert 1 == client.mill_certifications.calls[("scans", victim)]
    assert expected == tree(tmp_path)
    assert verify(tmp_path).ok


async def test_export_certificates_rerun_with_more_kinds_fetches_the_missing_ones(
    tmp_path: Path,
) -> None:
    await export_certificates(
        make_client(), out_dir=tmp_path, company_ids=[COMPANY_B], include={"details"}
    )
    assert not (tmp_path / COMPANY_B / cert_ids(COMPANY_B, 5)[0] / "mtc.pdf").exists()

    client = make_client()
    result = await export_certificates(
        client,
        out_dir=tmp_path,
        company_ids=[COMPANY_B],
        include={"details", "mtc"},
    )

    assert (5, 0, 10) == (result.certificates, result.skipped, result.files)
    assert client.mill_certifications.mtc_retry is not None
    assert client.mill_certifications.mtc_retry.assume_idempotent
    assert (tmp_path / COMPANY_B / cert_ids(COMPANY_B, 5)[0] / "mtc.pdf").exists()


async def test_export_certificates_network_loss_raises_interrupted_and_rerun_completes(
    tmp_path: Path,
) -> None:
    client = make_client(a=12, b=0)
    victim = cert_ids(COMPANY_A, 12)[6]

    async def lose_network(op: str, key: str) -> None:
        if key == victim:
            raise TransportError("connection reset", method="GET", path="/x")

    client.mill_certifications.hook = lose_network

    with pytest.raises(ExportInterruptedError) as caught:
        await export_certificates(
            client, out_dir=tmp_path, company_ids=[COMPANY_A], concurrency=1
        )

    assert 6 == caught.value.completed
    assert 12 >= caught.value.total >= 7
    assert isinstance(caught.value.__cause__, TransportError)
    assert str(caught.value).startswith("export interrupted after 6 of ")
    assert str(caught.value).endswith("; rerun the same command to resume")
    result = await export_certificates(
        make_client(a=12, b=0), out_dir=tmp_path, company_ids=[COMPANY_A]
    )
    assert (12, 6) == (result.certificates, result.skipped)


async def test_export_certificates_server_errors_count_as_interruptions(
    tmp_path: Path,
) -> None:
    client = make_client()

    async def fail(op: str, key: str) -> None:
        if op == "mtc":
            raise ServerError(method="POST", path="/mtc", status=503)

    client.mill_certifications.hook = fail

    with pytest.raises(ExportInterruptedError) as caught:
        await export_certificates(client, out_dir=tmp_path, company_ids=[COMPANY_A])

    assert isinstance(caught.value.__cause__, ServerError)


async def test_export_certificates_unknown_company_raises_not_found(
    tmp_path: Path,
) -> None:
    unknown = "00000000-0000-4000-8000-000000000000"

    with pytest.raises(NotFoundError):
        await export_certificates(
            make_client(), out_dir=tmp_path, company_ids=[unknown]
        )


async def test_export_certificates_unwritable_out_dir_raises_export_error(
    tmp_path: Path,
) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")

    with pytest.raises(ExportError, match="cannot write to"):
        await export_certificates(
            make_client(), out_dir=blocker / "out", company_ids=[COMPANY_A]
        )


@pytest.mark.parametrize("bad", ["../escape", "a/b", "", ".."])
async def test_export_certificates_rejects_unsafe_company_ids(
    tmp_path: Path, bad: str
) -> None:
    with pytest.raises(ValueError, match="not a valid id"):
        await export_certificates(make_client(), out_dir=tmp_path, company_ids=[bad])


async def test_export_certificates_rejects_an_unsafe_id_from_the_gateway(
    tmp_path: Path,
) -> None:
    client = FakeClient({COMPANY_A: ["../../escape"]})
    client.mill_certifications.companies[COMPANY_A] = []

    async def listing(company_id: str, **kwargs: object):  # type: ignore[no-untyped-def]
        class Evil:
            mill_certification_id = "../../escape"
            heat_count = 1

        yield Evil()

    client.mill_certifications.iter_mill_certifications = listing  # type: ignore[method-assign]
    out = tmp_path / "out"

    with pytest.raises(ValueError, match="not a valid id"):
        await export_certificates(client, out_dir=out, company_ids=[COMPANY_A])

    assert not (tmp_path / "escape").exists()


async def test_export_certificates_memory_is_bounded_by_concurrency(
    tmp_path: Path,
) -> None:
    client = make_client(a=200, b=0)
    gate = asyncio.Event()

    async def block(op: str, key: str) -> None:
        if op == "details":
            await gate.wait()

    client.mill_certifications.hook = block
    task = asyncio.create_task(
        export_certificates(
            client, out_dir=tmp_path, company_ids=[COMPANY_A], concurrency=3
        )
    )
    for _ in range(50):
        await asyncio.sleep(0)

    listed_while_blocked = client.mill_certifications.listed
    gate.set()
    result = await task

    # 3 in the workers, 3 in the queue, 1 waiting to be put: nothing more.
    assert listed_while_blocked <= 7
    assert 200 == result.certificates


async def test_export_certificates_passes_filters_to_the_listing(
    tmp_path: Path,
) -> None:
    client = make_client(a=1, b=0)
    since = datetime.datetime(2026, 1, 1, tzinfo=datetime.UTC)

    await export_certificates(
        client,
        out_dir=tmp_path,
        company_ids=[COMPANY_A],
        status="approved",
        since=since,
    )

    kwargs = client.mill_certifications.list_kwargs[0]
    assert ("approved", since) == (kwargs["status"], kwargs["updated_since"])


async def test_export_certificates_rejects_unknown_kinds(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="unknown export kind"):
        await export_certificates(
            make_client(), out_dir=tmp_path, company_ids=[COMPANY_A], include={"pdf"}
        )


def test_certificate_record_round_trips_through_json() -> None:
    record = CertificateRecord.from_json(
        {
            "id": "x",
            "company": "c",
            "heats": 2,
            "files": [{"name": "a", "size": 1, "sha256": "f"}],
        }
    )

    assert record == CertificateRecord.from_json(record.to_json())
    assert 1 == record.size
