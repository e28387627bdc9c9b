"""Binary downloads: chunks, read, atomic save with retries, errors."""

from __future__ import annotations

import asyncio
import hashlib
import os
import time
from pathlib import Path
from uuid import UUID

import pytest
from aiohttp import web

from gosmarter_async._errors import NotFoundError, TransportError, TransportTimeoutError
from gosmarter_async._generated.api.mill_certifications import (
    download_mill_certification as download_op,
)
from gosmarter_async._generated.api.mill_certifications import (
    generate_material_test_certificate as mtc_op,
)
from gosmarter_async._generated.models import DownloadExport
from gosmarter_async._request import BinaryStream, CallOptions, RequestSpec
from gosmarter_async._retry import RetryPolicy
from gosmarter_async._streams import StreamingResponse, _land
from gosmarter_async._transport import AiohttpTransport
from tests.clock import FakeClock
from tests.helpers_server import (
    FakeTokenProvider,
    Handler,
    ScriptedServer,
    answer,
    cut_body,
    hang,
    spec,
)

# The fixtures server, tokens and transport.
pytest_plugins = ["tests.helpers_fixtures"]

COMPANY = UUID("7d1f0b5e-8a4e-4a57-9d0c-3f1f6b7e2a10")
CERT = UUID("0b8c2f3e-1111-4c1e-9a6b-5d2e8f7a9c01")
DOWNLOAD = f"/api/company/{COMPANY}/mill-certifications/{CERT}/download"
MTC = f"/api/company/{COMPANY}/mill-certifications/{CERT}/mtc"
ZIP = b"PK\x03\x04" + bytes(range(256)) * 1200  # about 300 KiB


def zip_answer() -> Handler:
    return answer(body=ZIP, content_type="application/zip")


def download(export: DownloadExport | None = None) -> RequestSpec[object]:
    return download_op.build_download_mill_certification(COMPANY, CERT, export=export)


def leftovers(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir() if p.name.endswith(".part"))


async def test_stream_is_lazy_until_entered(
    server: ScriptedServer, transport: AiohttpTransport
) -> None:
    server.script("GET", DOWNLOAD, zip_answer())

    stream: BinaryStream = transport.stream(download())
    await asyncio.sleep(0)

    assert isinstance(stream, StreamingResponse)
    assert [] == server.seen


async def test_iter_chunks_yields_the_body_in_bounded_chunks(
    server: ScriptedServer, transport: AiohttpTransport
) -> None:
    server.script("GET", DOWNLOAD, zip_answer())

    async with transport.stream(download(DownloadExport.SCANS)) as stream:
        chunks = [chunk async for chunk in stream.iter_chunks(65536)]
        content_type = stream.content_type

    assert ZIP == b"".join(chunks)
    assert max(len(c) for c in chunks) <= 65536
    assert "application/zip" == content_type
    assert [("export", "scans")] == server.seen[0].query
    assert "application/zip, text/csv" == server.seen[0].headers["Accept"]


async def test_read_returns_a_small_body(
    server: ScriptedServer, transport: AiohttpTransport
) -> None:
    csv = b"heat,C,Mn\n1234,0.21,1.40\n"
    server.script("GET", DOWNLOAD, answer(body=csv, content_type="text/csv"))

    body = await transport.stream(download(DownloadExport.CSV)).read()

    assert csv == body


async def test_save_writes_atomically_with_size_and_sha256(
    server: ScriptedServer, transport: AiohttpTransport, tmp_path: Path
) -> None:
    server.script("GET", DOWNLOAD, zip_answer())
    target = tmp_path / "cert.zip"

    saved = await transport.stream(download()).save(target)

    assert ZIP == target.read_bytes()
    assert (str(target), len(ZIP)) == (saved.path, saved.size)
    assert hashlib.sha256(ZIP).hexdigest() == saved.sha256
    assert "application/zip" == saved.content_type
    assert [] == leftovers(tmp_path)


async def test_save_retries_the_whole_download_after_a_mid_body_drop(
    server: ScriptedServer, transport: AiohttpTransport, tmp_path: Path
) -> None:
    server.script(
        "GET", DOWNLOAD, cut_body(ZIP, 100_000, "application/zip"), zip_answer()
    )
    target = tmp_path / "cert.zip"

    saved = await transport.stream(download()).save(target)

    assert 2 == len(server.seen)
    assert hashlib.sha256(ZIP).hexdigest() == saved.sha256
    assert ZIP == target.read_bytes()
    assert [] == leftovers(tmp_path)


async def test_save_leaves_no_partial_file_when_every_attempt_drops(
    server: ScriptedServer, transport: AiohttpTransport, tmp_path: Path
) -> None:
    server.script("GET", DOWNLOAD, cut_body(ZIP, 100_000, "application/zip"))
    target = tmp_path / "cert.zip"
    target.write_bytes(b"the previous download")
    options = CallOptions(retry=RetryPolicy(max_attempts=3))

    with pytest.raises(TransportError, match="cut off"):
        await transport.stream(download(), options).save(target)

    assert 3 == len(server.seen)
    assert b"the previous download" == target.read_bytes()
    assert [] == leftovers(tmp_path)


async def test_save_of_a_non_idempotent_stream_is_not_retried(
    server: ScriptedServer, transport: AiohttpTransport, tmp_path: Path
) -> None:
    server.script("POST", MTC, cut_body(b"%PDF" * 50_000, 1000, "application/pdf"))
    target = tmp_path / "mtc.pdf"
    request = mtc_op.build_generate_material_test_certificate(COMPANY, CERT)

    with pytest.raises(TransportError):
        await transport.stream(request).save(target)

    assert 1 == len(server.seen)
    assert not target.exists()
    assert [] == leftovers(tmp_path)


async def test_save_cancelled_mid_body_removes_the_temporary_file(
    server: ScriptedServer, transport: AiohttpTransport, tmp_path: Path
) -> None:
    release = asyncio.Event()
    server.script("GET", DOWNLOAD, slow_body(release))
    target = tmp_path / "cert.zip"

    saving = asyncio.create_task(transport.stream(download()).save(target))
    await wait_for_part_file(tmp_path)
    saving.cancel()
    with pytest.raises(asyncio.CancelledError):
        await saving
    release.set()

    assert not target.exists()
    assert [] == leftovers(tmp_path)


def slow_body(release: asyncio.Event) -> Handler:
    async def handler(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse()
        response.content_length = 2 * 65536
        await response.prepare(request)
        await response.write(b"a" * 65536)
        await hang(release)(request)
        return response

    return handler


async def wait_for_part_file(directory: Path) -> None:
    async with asyncio.timeout(2):
        while not leftovers(directory):  # noqa: ASYNC110 (a file has no event to await)
            await asyncio.sleep(0.01)


async def test_stream_error_status_raises_on_enter(
    server: ScriptedServer, transport: AiohttpTransport
) -> None:
    problem = {
        "title": "Not Found",
        "detail": "no such certificate",
        "trace": {"requestId": "r-9"},
    }
    server.script("GET", DOWNLOAD, answer(404, json_body=problem))

    with pytest.raises(NotFoundError) as caught:
        async with transport.stream(download()):
            pass

    assert "r-9" == caught.value.request_id


async def test_stream_replays_once_after_401(
    server: ScriptedServer, transport: AiohttpTransport, tokens: FakeTokenProvider
) -> None:
    server.script("GET", DOWNLOAD, answer(401, body=b""), zip_answer())

    body = await transport.stream(download()).read()

    assert ZIP == body
    assert 1 == len(tokens.invalidated)


async def test_iter_chunks_needs_an_open_stream(transport: AiohttpTransport) -> None:
    stream = transport.stream(spec())

    with pytest.raises(RuntimeError, match="not open"):
        await anext(stream.iter_chunks())


async def test_stream_gives_its_concurrency_slot_back_on_exit(
    server: ScriptedServer, tokens: FakeTokenProvider, clock: FakeClock
) -> None:
    server.script("GET", DOWNLOAD, zip_answer())
    server.script("GET", "/things", answer(json_body=[]))
    sending = AiohttpTransport(server.url, tokens, max_concurrency=1, clock=clock)
    try:
        async with sending.stream(download()) as stream:
            await anext(stream.iter_chunks())

        result = await asyncio.wait_for(sending.send(spec()), 2)
    finally:
        await sending.aclose()

    assert [] == result


def test_streaming_response_repr_names_the_operation(
    transport: AiohttpTransport,
) -> None:
    stream = StreamingResponse(transport, download())

    assert (
        "<StreamingResponse GET /api/company/{companyId}/mill-certifications/"
        "{millCertificationId}/download not open>"
    ) == repr(stream)


async def test_stalled_download_times_out_between_reads(
    server: ScriptedServer, tokens: FakeTokenProvider, clock: FakeClock, tmp_path: Path
) -> None:
    release = asyncio.Event()
    server.script("GET", DOWNLOAD, slow_body(release))
    sending = AiohttpTransport(
        server.url, tokens, timeout=0.2, retry=RetryPolicy.disabled(), clock=clock
    )
    target = tmp_path / "cert.zip"
    try:
        with pytest.raises(TransportTimeoutError):
            await sending.stream(download()).save(target)
    finally:
        release.set()
        await sending.aclose()

    assert not target.exists()
    assert [] == leftovers(tmp_path)


def test_landing_a_save_sweeps_only_temporaries_older_than_the_save(
    tmp_path: Path,
) -> None:
    # Regression: a cancelled save's landing thread ran on and swept the temporary
    # of the save that replaced it, whose rename then failed.
    target = tmp_path / "scan.zip"
    started = time.time() - 10
    dead = tmp_path / ".scan.zip.dead.part"
    dead.write_bytes(b"killed writer")
    os.utime(dead, (started - 5, started - 5))
    running = tmp_path / ".scan.zip.running.part"
    running.write_bytes(b"a save still in progress")
    finished = tmp_path / ".scan.zip.mine.part"
    finished.write_bytes(b"the body")

    _land(str(finished), str(target), str(tmp_path), started)

    assert b"the body" == target.read_bytes()
    assert not dead.exists()
    assert running.exists()
