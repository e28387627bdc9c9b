"""Fixtures for the token provider tests: a mocked token endpoint and a factory."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

import pytest
from aiohttp import ClientResponse
from aioresponses import CallbackResult, aioresponses
from aioresponses import core as aioresponses_core
from attrs import define, field
from yarl import URL

from gosmarter_async._retry import RetryPolicy
from gosmarter_async.auth import ClientCredentialsTokenProvider
from tests.clock import FakeClock

TOKEN_URL = "https://login.example.test/tenant/oauth2/v2.0/token"
CLIENT_ID = "client-1234"
# Distinctive, so that a leak shows up in any text searched for it.
SECRET = "s3cr3t-VALUE-do-not-log~42"
SCOPE = "api://gosmarter/.default"


class _FinishedWriter:
    """Stands in for the request's stream writer, long finished."""

    output_size = 0


class _CompatResponse(ClientResponse):
    """aioresponses 0.7.9 omits `stream_writer`, which aiohttp 3.14 requires.

    TODO(aioresponses): drop this once aioresponses releases the fix of
    pnuckowski/aioresponses#289; it belongs in tests/conftest.py for every suite.
    """

    def __init__(self, method: str, url: URL, **kwargs: Any) -> None:
        kwargs.setdefault("stream_writer", _FinishedWriter())
        super().__init__(method, url, **kwargs)


@pytest.fixture
def mock_http(monkeypatch: pytest.MonkeyPatch) -> Iterator[aioresponses]:
    """aioresponses, working with aiohttp 3.14; real 127.0.0.1 requests pass."""
    monkeypatch.setattr(aioresponses_core, "ClientResponse", _CompatResponse)
    with aioresponses(passthrough=["http://127.0.0.1"]) as mocked:
        yield mocked


def sent_forms(mocked: aioresponses, url: str = TOKEN_URL) -> list[dict[str, str]]:
    """The form bodies of the requests sent to `url`, in order."""
    calls = mocked.requests.get(("POST", URL(url)), [])
    return [dict(call.kwargs["data"]) for call in calls]


def token_body(
    value: str, expires_in: object = 3600, **extra: object
) -> dict[str, Any]:
    """A token endpoint's success answer."""
    body: dict[str, Any] = {"access_token": value, "token_type": "Bearer"}
    if expires_in is not None:
        body["expires_in"] = expires_in
    body.update(extra)
    return body


ProviderFactory = Callable[..., ClientCredentialsTokenProvider]


@pytest.fixture
async def make_provider(
    clock: FakeClock,
) -> AsyncIterator[ProviderFactory]:
    """Build providers on the fake clock, retries without waits; closed after."""
    made: list[ClientCredentialsTokenProvider] = []

    def make(**kwargs: Any) -> ClientCredentialsTokenProvider:
        kwargs.setdefault("clock", clock)
        kwargs.setdefault("retry", RetryPolicy(max_attempts=3).without_waits())
        provider = ClientCredentialsTokenProvider(
            kwargs.pop("token_url", TOKEN_URL), CLIENT_ID, SECRET, SCOPE, **kwargs
        )
        made.append(provider)
        return provider

    yield make
    for provider in made:
        await provider.aclose()


async def settle(condition: Callable[[], bool], rounds: int = 200) -> None:
    """Let the loop run until `condition` holds (bounded; fails if it never does)."""
    for _ in range(rounds):
        if condition():
            return
        await asyncio.sleep(0)
    raise AssertionError("condition not reached")


@define
class ScriptedEndpoint:
    """The mocked token endpoint: answers from a script and records what it got.

    Each answer is a `CallbackResult`, or an exception to raise as the network would.
    While `hold` is set to an unset event, requests wait for it: a refresh in flight.
    """

    answers: list[CallbackResult | BaseException] = field(factory=list)
    hold: asyncio.Event | None = None
    forms: list[dict[str, str]] = field(factory=list)
    calls: list[dict[str, Any]] = field(factory=list)

    @property
    def count(self) -> int:
        """Requests received."""
        return len(self.forms)

    def ok(self, value: str, expires_in: object = 3600, **extra: object) -> None:
        """Queue a success answer."""
        self.answers.append(
            CallbackResult(payload=token_body(value, expires_in, **extra))
        )

    def answer(
        self,
        status: int,
        payload: dict[str, Any] | None = None,
        body: str = "",
        headers: dict[str, str] | None = None,
    ) -> None:
        """Queue any other answer."""
        content_type = "application/json" if payload is not None else "text/plain"
        self.answers.append(
            CallbackResult(
                status=status,
                payload=payload,
                body=body,
                headers=headers,
                content_type=content_type,
            )
        )

    def error(self, status: int, code: str, **fields: object) -> None:
        """Queue an OAuth error answer (RFC 6749 §5.2)."""
        self.answer(status, {"error": code, **fields})

    async def respond(self, url: URL, **kwargs: Any) -> CallbackResult:
        """The aioresponses callback."""
        self.forms.append(dict(kwargs["data"]))
        self.calls.append({"url": url, **kwargs})
        if self.hold is not None:
            await self.hold.wait()
        if not self.answers:
            raise AssertionError("unexpected token request")
        answer = self.answers.pop(0)
        if isinstance(answer, BaseException):
            raise answer
        return answer


@pytest.fixture
def endpoint(mock_http: aioresponses) -> ScriptedEndpoint:
    """A scripted token endpoint at TOKEN_URL."""
    scripted = ScriptedEndpoint()
    mock_http.post(TOKEN_URL, callback=scripted.respond, repeat=True)
    return scripted
