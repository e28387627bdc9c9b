"""No secret, token or `Bearer <token>` anywhere a user or a log could see it.

One test drives every path (issue 6, item 3) against a scripted server that plays
both the token endpoint and the gateway, and that echoes the secret and the tokens
back in its bodies as a careless server would; every logger (aiohttp's and
asyncio's included) is at DEBUG. It then searches the log records, the repr of
every public object, and every exception's message and formatted traceback.
"""

from __future__ import annotations

import asyncio
import enum
import inspect
import logging
import re
import traceback
from collections.abc import Iterable
from pathlib import Path
from typing import Any, Protocol

import pytest
from aiohttp import web
from click.testing import CliRunner

import gosmarter_async
from gosmarter_async import (
    ClientCredentialsTokenProvider,
    GoSmarterClient,
    RetryPolicy,
    Settings,
    SystemClock,
)
from gosmarter_async.cli import cli
from tests.helpers_server import ScriptedServer, answer, hang

SECRET = "sEcReT-7f3a91c2-never-log-me"
# Opaque and JWT-shaped: the redaction must not rely on the shape alone.
TOKENS = (
    "opaque-access-token-one-4d2c8e",
    "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJoeWdpZW5lIn0.c2lnbmF0dXJlLXR3bw",
    "opaque-access-token-three-9e1b7a",
)
TOKEN_PATH = "/tenant/oauth2/v2.0/token"
COMPANY = "0b1e5e3c-7a51-4d8e-9a0c-3f2b1d4e5a6f"
GATEWAY_PATH = f"/api/company/{COMPANY}/entitlements"
JWT = re.compile(r"eyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+")
NO_RETRY = RetryPolicy.disabled()

# Every logger that could see a request: ours, aiohttp's and asyncio's.
LOGGERS = (
    "",
    "gosmarter_async",
    "aiohttp",
    "aiohttp.client",
    "aiohttp.internal",
    "aiohttp.server",
    "aiohttp.web",
    "aiohttp.access",
    "asyncio",
)


def _token_ok(value: str) -> web.StreamResponse:
    return web.json_response(
        {"access_token": value, "token_type": "Bearer", "expires_in": 3600}
    )


def _oauth_error(status: int, error: str) -> Any:
    return answer(
        status,
        json_body={
            "error": error,
            "error_description": f"AADSTS7000215: you sent client_secret={SECRET}",
            "trace_id": "t-1",
        },
    )


def _settings(server: ScriptedServer) -> Settings:
    return Settings(
        client_id="client-1",
        client_secret=SECRET,
        token_url=server.url + TOKEN_PATH,
        scope="api://x/.default",
        gateway_url=server.url,
    )


class Evidence:
    """Everything the SDK said: exceptions and the objects whose repr we check."""

    def __init__(self) -> None:
        self.errors: list[BaseException] = []
        self.objects: list[object] = []

    async def expect(self, kind: type[BaseException], call: Any) -> None:
        with pytest.raises(kind) as caught:
            await call
        self.errors.append(caught.value)

    def texts(self) -> Iterable[str]:
        for exc in self.errors:
            yield str(exc)
            yield repr(exc)
            yield "".join(traceback.format_exception(exc))
            yield from (repr(v) for v in vars(exc).values())
        for obj in self.objects:
            yield repr(obj)
            yield str(obj)


async def _gateway_paths(server: ScriptedServer, evidence: Evidence) -> None:
    """Success, the 401 replay, 429, 5xx, a timeout and a cancellation."""
    server.script(
        "POST", TOKEN_PATH, *(answer_token(t) for t in TOKENS[:2])
    )  # fmt: skip
    echo = f"rejected Authorization: Bearer {TOKENS[0]} for {TOKENS[0]}"
    server.script(
        "GET",
        GATEWAY_PATH,
        answer(401, body=echo, headers={"WWW-Authenticate": "Bearer"}),
        answer(200, json_body=[]),
        answer(
            429, json_body={"detail": f"slow {TOKENS[1]}"}, headers={"Retry-After": "0"}
        ),
        answer(500, json_body={"title": "boom", "detail": f"Bearer {TOKENS[1]}"}),
        hang(),
    )
    client = GoSmarterClient(_settings(server), retry=NO_RETRY)
    async with client:
        evidence.objects += [client, client.stats, client.transport]
        assert [] == await client.entitlements.list_company_entitlements(COMPANY)
        await evidence.expect(
            gosmarter_async.RateLimitError,
            client.entitlements.list_company_entitlements(COMPANY),
        )
        await evidence.expect(
            gosmarter_async.ServerError,
            client.entitlements.list_company_entitlements(COMPANY),
        )
        evidence.objects.append(evidence.errors[-1].problem)  # type: ignore[attr-defined]
        await evidence.expect(
            gosmarter_async.TransportTimeoutError,
            client.entitlements.list_company_entitlements(COMPANY, timeout=0.2),
        )
        call = asyncio.ensure_future(
            client.entitlements.list_company_entitlements(COMPANY)
        )
        await server.wait_for_requests(len(server.seen) + 1)
        call.cancel()
        await evidence.expect(asyncio.CancelledError, call)
        evidence.objects.append(client.stats)


def answer_token(value: str) -> Any:
    async def handler(request: web.Request) -> web.StreamResponse:
        return _token_ok(value)

    return handler


async def _token_paths(server: ScriptedServer, evidence: Evidence) -> None:
    """Each token error: OAuth errors, 429, outage and a malformed answer."""
    # Form-encoded, as some OAuth servers answer: not JSON, but it holds a token.
    garbage = answer(200, body=f"access_token={TOKENS[2]}&client_secret={SECRET}")
    missing = answer(200, json_body={"token_type": "Bearer", "secret": SECRET})
    g = gosmarter_async
    cases: list[tuple[Any, type[BaseException]]] = [
        (_oauth_error(401, "invalid_client"), g.InvalidClientError),
        (_oauth_error(400, "unauthorized_client"), g.UnauthorizedClientError),
        (_oauth_error(400, "invalid_scope"), g.InvalidScopeError),
        (answer(429, body=SECRET, headers={"Retry-After": "5"}),
         g.TokenRateLimitedError),
        (answer(503, body=f"down {SECRET}"), g.TokenEndpointUnavailableError),
        (garbage, g.TokenResponseError),
        (missing, g.TokenResponseError),
    ]  # fmt: skip
    for handler, kind in cases:
        server.script("POST", TOKEN_PATH, handler)
        provider = ClientCredentialsTokenProvider.from_settings(
            _settings(server), retry=RetryPolicy(max_attempts=2).without_waits()
        )
        async with provider:
            await evidence.expect(kind, provider.get_token())
            evidence.objects.append(provider)


async def _public_objects(
    server: ScriptedServer, evidence: Evidence, tmp_path: Path
) -> None:
    """One instance of every public class the paths above did not make."""
    server.script("POST", TOKEN_PATH, answer_token(TOKENS[2]))
    download = f"/api/company/{COMPANY}/mill-certifications/{COMPANY}/download"
    server.script("GET", download, answer(200, body=b"a,b\n", content_type="text/csv"))
    settings = _settings(server)
    provider = ClientCredentialsTokenProvider.from_settings(settings)
    async with provider, GoSmarterClient(settings, token_provider=provider) as client:
        token = await provider.get_token()
        stream = client.mill_certifications.download_mill_certification(
            COMPANY, COMPANY
        )
        saved = await stream.save(tmp_path / "cert.csv")
        evidence.objects += [settings, provider, provider.cache, token, stream, saved]
    evidence.objects += [RetryPolicy(), SystemClock(), provider.stats]


def _cli_paths(server: ScriptedServer, evidence: list[str]) -> None:
    """`gosmarter --verbose request` failing on the token and on the gateway."""
    env = {
        "GOSMARTER_CLIENT_ID": "client-1",
        "GOSMARTER_CLIENT_SECRET": SECRET,
        "GOSMARTER_TOKEN_URL": server.url + TOKEN_PATH,
        "GOSMARTER_API_SCOPE": "api://x/.default",
        "GOSMARTER_GATEWAY_URL": server.url,
    }
    for _ in range(2):
        result = CliRunner().invoke(
            cli, ["--verbose", "request", "GET", GATEWAY_PATH], env=env
        )
        assert 0 != result.exit_code
        evidence.append(result.output)
        if result.exception is not None:
            evidence.append("".join(traceback.format_exception(result.exception)))


def _public_classes() -> set[str]:
    names = set()
    for name in gosmarter_async.__all__:
        obj = getattr(gosmarter_async, name)
        if not inspect.isclass(obj) or issubclass(obj, BaseException | enum.Enum):
            continue
        if Protocol in getattr(obj, "__mro__", ()) or getattr(
            obj, "_is_protocol", False
        ):
            continue
        names.add(name)
    return names


def _leaks(text: str) -> list[str]:
    found = [what for what in (SECRET, *TOKENS) if what in text]
    found += [f"Bearer {t}" for t in TOKENS if f"Bearer {t}" in text]
    found += JWT.findall(text)
    return found


async def test_secret_hygiene_every_path_leaks_nothing(
    caplog: pytest.LogCaptureFixture, tmp_path: Path
) -> None:
    for name in LOGGERS:
        caplog.set_level(logging.DEBUG, logger=name)
    evidence = Evidence()
    cli_output: list[str] = []

    async with ScriptedServer() as server:
        await _gateway_paths(server, evidence)
        await _token_paths(server, evidence)
        await _public_objects(server, evidence, tmp_path)
        # The CLI's first run gets invalid_client; its second a token, then a 500
        # echoing it.
        server.script(
            "POST",
            TOKEN_PATH,
            _oauth_error(401, "invalid_client"),
            answer_token(TOKENS[0]),
        )
        server.script(
            "GET",
            GATEWAY_PATH,
            answer(500, json_body={"detail": f"Bearer {TOKENS[0]}"}),
        )
        await asyncio.to_thread(_cli_paths, server, cli_output)
        seen = server.seen

    assert "invalid_client" in cli_output[0]
    assert "500" in "".join(cli_output[1:])
    checked = {type(o).__name__ for o in evidence.objects}
    assert set() == _public_classes() - checked
    records = [caplog.handler.format(r) for r in caplog.records]
    everything = [*records, *evidence.texts(), *cli_output]
    assert [] == [(text[:200], _leaks(text)) for text in everything if _leaks(text)]
    # The secret went to the token endpoint only, and in the body only.
    for request in seen:
        carried = SECRET in request.body.decode(errors="replace")
        assert (request.path == TOKEN_PATH) or not carried
        assert SECRET not in str(request.headers) + str(request.query)
        auth = request.headers.get("Authorization", "")
        assert request.path != TOKEN_PATH or not auth.startswith("Bearer")


@pytest.mark.parametrize(
    "text",
    [f"Authorization: Bearer {TOKENS[0]}", f"x {SECRET} y", f"token {TOKENS[1]}"],
)
def test_leak_detector_finds_each_kind_of_secret(text: str) -> None:
    assert _leaks(text)
