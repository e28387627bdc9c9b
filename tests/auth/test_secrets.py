"""No secret, token or Authorization value in logs, reprs, messages or tracebacks."""

from __future__ import annotations

import asyncio
import traceback

import pytest

from gosmarter_async._errors import (
    AuthenticationError,
    InvalidClientError,
    TokenEndpointUnavailableError,
    TokenRateLimitedError,
    TokenResponseError,
)
from gosmarter_async._retry import RetryPolicy
from tests.auth.conftest import SECRET, ProviderFactory, ScriptedEndpoint, settle
from tests.clock import FakeClock

TOKEN = "opaque-TOKEN-value-9d8c7b6a5f"


def _everything_said(exc: BaseException) -> str:
    return "\n".join(
        [str(exc), repr(exc), "".join(traceback.format_exception(exc))]
        + [repr(v) for v in vars(exc).values()]
    )


async def test_provider_debug_logs_across_all_paths_hold_no_secret_or_token(
    endpoint: ScriptedEndpoint,
    make_provider: ProviderFactory,
    clock: FakeClock,
    caplog: pytest.LogCaptureFixture,
) -> None:
    # invalid_client whose description echoes the secret, as a careless server might
    endpoint.error(
        401,
        "invalid_client",
        error_description=f"AADSTS7000215: bad secret {SECRET}",
        trace_id="t-1",
    )
    endpoint.answer(429, body=f"slow down {SECRET}", headers={"Retry-After": "5"})
    endpoint.answer(500, body=f"stack trace: client_secret={SECRET}")
    endpoint.answer(503, body=f"<html>{TOKEN}</html>")
    endpoint.ok(TOKEN)
    endpoint.answer(400, body=f"<html>echo {SECRET} {TOKEN}</html>")
    endpoint.answer(502)
    endpoint.answer(502)
    provider = make_provider(retry=RetryPolicy(max_attempts=2).without_waits())
    errors: list[BaseException] = []

    for expected in (
        InvalidClientError,
        TokenRateLimitedError,
        TokenEndpointUnavailableError,
    ):
        with pytest.raises(expected) as caught:
            await provider.get_token()
        errors.append(caught.value)
        clock.advance(10)  # past the 429 cool-down
    token = await provider.get_token()  # succeeds on the second attempt
    with pytest.raises(TokenResponseError) as html:
        await provider.get_token(force_refresh=True)
    errors.append(html.value)
    clock.advance(3600 - 200)  # the soft window: a background refresh fails
    await provider.get_token()
    await settle(lambda: "background token refresh failed" in caplog.text)
    await provider.invalidate(token)

    said = "\n".join(
        [caplog.text, repr(provider), repr(token), str(token)]
        + [r.getMessage() for r in caplog.records]
        + [repr(r.args) for r in caplog.records]
        + [_everything_said(e) for e in errors]
    )
    assert TOKEN == token.value
    assert "background token refresh failed" in caplog.text
    assert "POST https://login.example.test" in caplog.text
    assert SECRET not in said
    assert TOKEN not in said
    assert f"Bearer {TOKEN}" not in said


async def test_provider_error_description_is_redacted_not_dropped(
    endpoint: ScriptedEndpoint, make_provider: ProviderFactory
) -> None:
    endpoint.error(400, "invalid_client", error_description=f"echo {SECRET} end")
    provider = make_provider()

    with pytest.raises(InvalidClientError) as caught:
        await provider.get_token()

    assert "echo [redacted] end" == caught.value.error_description


async def test_provider_errors_raised_to_many_waiters_hold_no_secret(
    endpoint: ScriptedEndpoint, make_provider: ProviderFactory
) -> None:
    endpoint.answer(400, body=f"client_secret={SECRET}")
    provider = make_provider()

    results = await asyncio.gather(
        *(provider.get_token() for _ in range(10)), return_exceptions=True
    )

    assert all(isinstance(r, AuthenticationError) for r in results)
    assert all(SECRET not in _everything_said(r) for r in results)  # type: ignore[arg-type]
