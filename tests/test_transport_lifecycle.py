"""The transport's session, limits, cancellation and closing."""

from __future__ import annotations

import asyncio
import socket

import aiohttp
import pytest
from aioresponses import aioresponses
from yarl import URL

from gosmarter_async._errors import (
    ClientClosedError,
    ConnectError,
    ConnectTimeoutError,
    TransportError,
)
from gosmarter_async._retry import RetryPolicy
from gosmarter_async._transport import AiohttpTransport
from tests.clock import FakeClock
from tests.helpers_server import (
    FakeTokenProvider,
    ManualClock,
    ScriptedServer,
    answer,
    hang,
    spec,
)

# The fixtures server, tokens and transport.
pytest_plugins = ["tests.helpers_fixtures"]

OK = answer(json_body={"ok": True})
API = "https://api.gosmarter.ai"


def test_transport_builds_without_a_loop_or_a_session(
    tokens: FakeTokenProvider,
) -> None:
    transport = AiohttpTransport(API, tokens)

    assert (False, False) == (transport.session_opened, transport.closed)


async def test_transport_opens_one_session_for_all_calls(
    server: ScriptedServer, transport: AiohttpTransport
) -> None:
    server.script("GET", "/things", OK)

    await transport.send(spec())
    first = transport._session
    await transport.send(spec())

    assert first is not None
    assert first is transport._session


# -- cancellation -----------------------------------------------------------------


async def test_cancelled_call_leaves_the_transport_usable(
    server: ScriptedServer, tokens: FakeTokenProvider, clock: FakeClock
) -> None:
    release = asyncio.Event()
    server.script("GET", "/slow", hang(release))
    server.script("GET", "/fast", OK)
    # One slot: the next call can only go if the cancelled one gave its slot back.
    sending = AiohttpTransport(server.url, tokens, max_concurrency=1, clock=clock)
    try:
        slow = asyncio.create_task(sending.send(spec(path="/slow")))
        await server.wait_for_requests(1)

        slow.cancel()
        with pytest.raises(asyncio.CancelledError):
            await slow
        result = await asyncio.wait_for(sending.send(spec(path="/fast")), 2)
    finally:
        release.set()
        await sending.aclose()

    assert {"ok": True} == result


# -- limits -----------------------------------------------------------------------


async def test_max_concurrency_bounds_requests_in_flight(
    server: ScriptedServer, tokens: FakeTokenProvider, clock: FakeClock
) -> None:
    release = asyncio.Event()
    server.script("GET", "/slow", hang(release))
    sending = AiohttpTransport(server.url, tokens, max_concurrency=2, clock=clock)
    try:
        calls = [
            asyncio.create_task(sending.send(spec(path="/slow"))) for _ in range(5)
        ]
        await server.wait_for_requests(2)
        await asyncio.sleep(0.05)
        in_flight = len(server.seen)

        release.set()
        await asyncio.wait_for(asyncio.gather(*calls), 2)
    finally:
        release.set()
        await sending.aclose()

    assert (2, 5) == (in_flight, len(server.seen))


# -- closing ----------------------------------------------------------------------


async def test_closing_ends_calls_in_flight_with_client_closed(
    server: ScriptedServer, tokens: FakeTokenProvider, clock: FakeClock
) -> None:
    release = asyncio.Event()
    server.script("GET", "/slow", hang(release))
    sending = AiohttpTransport(server.url, tokens, clock=clock)
    try:
        calls = [
            asyncio.create_task(sending.send(spec(path="/slow"))) for _ in range(2)
        ]
        await server.wait_for_requests(2)

        await sending.aclose()
        outcomes = await asyncio.wait_for(
            asyncio.gather(*calls, return_exceptions=True), 2
        )
    finally:
        release.set()

    assert [ClientClosedError, ClientClosedError] == [type(o) for o in outcomes]


async def test_closing_wakes_a_call_waiting_to_retry(
    server: ScriptedServer, tokens: FakeTokenProvider
) -> None:
    clock = ManualClock()
    server.script("GET", "/things", answer(503, body=b""))
    sending = AiohttpTransport(server.url, tokens, clock=clock)
    call = asyncio.create_task(sending.send(spec()))
    await clock.wait_for_sleepers(1)

    await sending.aclose()

    with pytest.raises(ClientClosedError):
        await asyncio.wait_for(call, 2)


async def test_closed_transport_refuses_new_calls(
    server: ScriptedServer, transport: AiohttpTransport
) -> None:
    await transport.aclose()

    with pytest.raises(ClientClosedError, match="the client is closed"):
        await transport.send(spec())

    assert [] == server.seen


async def test_aclose_twice_is_harmless(transport: AiohttpTransport) -> None:
    await transport.aclose()
    await transport.aclose()

    assert transport.closed


# -- aioresponses: failures a loopback server cannot stage ------------------------


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def connector_error() -> aiohttp.ClientConnectorError:
    from aiohttp.client_reqrep import ConnectionKey  # noqa: PLC0415

    key = ConnectionKey("api.gosmarter.ai", 443, True, True, None, None, None)
    return aiohttp.ClientConnectorError(key, OSError(111, "Connection refused"))


@pytest.mark.parametrize(
    "failure", [connector_error(), aiohttp.ConnectionTimeoutError("Connection timeout")]
)
async def test_post_is_retried_when_the_connection_fails(
    tokens: FakeTokenProvider, clock: FakeClock, failure: Exception
) -> None:
    # aioresponses 0.7.9 cannot build successful responses on aiohttp 3.14, so
    # every attempt fails here; the attempts counted show the retries.
    transport = AiohttpTransport(
        API, tokens, retry=RetryPolicy(max_attempts=3), clock=clock
    )
    try:
        with aioresponses() as mocked:
            mocked.post(f"{API}/things", exception=failure, repeat=True)

            with pytest.raises(ConnectError):
                await transport.send(spec("POST"))
    finally:
        await transport.aclose()

    assert (3, 2) == (transport.stats.requests, transport.stats.retries)


class ServerStartingClock(FakeClock):
    """A fake clock that brings the server up during the first retry wait."""

    def __init__(self, server: ScriptedServer) -> None:
        super().__init__()
        self.server = server

    async def sleep(self, seconds: float) -> None:
        await super().sleep(seconds)
        if self.server.port and not self.server.started:
            await self.server.start()


async def test_post_refused_connection_is_retried_then_succeeds(
    tokens: FakeTokenProvider,
) -> None:
    later = ScriptedServer(port=free_port())
    later.script("POST", "/things", answer(201, json_body={"id": 9}))
    transport = AiohttpTransport(later.url, tokens, clock=ServerStartingClock(later))
    try:
        result = await transport.send(spec("POST"))
    finally:
        await transport.aclose()
        await later.stop()

    assert ({"id": 9}, 1, 1) == (result, len(later.seen), transport.stats.retries)


async def test_connect_timeout_maps_to_connect_timeout_error(
    tokens: FakeTokenProvider, clock: FakeClock
) -> None:
    transport = AiohttpTransport(API, tokens, retry=RetryPolicy.disabled(), clock=clock)
    try:
        with aioresponses() as mocked:
            mocked.get(f"{API}/things", exception=aiohttp.ConnectionTimeoutError("x"))

            with pytest.raises(ConnectTimeoutError) as caught:
                await transport.send(spec())
    finally:
        await transport.aclose()

    assert isinstance(caught.value, TimeoutError)
    assert isinstance(caught.value, ConnectError)


@pytest.mark.parametrize(
    "failure",
    [
        aiohttp.ServerDisconnectedError(),
        aiohttp.ClientOSError(104, "Connection reset by peer"),
        aiohttp.ClientPayloadError("Response payload is not completed"),
        aiohttp.TooManyRedirects(None, ()),  # type: ignore[arg-type]
    ],
)
async def test_aiohttp_errors_never_leak(
    tokens: FakeTokenProvider, clock: FakeClock, failure: Exception
) -> None:
    transport = AiohttpTransport(API, tokens, retry=RetryPolicy.disabled(), clock=clock)
    try:
        with aioresponses() as mocked:
            mocked.get(URL(f"{API}/things"), exception=failure)

            with pytest.raises(TransportError) as caught:
                await transport.send(spec())
    finally:
        await transport.aclose()

    assert not isinstance(caught.value, aiohttp.ClientError)
    assert caught.value.__cause__ is None
    assert "GET /things: " in str(caught.value)
