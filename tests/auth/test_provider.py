from __future__ import annotations

import asyncio
import logging
from datetime import timedelta

import aiohttp
import attrs
import pytest

from gosmarter_async import Settings, auth
from gosmarter_async._errors import (
    AuthenticationError,
    ClientClosedError,
    ConfigurationError,
    InvalidClientError,
    InvalidScopeError,
    TokenEndpointError,
    TokenEndpointUnavailableError,
    TokenRateLimitedError,
    TokenResponseError,
    UnauthorizedClientError,
)
from gosmarter_async._retry import RetryPolicy
from gosmarter_async.auth import (
    AccessToken,
    CacheKey,
    ClientCredentialsTokenProvider,
    TokenStats,
)
from tests.auth.conftest import (
    CLIENT_ID,
    SCOPE,
    SECRET,
    TOKEN_URL,
    ProviderFactory,
    ScriptedEndpoint,
    settle,
)
from tests.clock import FakeClock

# --- single flight and the basics -------------------------------------------------


async def test_provider_cold_start_callers_share_one_request(
    endpoint: ScriptedEndpoint, make_provider: ProviderFactory
) -> None:
    endpoint.ok("tok-A")
    provider = make_provider()

    tokens = await asyncio.gather(*(provider.get_token() for _ in range(200)))

    assert 1 == endpoint.count
    assert {"tok-A"} == {t.value for t in tokens}


async def test_provider_sends_the_secret_only_in_the_form_body(
    endpoint: ScriptedEndpoint, make_provider: ProviderFactory
) -> None:
    endpoint.ok("tok-A")
    provider = make_provider()

    await provider.get_token()

    call = endpoint.calls[0]
    assert {
        "grant_type": "client_credentials",
        "client_id": CLIENT_ID,
        "client_secret": SECRET,
        "scope": SCOPE,
    } == endpoint.forms[0]
    assert "" == call["url"].query_string
    assert {"Accept": "application/json"} == call["headers"]
    assert call["allow_redirects"] is False


async def test_provider_serves_the_cached_token_without_a_request(
    endpoint: ScriptedEndpoint, make_provider: ProviderFactory, clock: FakeClock
) -> None:
    endpoint.ok("tok-A")
    provider = make_provider()
    first = await provider.get_token()
    clock.advance(1800)

    again = await provider.get_token()

    assert first is again
    assert 1 == endpoint.count


async def test_provider_cache_key_is_built_once_from_frozen_fields(
    make_provider: ProviderFactory,
) -> None:
    provider = make_provider()

    with pytest.raises(attrs.exceptions.FrozenAttributeError):
        provider.scope = "api://other/.default"

    assert provider.cache_key is provider.cache_key
    assert (TOKEN_URL, CLIENT_ID, SCOPE) == attrs.astuple(provider.cache_key)


async def test_provider_force_refresh_requests_a_new_token(
    endpoint: ScriptedEndpoint, make_provider: ProviderFactory
) -> None:
    endpoint.ok("tok-A")
    endpoint.ok("tok-B")
    provider = make_provider()
    await provider.get_token()

    forced = await provider.get_token(force_refresh=True)

    assert "tok-B" == forced.value
    assert "tok-B" == (await provider.get_token()).value
    assert 2 == endpoint.count


async def test_provider_expires_in_given_as_a_string_sets_the_expiry(
    endpoint: ScriptedEndpoint, make_provider: ProviderFactory, clock: FakeClock
) -> None:
    endpoint.ok("tok-A", expires_in="3599")
    provider = make_provider()

    token = await provider.get_token()

    assert 3599 == token.expires_in(clock)
    assert clock.now() + timedelta(seconds=3599) == token.expires_at


@pytest.mark.parametrize("expires_in", [-1, 0, True, "soon", "nan", "-3600"])
async def test_provider_invalid_expires_in_raises_a_typed_error_not_a_token(
    endpoint: ScriptedEndpoint, make_provider: ProviderFactory, expires_in: object
) -> None:
    endpoint.ok("tok-A", expires_in=expires_in)
    provider = make_provider()

    with pytest.raises(TokenResponseError, match="expires_in"):
        await provider.get_token()

    assert 1 == endpoint.count


async def test_provider_without_expires_in_assumes_the_default_lifetime(
    endpoint: ScriptedEndpoint, make_provider: ProviderFactory, clock: FakeClock
) -> None:
    endpoint.ok("opaque-A", expires_in=None)
    provider = make_provider(default_lifetime=600)

    token = await provider.get_token()

    assert 600 == token.expires_in(clock)


# --- retries and failures --------------------------------------------------------


async def test_provider_retries_5xx_408_and_connection_errors_then_succeeds(
    endpoint: ScriptedEndpoint, make_provider: ProviderFactory
) -> None:
    endpoint.answer(500, body="oops")
    endpoint.answer(408)
    endpoint.answers.append(aiohttp.ClientConnectionError("reset"))
    endpoint.answers.append(TimeoutError())
    endpoint.ok("tok-A")
    provider = make_provider(retry=RetryPolicy(max_attempts=5).without_waits())

    token = await provider.get_token()

    assert "tok-A" == token.value
    assert TokenStats(token_requests=5, refreshes=1, failures=0) == provider.stats


async def test_provider_backs_off_between_attempts_on_the_injected_clock(
    endpoint: ScriptedEndpoint, make_provider: ProviderFactory, clock: FakeClock
) -> None:
    endpoint.answer(503)
    endpoint.answer(502)
    endpoint.ok("tok-A")
    retry = RetryPolicy(max_attempts=3, initial_backoff=1.0, jitter=False)
    provider = make_provider(retry=retry)

    await provider.get_token()

    assert [1.0, 2.0] == clock.slept


async def test_provider_failed_refresh_is_not_cached_the_next_call_tries_again(
    endpoint: ScriptedEndpoint, make_provider: ProviderFactory
) -> None:
    for _ in range(3):
        endpoint.answer(500)
    endpoint.ok("tok-A")
    provider = make_provider()

    with pytest.raises(TokenEndpointUnavailableError) as caught:
        await provider.get_token()
    token = await provider.get_token()

    assert 3 == caught.value.attempts
    assert 500 == caught.value.status
    assert "tok-A" == token.value
    assert TokenStats(token_requests=4, refreshes=1, failures=1) == provider.stats


async def test_provider_failed_refresh_reaches_every_caller_waiting_for_it(
    endpoint: ScriptedEndpoint, make_provider: ProviderFactory
) -> None:
    endpoint.answer(400, {"error": "invalid_client"})
    provider = make_provider()

    outcomes = await asyncio.gather(
        *(provider.get_token() for _ in range(50)), return_exceptions=True
    )

    assert 1 == endpoint.count
    assert {InvalidClientError} == {type(outcome) for outcome in outcomes}


async def test_provider_unavailable_error_does_not_chain_the_aiohttp_error(
    endpoint: ScriptedEndpoint, make_provider: ProviderFactory
) -> None:
    leak = "Cannot connect to host login.example.test:443 [details]"
    endpoint.answers.append(aiohttp.ClientConnectionError(leak))
    provider = make_provider(retry=RetryPolicy.disabled())

    with pytest.raises(TokenEndpointUnavailableError) as caught:
        await provider.get_token()

    assert "no answer (ClientConnectionError)" in str(caught.value)
    assert caught.value.__cause__ is None
    assert caught.value.__suppress_context__ is True
    assert caught.value.status is None


async def test_provider_timeout_is_retried_and_reported(
    endpoint: ScriptedEndpoint, make_provider: ProviderFactory
) -> None:
    endpoint.answers.extend([TimeoutError(), TimeoutError()])
    provider = make_provider(
        retry=RetryPolicy(max_attempts=2).without_waits(), request_timeout=7
    )

    with pytest.raises(TokenEndpointUnavailableError, match="no answer within 7 s"):
        await provider.get_token()

    assert 2 == endpoint.count


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        ("invalid_client", InvalidClientError),
        ("unauthorized_client", UnauthorizedClientError),
        ("invalid_scope", InvalidScopeError),
        ("invalid_request", TokenEndpointError),
        ("invalid_grant", TokenEndpointError),
    ],
)
async def test_provider_oauth_errors_raise_typed_errors_and_are_not_retried(
    endpoint: ScriptedEndpoint,
    make_provider: ProviderFactory,
    code: str,
    expected: type[TokenEndpointError],
) -> None:
    endpoint.error(
        400,
        code,
        error_description="AADSTS7000215: Invalid client secret provided.",
        error_codes=[7000215],
        trace_id="trace-1",
        correlation_id="corr-1",
    )
    provider = make_provider()

    with pytest.raises(TokenEndpointError) as caught:
        await provider.get_token()

    error = caught.value
    assert expected is type(error)
    assert isinstance(error, AuthenticationError)
    assert (code, 400, (7000215,), "trace-1", "corr-1") == (
        error.error,
        error.status,
        error.error_codes,
        error.trace_id,
        error.correlation_id,
    )
    assert error.error_description is not None
    assert error.error_description.startswith("AADSTS7000215")
    assert 1 == endpoint.count
    assert TokenStats(token_requests=1, refreshes=0, failures=1) == provider.stats


async def test_provider_invalid_scope_hints_at_dot_default(
    endpoint: ScriptedEndpoint, make_provider: ProviderFactory, clock: FakeClock
) -> None:
    endpoint.error(400, "invalid_scope")
    provider = ClientCredentialsTokenProvider(
        TOKEN_URL, CLIENT_ID, SECRET, "api://gosmarter/access_as_user", clock=clock
    )

    with pytest.raises(InvalidScopeError) as caught:
        await provider.get_token()

    assert caught.value.hint is not None
    assert "/.default" in caught.value.hint
    assert "Hint:" in str(caught.value)


async def test_provider_invalid_scope_with_dot_default_has_no_hint(
    endpoint: ScriptedEndpoint, make_provider: ProviderFactory
) -> None:
    endpoint.error(400, "invalid_scope")
    provider = make_provider()

    with pytest.raises(InvalidScopeError) as caught:
        await provider.get_token()

    assert caught.value.hint is None


async def test_provider_html_error_page_gives_a_bounded_excerpt_and_no_retry(
    endpoint: ScriptedEndpoint, make_provider: ProviderFactory
) -> None:
    page = "<html><h1>Bad Request</h1>" + "<p>x</p>" * 2000 + "</html>"
    endpoint.answer(400, body=page)
    provider = make_provider()

    with pytest.raises(TokenResponseError) as caught:
        await provider.get_token()

    assert 400 == caught.value.status
    assert caught.value.body_excerpt.startswith("<html><h1>Bad Request</h1>")
    assert len(caught.value.body_excerpt) <= 203
    assert 1 == endpoint.count


async def test_provider_does_not_follow_a_redirect_with_the_secret(
    endpoint: ScriptedEndpoint, make_provider: ProviderFactory
) -> None:
    endpoint.answer(307, headers={"Location": "http://evil.example/token"})
    provider = make_provider()

    with pytest.raises(TokenResponseError, match="307"):
        await provider.get_token()

    assert 1 == endpoint.count


# --- rate limiting ----------------------------------------------------------------


async def test_provider_429_with_seconds_blocks_requests_until_it_passes(
    endpoint: ScriptedEndpoint, make_provider: ProviderFactory, clock: FakeClock
) -> None:
    endpoint.answer(429, body="Too Many Requests", headers={"Retry-After": "120"})
    endpoint.ok("tok-A")
    provider = make_provider()
    with pytest.raises(TokenRateLimitedError) as first:
        await provider.get_token()
    clock.advance(100)

    with pytest.raises(TokenRateLimitedError) as during:
        await provider.get_token()
    count_during = endpoint.count
    clock.advance(20)
    token = await provider.get_token()

    assert 120 == first.value.retry_after
    assert 20 == pytest.approx(during.value.retry_after)
    assert 1 == count_during
    assert "tok-A" == token.value


async def test_provider_429_with_an_http_date_waits_until_then(
    endpoint: ScriptedEndpoint, make_provider: ProviderFactory
) -> None:
    # The fake clock reads 2026-12-03 12:00:00 UTC.
    endpoint.answer(429, headers={"Retry-After": "Thu, 03 Dec 2026 12:01:30 GMT"})
    provider = make_provider()

    with pytest.raises(TokenRateLimitedError) as caught:
        await provider.get_token()

    assert 90 == caught.value.retry_after


async def test_provider_429_without_retry_after_waits_60_s(
    endpoint: ScriptedEndpoint, make_provider: ProviderFactory, clock: FakeClock
) -> None:
    endpoint.answer(429, body="Slow down, please.")
    endpoint.ok("tok-A")
    provider = make_provider()
    with pytest.raises(TokenRateLimitedError) as caught:
        await provider.get_token()

    clock.advance(59)
    with pytest.raises(TokenRateLimitedError):
        await provider.get_token()
    clock.advance(1)
    await provider.get_token()

    assert 60 == caught.value.retry_after
    assert 2 == endpoint.count


async def test_provider_429_reaches_every_waiter_as_the_same_error(
    endpoint: ScriptedEndpoint, make_provider: ProviderFactory
) -> None:
    endpoint.answer(429, headers={"Retry-After": "30"})
    provider = make_provider()

    results = await asyncio.gather(
        *(provider.get_token() for _ in range(20)), return_exceptions=True
    )

    assert 1 == endpoint.count
    assert 1 == len({id(r) for r in results})
    assert isinstance(results[0], TokenRateLimitedError)


async def test_provider_429_in_the_soft_window_keeps_serving_the_valid_token(
    endpoint: ScriptedEndpoint, make_provider: ProviderFactory, clock: FakeClock
) -> None:
    endpoint.ok("tok-A")
    endpoint.answer(429, headers={"Retry-After": "600"})
    provider = make_provider()
    await provider.get_token()
    clock.advance(3600 - 290)

    served = await provider.get_token()  # starts the background refresh
    await settle(lambda: provider.stats.failures == 1)
    clock.advance(200)  # 90 s left: still outside the hard margin
    still = await provider.get_token()
    clock.advance(40)  # 50 s left: inside the hard margin, cool-down still on
    with pytest.raises(TokenRateLimitedError):
        await provider.get_token()

    assert "tok-A" == served.value == still.value
    assert 2 == endpoint.count


# --- refresh ahead and the hard margin --------------------------------------------


async def test_provider_soft_window_refreshes_once_in_the_background(
    endpoint: ScriptedEndpoint, make_provider: ProviderFactory, clock: FakeClock
) -> None:
    endpoint.ok("tok-A")
    endpoint.ok("tok-B")
    provider = make_provider()
    await provider.get_token()
    endpoint.hold = asyncio.Event()
    clock.advance(3600 - 250)

    served = [await provider.get_token() for _ in range(10)]
    await settle(lambda: endpoint.count == 2)
    more = [await provider.get_token() for _ in range(10)]
    endpoint.hold.set()
    await settle(lambda: provider.stats.refreshes == 2)
    after = await provider.get_token()

    assert {"tok-A"} == {t.value for t in served + more}
    assert "tok-B" == after.value
    assert 2 == endpoint.count


async def test_provider_outside_the_jittered_soft_window_does_not_refresh(
    endpoint: ScriptedEndpoint, make_provider: ProviderFactory, clock: FakeClock
) -> None:
    endpoint.ok("tok-A")
    provider = make_provider()
    await provider.get_token()
    # 300 s soft window, jittered at most 10% earlier: 330 s.
    clock.advance(3600 - 331)

    await provider.get_token()
    await settle(lambda: True)

    assert 1 == endpoint.count


async def test_provider_long_lived_token_refreshes_from_half_its_lifetime(
    endpoint: ScriptedEndpoint, make_provider: ProviderFactory, clock: FakeClock
) -> None:
    endpoint.ok("tok-A", expires_in=4 * 3600)
    endpoint.ok("tok-B", expires_in=4 * 3600)
    provider = make_provider()
    await provider.get_token()

    clock.advance(4 * 3600 - 7921)  # before 2 h (+10% jitter) remain
    await provider.get_token()
    await settle(lambda: True)
    count_before = endpoint.count
    clock.advance(7921 - 7199)  # inside half the lifetime
    await provider.get_token()
    await settle(lambda: provider.stats.refreshes == 2)

    assert 1 == count_before
    assert 2 == endpoint.count


async def test_provider_soft_failure_keeps_serving_warns_and_waits_30_s(
    endpoint: ScriptedEndpoint,
    make_provider: ProviderFactory,
    clock: FakeClock,
    caplog: pytest.LogCaptureFixture,
) -> None:
    endpoint.ok("tok-A")
    endpoint.answer(503)
    endpoint.ok("tok-B")
    provider = make_provider(retry=RetryPolicy.disabled())
    await provider.get_token()
    clock.advance(3600 - 250)

    served = await provider.get_token()
    await settle(lambda: provider.stats.failures == 1)
    clock.advance(29)
    within = [await provider.get_token() for _ in range(20)]
    await settle(lambda: True)
    count_within = endpoint.count
    clock.advance(1)
    await provider.get_token()
    await settle(lambda: provider.stats.refreshes == 2)

    assert {"tok-A"} == {t.value for t in [served, *within]}
    assert 2 == count_within
    assert 3 == endpoint.count
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert 1 == len(warnings)
    assert "background token refresh failed" in warnings[0].getMessage()
    assert "503" in warnings[0].getMessage()


async def test_provider_hard_margin_never_serves_the_old_token(
    endpoint: ScriptedEndpoint, make_provider: ProviderFactory, clock: FakeClock
) -> None:
    endpoint.ok("tok-A")
    endpoint.ok("tok-B")
    provider = make_provider()
    await provider.get_token()
    clock.advance(3600 - 59)

    token = await provider.get_token()

    assert "tok-B" == token.value
    assert 2 == endpoint.count


async def test_provider_hard_margin_raises_rather_than_serving_the_old_token(
    endpoint: ScriptedEndpoint, make_provider: ProviderFactory, clock: FakeClock
) -> None:
    endpoint.ok("tok-A")
    endpoint.error(401, "invalid_client")
    provider = make_provider()
    await provider.get_token()
    clock.advance(3600 - 60)

    with pytest.raises(InvalidClientError):
        await provider.get_token()


async def test_provider_wall_clock_jump_counts_towards_expiry(
    endpoint: ScriptedEndpoint, make_provider: ProviderFactory, clock: FakeClock
) -> None:
    endpoint.ok("tok-A")
    endpoint.ok("tok-B")
    provider = make_provider()
    await provider.get_token()

    clock._wall += timedelta(minutes=59, seconds=30)  # resumed from suspend
    token = await provider.get_token()

    assert "tok-B" == token.value


async def test_provider_issuer_returning_the_same_token_is_not_called_every_time(
    endpoint: ScriptedEndpoint, make_provider: ProviderFactory, clock: FakeClock
) -> None:
    endpoint.ok("tok-A")
    endpoint.ok("tok-A", expires_in=250)
    endpoint.ok("tok-A", expires_in=220)
    provider = make_provider()
    await provider.get_token()
    clock.advance(3600 - 250)

    for _ in range(100):
        assert "tok-A" == (await provider.get_token()).value
        await asyncio.sleep(0)
    count_after_burst = endpoint.count
    clock.advance(30)
    await provider.get_token()
    await settle(lambda: endpoint.count == 3)
    await settle(lambda: provider.stats.refreshes == 3)

    assert 2 == count_after_burst
    assert 3 == endpoint.count


# --- invalidation -----------------------------------------------------------------


async def test_provider_invalidate_by_50_concurrent_401s_causes_one_refresh(
    endpoint: ScriptedEndpoint, make_provider: ProviderFactory
) -> None:
    endpoint.ok("tok-A")
    endpoint.ok("tok-B")
    provider = make_provider()
    rejected = await provider.get_token()

    async def on_401() -> str:
        await provider.invalidate(rejected)
        return (await provider.get_token()).value

    values = await asyncio.gather(*(on_401() for _ in range(50)))

    assert {"tok-B"} == set(values)
    assert 2 == endpoint.count
    assert 2 == provider.stats.refreshes


async def test_provider_invalidate_of_a_stale_token_keeps_the_current_one(
    endpoint: ScriptedEndpoint, make_provider: ProviderFactory
) -> None:
    endpoint.ok("tok-A")
    endpoint.ok("tok-B")
    provider = make_provider()
    old = await provider.get_token()
    await provider.invalidate(old)
    current = await provider.get_token()

    await provider.invalidate(old)

    assert current is await provider.get_token()
    assert 2 == endpoint.count


# --- cancellation and closing -----------------------------------------------------


async def test_provider_cancelled_waiter_leaves_the_shared_refresh_running(
    endpoint: ScriptedEndpoint, make_provider: ProviderFactory
) -> None:
    endpoint.ok("tok-A")
    endpoint.hold = asyncio.Event()
    provider = make_provider()
    first = asyncio.create_task(provider.get_token())
    await settle(lambda: endpoint.count == 1)

    first.cancel()
    await asyncio.wait({first})
    second = asyncio.create_task(provider.get_token())
    await settle(lambda: True)
    endpoint.hold.set()
    token = await second

    assert first.cancelled()
    assert "tok-A" == token.value
    assert 1 == endpoint.count


async def test_provider_aclose_cancels_the_background_refresh(
    endpoint: ScriptedEndpoint, make_provider: ProviderFactory, clock: FakeClock
) -> None:
    endpoint.ok("tok-A")
    endpoint.ok("tok-B")
    provider = make_provider()
    await provider.get_token()
    endpoint.hold = asyncio.Event()
    clock.advance(3600 - 250)
    await provider.get_token()
    await settle(lambda: endpoint.count == 2)
    refresh = provider._state.refresh if provider._state else None

    await provider.aclose()

    assert refresh is not None
    assert refresh.cancelled()
    with pytest.raises(ClientClosedError):
        await provider.get_token()


async def test_provider_waiter_gets_client_closed_when_closed_mid_refresh(
    endpoint: ScriptedEndpoint, make_provider: ProviderFactory
) -> None:
    endpoint.hold = asyncio.Event()
    provider = make_provider()
    waiter = asyncio.create_task(provider.get_token())
    await settle(lambda: endpoint.count == 1)

    await provider.aclose()

    with pytest.raises(ClientClosedError):
        await waiter


async def test_provider_async_with_closes_it(
    endpoint: ScriptedEndpoint, clock: FakeClock
) -> None:
    endpoint.ok("tok-A")

    async with ClientCredentialsTokenProvider(
        TOKEN_URL, CLIENT_ID, SECRET, SCOPE, clock=clock
    ) as provider:
        await provider.get_token()

    with pytest.raises(ClientClosedError):
        await provider.get_token()


async def test_provider_uses_an_injected_session_and_leaves_it_open(
    endpoint: ScriptedEndpoint, make_provider: ProviderFactory
) -> None:
    endpoint.ok("tok-A")
    async with aiohttp.ClientSession() as session:
        provider = make_provider(session=session)

        await provider.get_token()
        await provider.aclose()

        assert not session.closed
    assert 1 == endpoint.count


# --- construction -----------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    ["http://login.example.test/token", "ftp://login.example.test/token", "token"],
)
def test_provider_refuses_a_token_url_that_is_not_https(url: str) -> None:
    with pytest.raises(ConfigurationError, match="token_url"):
        ClientCredentialsTokenProvider(url, CLIENT_ID, SECRET, SCOPE)


@pytest.mark.parametrize(
    "url",
    ["http://127.0.0.1:8080/token", "http://localhost/token", "http://[::1]:9/t"],
)
def test_provider_accepts_plain_http_for_loopback_hosts(url: str) -> None:
    provider = ClientCredentialsTokenProvider(url, CLIENT_ID, SECRET, SCOPE)

    assert url == provider.token_url


def test_provider_refuses_an_empty_secret() -> None:
    with pytest.raises(ConfigurationError, match="client_secret is empty"):
        ClientCredentialsTokenProvider(TOKEN_URL, CLIENT_ID, " ", SCOPE)


def test_provider_construction_needs_no_running_loop() -> None:
    provider = ClientCredentialsTokenProvider(TOKEN_URL, CLIENT_ID, SECRET, SCOPE)

    assert provider._state is None
    assert SECRET not in repr(provider)


def test_provider_from_settings_takes_url_client_and_scope() -> None:
    settings = Settings(
        client_id=CLIENT_ID, client_secret=SECRET, token_url=TOKEN_URL, scope=SCOPE
    )

    provider = ClientCredentialsTokenProvider.from_settings(settings, hard_margin=30)

    assert (TOKEN_URL, CLIENT_ID, SECRET, SCOPE, 30) == (
        provider.token_url,
        provider.client_id,
        provider.client_secret,
        provider.scope,
        provider.hard_margin,
    )


async def test_provider_short_lived_token_scales_the_margins_to_its_lifetime(
    endpoint: ScriptedEndpoint, make_provider: ProviderFactory, clock: FakeClock
) -> None:
    # 120 s lifetime: hard margin 30 s (a quarter), soft window 60 s (a half).
    endpoint.ok("tok-A", expires_in=120)
    endpoint.ok("tok-B", expires_in=120)
    endpoint.ok("tok-C", expires_in=120)
    provider = make_provider()
    await provider.get_token()
    endpoint.hold = asyncio.Event()

    clock.advance(85)  # 35 s left: served, refreshed in the background
    served = await provider.get_token()
    endpoint.hold.set()
    await settle(lambda: provider.stats.refreshes == 2)

    assert "tok-A" == served.value
    assert "tok-B" == (await provider.get_token()).value


async def test_provider_same_token_handed_back_inside_the_hard_margin_is_refused(
    endpoint: ScriptedEndpoint, make_provider: ProviderFactory, clock: FakeClock
) -> None:
    endpoint.ok("tok-A")
    endpoint.ok("tok-A", expires_in=59)
    endpoint.ok("tok-B")
    provider = make_provider()
    await provider.get_token()
    clock.advance(3600 - 59)

    with pytest.raises(TokenResponseError, match="expires in 59 s"):
        await provider.get_token()
    token = await provider.get_token()

    assert "tok-B" == token.value


async def test_provider_uses_a_pluggable_cache_by_key(
    endpoint: ScriptedEndpoint, make_provider: ProviderFactory
) -> None:
    calls: list[tuple[str, CacheKey, str | None]] = []

    class RecordingCache:
        def __init__(self) -> None:
            self.token: AccessToken | None = None

        async def get(self, key: CacheKey) -> AccessToken | None:
            calls.append(("get", key, None))
            return self.token

        async def set(self, key: CacheKey, token: AccessToken) -> None:
            calls.append(("set", key, token.value))
            self.token = token

        async def delete(self, key: CacheKey, token: AccessToken) -> None:
            calls.append(("delete", key, token.value))
            self.token = None

    endpoint.ok("tok-A")
    cache = RecordingCache()
    provider = make_provider(cache=cache)

    token = await provider.get_token()
    await provider.invalidate(token)

    key = CacheKey(TOKEN_URL, CLIENT_ID, SCOPE)
    assert [
        ("get", key, None),
        ("get", key, None),
        ("set", key, "tok-A"),
        ("delete", key, "tok-A"),
    ] == calls


def test_auth_package_exports_its_public_names() -> None:
    assert [
        "AccessToken",
        "BearerToken",
        "CacheKey",
        "ClientCredentialsTokenProvider",
        "InMemoryTokenCache",
        "TokenCache",
        "TokenProvider",
        "TokenStats",
    ] == auth.__all__
