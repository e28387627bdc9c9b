"""Each retry rule of the transport, against a real server on 127.0.0.1."""

from __future__ import annotations

import asyncio
import logging
import socket
from collections.abc import AsyncIterator
from datetime import timedelta
from email.utils import format_datetime

import pytest
from attrs import evolve

from gosmarter_async._errors import (
    ConnectError,
    RateLimitError,
    ServerError,
    TransportError,
    TransportTimeoutError,
)
from gosmarter_async._request import CallOptions
from gosmarter_async._retry import RetryBudget, RetryPolicy
from gosmarter_async._transport import AiohttpTransport
from tests.clock import FakeClock
from tests.helpers_server import (
    FakeTokenProvider,
    Handler,
    ManualClock,
    ScriptedServer,
    answer,
    cut_body,
    hang,
    spec,
)

# The fixtures server, tokens and transport.
pytest_plugins = ["tests.helpers_fixtures"]

EMPTY_503 = answer(503, body=b"")
OK = answer(json_body={"ok": True})


def too_many(**headers: str) -> Handler:
    return answer(429, body=b"", headers=headers)


# -- idempotent or not ------------------------------------------------------------


async def test_get_is_retried_on_503(
    server: ScriptedServer, transport: AiohttpTransport
) -> None:
    server.script("GET", "/things", EMPTY_503, EMPTY_503, OK)

    result = await transport.send(spec())

    assert ({"ok": True}, 3) == (result, len(server.seen))
    assert 2 == transport.stats.retries


@pytest.mark.parametrize("status", [408, 500, 502, 504])
async def test_get_is_retried_on_each_transient_status(
    server: ScriptedServer, transport: AiohttpTransport, status: int
) -> None:
    server.script("GET", "/things", answer(status, body=b""), OK)

    await transport.send(spec())

    assert 2 == len(server.seen)


async def test_post_is_not_retried_on_503(
    server: ScriptedServer, transport: AiohttpTransport
) -> None:
    server.script("POST", "/things", EMPTY_503, OK)

    with pytest.raises(ServerError):
        await transport.send(spec("POST"))

    assert 1 == len(server.seen)


async def test_idempotent_post_is_retried_on_503(
    server: ScriptedServer, transport: AiohttpTransport
) -> None:
    server.script("POST", "/things", EMPTY_503, OK)

    await transport.send(spec("POST", idempotent=True))

    assert 2 == len(server.seen)


async def test_post_is_retried_on_503_when_the_caller_assumes_idempotence(
    server: ScriptedServer, transport: AiohttpTransport
) -> None:
    server.script("POST", "/things", EMPTY_503, OK)
    policy = evolve(transport.retry, assume_idempotent=True)

    await transport.send(spec("POST"), CallOptions(retry=policy))

    assert 2 == len(server.seen)


async def test_post_is_retried_on_429(
    server: ScriptedServer, transport: AiohttpTransport
) -> None:
    server.script("POST", "/things", too_many(), OK)

    await transport.send(spec("POST"))

    assert 2 == len(server.seen)


async def test_post_is_not_retried_after_a_mid_body_drop(
    server: ScriptedServer, transport: AiohttpTransport
) -> None:
    server.script("POST", "/things", cut_body(b'{"ok": true}' * 20, 10), OK)

    with pytest.raises(TransportError, match="cut off"):
        await transport.send(spec("POST"))

    assert 1 == len(server.seen)


async def test_get_is_retried_after_a_mid_body_drop(
    server: ScriptedServer, transport: AiohttpTransport
) -> None:
    server.script("GET", "/things", cut_body(b'{"ok": true}' * 20, 10), OK)

    result = await transport.send(spec())

    assert ({"ok": True}, 2) == (result, len(server.seen))


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def test_post_is_retried_on_connection_refused(
    tokens: FakeTokenProvider, clock: FakeClock
) -> None:
    nowhere = AiohttpTransport(
        f"http://127.0.0.1:{closed_port()}",
        tokens,
        retry=RetryPolicy(max_attempts=3),
        clock=clock,
    )

    try:
        with pytest.raises(
            ConnectError, match=r"cannot connect to 127\.0\.0\.1"
        ) as caught:
            await nowhere.send(spec("POST"))
    finally:
        await nowhere.aclose()

    assert (3, 2) == (nowhere.stats.requests, len(clock.slept))
    assert caught.value.__cause__ is None
    assert caught.value.__suppress_context__


# -- Retry-After, the cap and the deadline ------------------------------------------


async def test_retry_after_seconds_is_waited_on_the_clock(
    server: ScriptedServer, transport: AiohttpTransport, clock: FakeClock
) -> None:
    server.script("GET", "/things", too_many(**{"Retry-After": "3"}), OK)

    await transport.send(spec())

    assert [3.0] == clock.slept


async def test_retry_after_http_date_is_waited_on_the_clock(
    server: ScriptedServer, transport: AiohttpTransport, clock: FakeClock
) -> None:
    when = format_datetime(clock.now() + timedelta(seconds=7), usegmt=True)
    server.script("GET", "/things", too_many(**{"Retry-After": when}), OK)

    await transport.send(spec())

    assert [7.0] == clock.slept


async def test_retry_after_ms_is_waited_on_the_clock(
    server: ScriptedServer, transport: AiohttpTransport, clock: FakeClock
) -> None:
    server.script("GET", "/things", too_many(**{"retry-after-ms": "2500"}), OK)

    await transport.send(spec())

    assert [2.5] == clock.slept


async def test_retry_after_on_a_503_is_waited_without_pausing_the_client(
    server: ScriptedServer, transport: AiohttpTransport, clock: FakeClock
) -> None:
    server.script(
        "GET", "/things", answer(503, body=b"", headers={"Retry-After": "4"}), OK
    )

    await transport.send(spec())

    assert [4.0] == clock.slept
    assert 0.0 == transport.cool_down.remaining()


async def test_retry_after_above_the_cap_fails_at_once(
    server: ScriptedServer, transport: AiohttpTransport, clock: FakeClock
) -> None:
    server.script("GET", "/things", too_many(**{"Retry-After": "120"}), OK)
    policy = RetryPolicy(max_retry_after=60.0)

    with pytest.raises(RateLimitError) as caught:
        await transport.send(spec(), CallOptions(retry=policy))

    assert (120.0, 1, []) == (caught.value.retry_after, len(server.seen), clock.slept)


async def test_retry_after_past_the_deadline_fails_at_once(
    server: ScriptedServer, transport: AiohttpTransport, clock: FakeClock
) -> None:
    server.script("GET", "/things", too_many(**{"Retry-After": "30"}), OK)
    policy = RetryPolicy(deadline=10.0, max_retry_after=60.0)

    with pytest.raises(RateLimitError) as caught:
        await transport.send(spec(), CallOptions(retry=policy))

    assert (30.0, 1, []) == (caught.value.retry_after, len(server.seen), clock.slept)


async def test_attempts_are_bounded_by_the_policy(
    server: ScriptedServer, transport: AiohttpTransport
) -> None:
    server.script("GET", "/things", EMPTY_503)

    with pytest.raises(ServerError):
        await transport.send(spec(), CallOptions(retry=RetryPolicy(max_attempts=3)))

    assert 3 == len(server.seen)


# -- the budget -------------------------------------------------------------------


@pytest.fixture
async def small_budget(
    server: ScriptedServer, tokens: FakeTokenProvider, clock: FakeClock
) -> AsyncIterator[AiohttpTransport]:
    sending = AiohttpTransport(
        server.url, tokens, clock=clock, budget=RetryBudget(capacity=10, retry_cost=5)
    )
    yield sending
    await sending.aclose()


async def test_budget_stops_retries_once_empty(
    server: ScriptedServer,
    small_budget: AiohttpTransport,
    caplog: pytest.LogCaptureFixture,
) -> None:
    server.script("GET", "/things", EMPTY_503)
    counts = []

    for _ in range(3):
        before = len(server.seen)
        with pytest.raises(ServerError):
            await small_budget.send(spec())
        counts.append(len(server.seen) - before)

    assert [3, 1, 1] == counts
    exhausted = [r for r in caplog.records if "budget exhausted" in r.getMessage()]
    assert [logging.WARNING] == [r.levelno for r in exhausted]


async def test_budget_is_refilled_by_successes(
    server: ScriptedServer, small_budget: AiohttpTransport
) -> None:
    server.script("GET", "/things", EMPTY_503)
    server.script("GET", "/fine", OK)
    with pytest.raises(ServerError):
        await small_budget.send(spec())
    for _ in range(5):
        await small_budget.send(spec(path="/fine"))
    server.script("GET", "/things", EMPTY_503, OK)

    before = len(server.seen)
    await small_budget.send(spec())

    assert 2 == len(server.seen) - before


# -- the shared cool-down ---------------------------------------------------------


async def test_a_429_pauses_every_new_request_of_the_client(
    server: ScriptedServer, tokens: FakeTokenProvider
) -> None:
    clock = ManualClock()
    sending = AiohttpTransport(server.url, tokens, clock=clock)
    server.script("GET", "/things", too_many(**{"Retry-After": "5"}), OK)
    server.script("GET", "/other", OK)
    try:
        first = asyncio.create_task(sending.send(spec()))
        await clock.wait_for_sleepers(1)
        others = [
            asyncio.create_task(sending.send(spec(path="/other"))) for _ in range(3)
        ]
        await clock.wait_for_sleepers(4)
        seen_during_cool_down = len(server.seen)

        clock.advance(5.0)
        results = await asyncio.wait_for(asyncio.gather(first, *others), 2)
    finally:
        await sending.aclose()

    assert 1 == seen_during_cool_down
    assert [{"ok": True}] * 4 == results
    assert 3 == sending.stats.cool_down_waits


async def test_a_cool_down_longer_than_the_cap_fails_new_calls_at_once(
    server: ScriptedServer, transport: AiohttpTransport
) -> None:
    server.script("GET", "/things", too_many(**{"Retry-After": "600"}))
    server.script("GET", "/other", OK)
    with pytest.raises(RateLimitError):
        await transport.send(spec())

    with pytest.raises(RateLimitError) as caught:
        await transport.send(spec(path="/other"))

    assert 1 == len(server.seen)
    assert 599 <= (caught.value.retry_after or 0) <= 600


# -- timeouts ---------------------------------------------------------------------


async def test_timeout_raises_transport_timeout_which_is_a_timeout_error(
    server: ScriptedServer, tokens: FakeTokenProvider, clock: FakeClock
) -> None:
    release = asyncio.Event()
    server.script("GET", "/slow", hang(release))
    sending = AiohttpTransport(
        server.url, tokens, timeout=0.2, retry=RetryPolicy.disabled(), clock=clock
    )

    try:
        with pytest.raises(TimeoutError) as caught:
            await sending.send(spec(path="/slow"))
    finally:
        release.set()
        await sending.aclose()

    assert isinstance(caught.value, TransportTimeoutError)
    assert "GET /slow: timed out" in str(caught.value)


async def test_per_call_timeout_overrides_the_default(
    server: ScriptedServer, transport: AiohttpTransport
) -> None:
    release = asyncio.Event()
    server.script("GET", "/slow", hang(release))
    options = CallOptions(timeout=0.2, retry=RetryPolicy(max_attempts=2))

    try:
        with pytest.raises(TransportTimeoutError):
            await transport.send(spec(path="/slow"), options)
    finally:
        release.set()

    assert 2 == len(server.seen)
