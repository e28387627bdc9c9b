"""Cancellation at any await point, and closing with calls in flight (issue 6, item 5).

Against the in-process sandbox with the real token provider: each call is cancelled
after 0, 1, 2, ... turns of the event loop until it completes on its own, so that
every await point on its path (token request, connection, headers, body, file
write) is hit; after each cancellation the same client must serve a call. The
client has one concurrency slot, so a slot leaked by a cancelled call would block
the next one (each wait is bounded). Warnings are errors, so an unclosed session
or a task destroyed while pending fails the test too.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import pytest

from gosmarter_async import ClientClosedError, GoSmarterClient, RetryPolicy
from gosmarter_async.sandbox import Faults, Sandbox

# The OS's view of our sockets; psutil is not (yet) in the test extra.
psutil = pytest.importorskip("psutil", reason="psutil is not installed")

Call = Callable[[GoSmarterClient, str, str, Path], Awaitable[object]]

# More turns than any call here needs on loopback; a bound, not a target.
MAX_TURNS = 400
LEAK_MARKERS = ("Unclosed", "Task was destroyed", "never awaited")


async def _details(c: GoSmarterClient, company: str, cert: str, _: Path) -> object:
    return await c.mill_certifications.get_mill_certification(company, cert)


async def _pages(c: GoSmarterClient, company: str, _: str, __: Path) -> object:
    pages = c.mill_certifications.iter_mill_certifications(company, page_size=2)
    return [s async for s in pages]


async def _save(c: GoSmarterClient, company: str, cert: str, tmp: Path) -> object:
    stream = c.mill_certifications.download_mill_certification(company, cert)
    return await stream.save(tmp / "original.bin")


async def _mtc(c: GoSmarterClient, company: str, cert: str, _: Path) -> object:
    stream = c.mill_certifications.generate_material_test_certificate(company, cert)
    return await stream.read()


CALLS: dict[str, Call] = {
    "details": _details,
    "pages": _pages,
    "download-save": _save,
    "mtc-read": _mtc,
}


@pytest.fixture
async def sandbox() -> AsyncIterator[Sandbox]:
    async with Sandbox(seed=8, companies=1, certificates_per_company=5) as running:
        yield running


def _part_files(root: Path) -> list[str]:
    return [p.name for p in root.rglob("*.part")]


async def _until(condition: Callable[[], bool], within: float = 5.0) -> None:
    """Poll `condition` every 10 ms, failing after `within` seconds."""
    for _ in range(int(within / 0.01)):
        if condition():
            return
        await asyncio.sleep(0.01)
    pytest.fail(f"not true within {within} s")


async def _first_cert(sandbox: Sandbox) -> str:
    async with GoSmarterClient(sandbox.settings) as client:
        page = await client.mill_certifications.list_mill_certifications(
            sandbox.company_ids[0], page_size=1
        )
    return str(page.items[0].mill_certification_id)


async def _cancel_after(turns: int, call: Awaitable[object]) -> bool:
    """Cancel `call` after `turns` loop turns; True if it was still running."""
    task = asyncio.ensure_future(call)
    for _ in range(turns):
        await asyncio.sleep(0)
    if task.done():
        task.result()
        return False
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    return True


@pytest.mark.parametrize("name", list(CALLS))
async def test_cancel_at_every_await_point_leaves_the_client_usable(
    name: str, sandbox: Sandbox, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    call = CALLS[name]
    company = sandbox.company_ids[0]
    cert = await _first_cert(sandbox)
    cancelled = 0

    for turns in range(MAX_TURNS):
        # A new client each time, so that the token request is on the path too.
        async with GoSmarterClient(sandbox.settings, max_concurrency=1) as client:
            was_running = await _cancel_after(
                turns, call(client, company, cert, tmp_path)
            )
            after = await asyncio.wait_for(call(client, company, cert, tmp_path), 5)
        assert after
        if not was_running:
            break
        cancelled += 1

    assert 0 < cancelled < MAX_TURNS
    assert [] == _part_files(tmp_path)
    assert [] == [
        r.getMessage() for r in caplog.records
        if any(m in r.getMessage() for m in LEAK_MARKERS)
    ]  # fmt: skip


async def test_cancel_during_the_cool_down_wait_leaves_the_client_usable(
    sandbox: Sandbox,
) -> None:
    company = sandbox.company_ids[0]
    sandbox.faults = Faults(throttle_rate=1.0, retry_after=1)
    async with GoSmarterClient(sandbox.settings, max_concurrency=1) as client:
        waiting = asyncio.ensure_future(
            client.entitlements.list_company_entitlements(company)
        )
        await _until(lambda: client.stats.requests >= 1)
        await asyncio.sleep(0.05)
        waiting.cancel()
        with pytest.raises(asyncio.CancelledError):
            await waiting
        sandbox.faults = Faults()

        after = await asyncio.wait_for(
            client.entitlements.list_company_entitlements(company), 5
        )

    assert after


def _connections_to(port: int) -> list[object]:
    me = psutil.Process(os.getpid())
    return [
        c
        for c in me.net_connections(kind="tcp")
        if c.raddr and c.raddr.port == port and c.status == psutil.CONN_ESTABLISHED
    ]


async def test_close_with_calls_in_flight_ends_them_and_releases_connections(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    company = sandbox.company_ids[0]
    cert = await _first_cert(sandbox)
    port = int(sandbox.url.rsplit(":", 1)[1])
    sandbox.faults = Faults(latency=3.0)
    client = GoSmarterClient(sandbox.settings, retry=RetryPolicy.disabled())
    calls = [
        asyncio.ensure_future(CALLS[name](client, company, cert, tmp_path / name))
        for name in ("details", "pages", "mtc-read")
    ]
    (tmp_path / "download-save").mkdir()
    calls.append(
        asyncio.ensure_future(_save(client, company, cert, tmp_path / "download-save"))
    )
    await _until(lambda: len(_connections_to(port)) >= len(calls))

    await client.aclose()
    outcomes = await asyncio.wait_for(asyncio.gather(*calls, return_exceptions=True), 2)

    assert [ClientClosedError] * len(calls) == [type(o) for o in outcomes]
    assert all("closed" in str(o) for o in outcomes)
    assert [] == _connections_to(port)
    assert [] == _part_files(tmp_path)
