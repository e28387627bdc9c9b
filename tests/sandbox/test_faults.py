"""Fault injection and the rate limit: each fault observable, reproducible, safe."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Mapping

import aiohttp
import pytest

from gosmarter_async.sandbox import Faults, RateLimit, Sandbox
from tests.clock import FakeClock
from tests.sandbox.helpers import Api, get_token, schema_ref, validate


@pytest.fixture
async def chaos(session: aiohttp.ClientSession, clock: FakeClock) -> AsyncIterator[Api]:
    async with Sandbox(
        seed=7, companies=1, certificates_per_company=6, clock=clock
    ) as sb:
        yield Api(session, sb, await get_token(session, sb))


async def _list(api: Api) -> tuple[int, Mapping[str, str], bytes]:
    return await api.call("GET", api.certs(api.sandbox.company_ids[0]))


async def _try_list(api: Api) -> str | int:
    try:
        status, _, _ = await _list(api)
    except aiohttp.ServerDisconnectedError:
        return "disconnected"
    except aiohttp.ClientPayloadError:
        return "short body"
    return status


def test_faults_reject_rates_outside_zero_to_one() -> None:
    with pytest.raises(ValueError, match="error_rate"):
        Faults(error_rate=1.5)
    with pytest.raises(ValueError, match="latency"):
        Faults(latency=-1)


async def test_latency_sleeps_on_the_server_clock(chaos: Api, clock: FakeClock) -> None:
    chaos.sandbox.faults = Faults(latency=0.5, latency_jitter=0.25)

    await _list(chaos)
    await _list(chaos)

    assert 2 == len(clock.slept)
    assert all(0.5 <= s <= 0.75 for s in clock.slept)
    assert 2 == chaos.sandbox.stats.faults["latency"]


async def test_error_rate_answers_503_problem(chaos: Api) -> None:
    chaos.sandbox.faults = Faults(error_rate=1.0)

    status, _, raw = await _list(chaos)

    assert 503 == status
    validate(json.loads(raw), schema_ref("ProblemDetails"))
    assert 1 == chaos.sandbox.stats.faults["error"]


async def test_throttle_rate_answers_429_with_retry_after(chaos: Api) -> None:
    chaos.sandbox.faults = Faults(throttle_rate=1.0, retry_after=3)

    status, headers, raw = await _list(chaos)

    assert 429 == status
    assert "3" == headers["Retry-After"]
    validate(json.loads(raw), schema_ref("ProblemDetails"))


async def test_drop_rate_drops_before_or_midway(chaos: Api) -> None:
    chaos.sandbox.faults = Faults(drop_rate=1.0, seed=1)

    outcomes = [await _try_list(chaos) for _ in range(8)]

    # aiohttp's client replays a request once on a reused connection that closed,
    # so the server may count more drops than the client saw.
    assert {"disconnected", "short body"} == set(outcomes)
    stats = chaos.sandbox.stats
    assert stats.faults["drop_before"] > 0
    assert stats.faults["drop_midway"] > 0
    dropped = stats.faults["drop_before"] + stats.faults["drop_midway"]
    assert stats.requests["listMillCertifications"] == dropped


async def test_faults_never_corrupt_a_complete_body(chaos: Api) -> None:
    _, _, clean = await _list(chaos)
    chaos.sandbox.faults = Faults(
        error_rate=0.2, throttle_rate=0.2, drop_rate=0.3, seed=4
    )
    delivered = []

    for _ in range(20):
        try:
            status, _, body = await _list(chaos)
        except (aiohttp.ServerDisconnectedError, aiohttp.ClientPayloadError):
            continue
        if status == 200:
            delivered.append(body)

    assert delivered
    assert all(clean == body for body in delivered)
    assert sum(chaos.sandbox.stats.faults.values()) > 0


async def test_fault_sequence_is_reproducible_from_its_seed(
    session: aiohttp.ClientSession,
) -> None:
    faults = Faults(error_rate=0.3, throttle_rate=0.3, seed=9)
    runs = []

    for _ in range(2):
        async with Sandbox(
            companies=1, certificates_per_company=2, faults=faults
        ) as sb:
            api = Api(session, sb, await get_token(session, sb))
            runs.append([(await _list(api))[0] for _ in range(12)])

    assert runs[0] == runs[1]
    assert {200, 429, 503} == set(runs[0])


async def test_faults_changed_at_runtime_take_effect(chaos: Api) -> None:
    chaos.sandbox.faults = Faults(error_rate=1.0)
    failing, _, _ = await _list(chaos)

    chaos.sandbox.faults = Faults()
    healthy, _, _ = await _list(chaos)

    assert (503, 200) == (failing, healthy)


async def test_gateway_faults_spare_the_token_endpoint(
    session: aiohttp.ClientSession,
) -> None:
    faults = Faults(error_rate=1.0, drop_rate=0.0)

    async with Sandbox(faults=faults) as sandbox:
        token = await get_token(session, sandbox)

    assert token


async def test_fault_token_lifetime_overrides_sandbox_lifetime(
    session: aiohttp.ClientSession,
) -> None:
    async with Sandbox(faults=Faults(token_lifetime=2)) as sandbox:
        settings = sandbox.settings
        form = {
            "grant_type": "client_credentials",
            "client_id": settings.client_id,
            "client_secret": settings.client_secret,
            "scope": settings.scope,
        }
        async with session.post(settings.token_url, data=form) as response:
            body = await response.json()

    assert 2 == body["expires_in"]


async def _token_status(
    session: aiohttp.ClientSession, sandbox: Sandbox
) -> tuple[int, str | None, dict[str, object]]:
    s = sandbox.settings
    form = {
        "grant_type": "client_credentials",
        "client_id": s.client_id,
        "client_secret": s.client_secret,
        "scope": s.scope,
    }
    async with session.post(s.token_url, data=form) as response:
        return (
            response.status,
            response.headers.get("Retry-After"),
            await response.json(),
        )


async def test_token_outage_window_answers_503(
    session: aiohttp.ClientSession, clock: FakeClock
) -> None:
    faults = Faults(token_outage_start=10, token_outage_duration=5, retry_after=2)

    async with Sandbox(faults=faults, clock=clock) as sandbox:
        before = await _token_status(session, sandbox)
        clock.advance(11)
        during = await _token_status(session, sandbox)
        clock.advance(5)
        after = await _token_status(session, sandbox)

    assert 200 == before[0]
    assert (503, "2") == during[:2]
    assert "temporarily_unavailable" == during[2]["error"]
    assert 200 == after[0]
    assert 1 == sandbox.stats.faults["token_outage"]


async def test_token_throttle_answers_429_with_retry_after(
    session: aiohttp.ClientSession,
) -> None:
    async with Sandbox(faults=Faults(token_throttle_rate=1.0)) as sandbox:
        status, retry_after, body = await _token_status(session, sandbox)

    assert (429, "1") == (status, retry_after)
    assert [90055] == body["error_codes"]
    assert 1 == sandbox.stats.token_requests
    assert 0 == sandbox.stats.tokens_issued


async def test_rate_limit_per_client_answers_429_then_refills(
    session: aiohttp.ClientSession, clock: FakeClock
) -> None:
    limit = RateLimit(per_second=1, burst=2)

    async with Sandbox(rate_limit=limit, clock=clock, companies=1) as sandbox:
        api = Api(session, sandbox, await get_token(session, sandbox))
        statuses = [(await _list(api))[0] for _ in range(2)]
        limited, headers, _ = await _list(api)
        clock.advance(1)
        refilled, _, _ = await _list(api)

    assert [200, 200] == statuses
    assert 429 == limited
    assert "1" == headers["Retry-After"]
    assert 200 == refilled
    assert 1 == sandbox.stats.faults["rate_limited"]


class _StuckClock(FakeClock):
    """A clock whose sleep never ends: a request held in injected latency."""

    def __init__(self) -> None:
        super().__init__()
        self.sleeping = asyncio.Event()

    async def sleep(self, seconds: float) -> None:
        self.sleeping.set()
        await asyncio.Event().wait()


async def test_sandbox_stops_promptly_with_a_request_in_flight(
    session: aiohttp.ClientSession,
) -> None:
    clock = _StuckClock()
    sandbox = Sandbox(companies=1, certificates_per_company=1, clock=clock)
    loop = asyncio.get_running_loop()
    async with sandbox:
        api = Api(session, sandbox, await get_token(session, sandbox))
        sandbox.faults = Faults(latency=30)
        pending = asyncio.ensure_future(_list(api))
        await asyncio.wait_for(clock.sleeping.wait(), timeout=5)
        started = loop.time()

    stopped_after = loop.time() - started
    with pytest.raises(aiohttp.ClientError):
        await pending
    # The runner's shutdown timeout is 1 s; the held request is cancelled then.
    assert stopped_after < 3
