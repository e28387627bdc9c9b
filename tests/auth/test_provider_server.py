"""The provider against a real aiohttp token endpoint on 127.0.0.1."""

from __future__ import annotations

import asyncio

import pytest

from gosmarter_async._errors import TokenEndpointUnavailableError
from gosmarter_async._retry import RetryPolicy
from gosmarter_async.auth import ClientCredentialsTokenProvider
from tests.auth.conftest import CLIENT_ID, SCOPE, SECRET
from tests.auth.token_server import Answer, TokenEndpoint, serve
from tests.clock import FakeClock

# Every test here finishes in well under a second; this only bounds a hang.
BOUND = 10.0


def _provider(
    url: str, clock: FakeClock, **kwargs: object
) -> ClientCredentialsTokenProvider:
    kwargs.setdefault("retry", RetryPolicy(max_attempts=3).without_waits())
    return ClientCredentialsTokenProvider(
        url,
        CLIENT_ID,
        SECRET,
        SCOPE,
        clock=clock,
        **kwargs,  # type: ignore[arg-type]
    )


async def test_provider_1000_concurrent_cold_start_callers_send_one_request(
    clock: FakeClock,
) -> None:
    endpoint = TokenEndpoint(hold=asyncio.Event())
    async with asyncio.timeout(BOUND), serve(endpoint) as (_, url):
        provider = _provider(url, clock)
        callers = [asyncio.create_task(provider.get_token()) for _ in range(1000)]
        await endpoint.arrived.wait()
        await asyncio.sleep(0)
        assert endpoint.hold is not None
        endpoint.hold.set()

        tokens = await asyncio.gather(*callers)
        await provider.aclose()

    assert 1 == endpoint.count
    assert {"tok-1"} == {t.value for t in tokens}
    assert 1 == provider.stats.token_requests


async def test_provider_secret_reaches_the_server_only_in_the_form_body(
    clock: FakeClock,
) -> None:
    endpoint = TokenEndpoint()
    async with asyncio.timeout(BOUND), serve(endpoint) as (_, url):
        provider = _provider(url, clock)
        await provider.get_token()
        await provider.aclose()

    assert SECRET == endpoint.forms[0]["client_secret"]
    assert "client_credentials" == endpoint.forms[0]["grant_type"]
    assert "" == endpoint.queries[0]
    assert all(SECRET not in value for value in endpoint.headers[0].values())
    assert "Authorization" not in endpoint.headers[0]


async def test_provider_waiter_cancelled_mid_refresh_the_next_caller_gets_that_token(
    clock: FakeClock,
) -> None:
    endpoint = TokenEndpoint(hold=asyncio.Event())
    async with asyncio.timeout(BOUND), serve(endpoint) as (_, url):
        provider = _provider(url, clock)

        # The scenario: the refresh takes 2 s, the waiter gives up after
        # 0.1 s. The server holds the answer until released instead of sleeping 2 s.
        with pytest.raises(TimeoutError):
            async with asyncio.timeout(0.1):
                await provider.get_token()
        next_caller = asyncio.create_task(provider.get_token())
        await asyncio.sleep(0)
        assert endpoint.hold is not None
        endpoint.hold.set()
        token = await next_caller
        await provider.aclose()

    assert 1 == endpoint.count
    assert "tok-1" == token.value


async def test_provider_500s_then_success_leaves_no_cached_exception(
    clock: FakeClock,
) -> None:
    endpoint = TokenEndpoint(
        script=[Answer(500, "boom"), Answer(502, "<html>bad gateway</html>")]
    )
    async with asyncio.timeout(BOUND), serve(endpoint) as (_, url):
        provider = _provider(url, clock)
        token = await provider.get_token()

        endpoint.script.extend(Answer(503, "down") for _ in range(3))
        with pytest.raises(TokenEndpointUnavailableError):
            await provider.get_token(force_refresh=True)
        after = await provider.get_token(force_refresh=True)
        await provider.aclose()

    assert "tok-1" == token.value
    assert "tok-2" == after.value
    assert 7 == endpoint.count


def test_provider_reused_across_two_asyncio_runs_under_contention() -> None:
    clock = FakeClock()
    provider_holder: list[ClientCredentialsTokenProvider] = []
    counts: list[int] = []

    async def one_run(port: int, prefix: str) -> tuple[set[str], int]:
        endpoint = TokenEndpoint(hold=asyncio.Event(), prefix=prefix)
        async with asyncio.timeout(BOUND), serve(endpoint, port) as (server, url):
            if not provider_holder:
                provider_holder.append(_provider(url, clock))
            provider = provider_holder[0]
            callers = [asyncio.create_task(provider.get_token()) for _ in range(100)]
            await endpoint.arrived.wait()
            assert endpoint.hold is not None
            endpoint.hold.set()
            tokens = await asyncio.gather(*callers)
            counts.append(endpoint.count)
            return {t.value for t in tokens}, server.port or 0

    first_values, port = asyncio.run(one_run(0, "first"))
    clock.advance(3600)  # the first token has expired
    # The same port, since the provider's token URL is fixed.
    second_values, _ = asyncio.run(one_run(port, "second"))

    assert [1, 1] == counts
    assert {"first-1"} == first_values
    assert {"second-1"} == second_values
    assert 2 == provider_holder[0].stats.refreshes


def test_provider_refresh_left_in_flight_by_an_ended_loop_does_not_block_the_next() -> (
    None
):
    clock = FakeClock()
    holder: list[ClientCredentialsTokenProvider] = []

    async def abandon() -> int:
        endpoint = TokenEndpoint(hold=asyncio.Event(), prefix="lost")
        async with asyncio.timeout(BOUND), serve(endpoint) as (server, url):
            holder.append(_provider(url, clock, retry=RetryPolicy.disabled()))
            asyncio.get_running_loop().create_task(holder[0].get_token())
            await endpoint.arrived.wait()
            endpoint.script.append(Answer(503, "going away"))
            return server.port or 0

    async def next_run(port: int) -> str:
        endpoint = TokenEndpoint(prefix="next")
        async with asyncio.timeout(BOUND), serve(endpoint, port):
            token = await holder[0].get_token()
            await holder[0].aclose()
            return token.value

    port = asyncio.run(abandon())
    value = asyncio.run(next_run(port))

    assert "next-1" == value
