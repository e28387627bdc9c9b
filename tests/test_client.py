"""GoSmarterClient: construction, wiring, the escape hatch, closing."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from uuid import UUID

import pytest

from gosmarter_async._client import ClientStats, GoSmarterClient
from gosmarter_async._config import Settings
from gosmarter_async._errors import (
    ClientClosedError,
    ConfigurationError,
    ServerError,
)
from gosmarter_async._generated import RESOURCES
from gosmarter_async._retry import RetryPolicy
from gosmarter_async.auth import ClientCredentialsTokenProvider
from tests.clock import FakeClock
from tests.helpers_server import FakeTokenProvider, Handler, ScriptedServer, answer

# The fixtures server and tokens.
pytest_plugins = ["tests.helpers_fixtures"]

COMPANY = UUID("7d1f0b5e-8a4e-4a57-9d0c-3f1f6b7e2a10")


def settings_for(server: ScriptedServer) -> Settings:
    return Settings(
        client_id="client-1",
        client_secret="very-secret-value",
        token_url=f"{server.url}/token",
        scope="api://gosmarter/.default",
        gateway_url=server.url,
    )


def token_answer(value: str) -> Handler:
    return answer(
        json_body={"access_token": value, "token_type": "Bearer", "expires_in": 3600}
    )


@pytest.fixture
async def client(
    server: ScriptedServer, tokens: FakeTokenProvider, clock: FakeClock
) -> AsyncIterator[GoSmarterClient]:
    async with GoSmarterClient(
        token_provider=tokens, base_url=server.url, clock=clock
    ) as c:
        yield c


# -- construction -----------------------------------------------------------------


def test_client_needs_settings_or_a_token_provider() -> None:
    with pytest.raises(ConfigurationError, match="from_env"):
        GoSmarterClient()


def test_client_refuses_plain_http_gateway(tokens: FakeTokenProvider) -> None:
    with pytest.raises(ConfigurationError, match="https"):
        GoSmarterClient(token_provider=tokens, base_url="http://api.gosmarter.ai")


def test_client_builds_without_a_running_loop(tokens: FakeTokenProvider) -> None:
    client = GoSmarterClient(token_provider=tokens)

    assert "GoSmarterClient(base_url='https://api.gosmarter.ai')" == repr(client)
    assert not client.transport.session_opened


def test_client_from_env_reads_the_dotenv_file(tmp_path: Path) -> None:
    env = tmp_path / "gs.env"
    env.write_text(
        "CLIENT_ID=abc\nCLIENT_SECRET=s3cr3t-value\nTENANT_ID=gosmarter\n"
        "API_SCOPE=api://x/.default\nGATEWAY_URL=https://gw.example.com\n"
    )

    client = GoSmarterClient.from_env(env, timeout=5.0)

    assert "https://gw.example.com" == client.transport.base_url
    assert 5.0 == client.transport.timeout
    assert "s3cr3t-value" not in repr(client) + repr(client.transport)


def test_client_wires_every_resource(tokens: FakeTokenProvider) -> None:
    client = GoSmarterClient(token_provider=tokens)

    for name, resource in RESOURCES.items():
        assert isinstance(getattr(client, name), resource)


def test_client_passes_options_to_the_transport(tokens: FakeTokenProvider) -> None:
    policy = RetryPolicy(max_attempts=2)

    client = GoSmarterClient(
        token_provider=tokens,
        retry=policy,
        timeout=12.0,
        max_connections=8,
        max_concurrency=4,
        rate_limit=50.0,
    )

    transport = client.transport
    assert (policy, 12.0, 8, 4, 50.0) == (
        transport.retry,
        transport.timeout,
        transport.max_connections,
        transport.max_concurrency,
        transport.rate_limit,
    )


# -- calls ------------------------------------------------------------------------


async def test_client_resource_call_goes_through_the_transport(
    server: ScriptedServer, client: GoSmarterClient
) -> None:
    path = f"/api/company/{COMPANY}/entitlements/check/mill-certs"
    body = {"featureKey": "mill-certs", "hasAccess": True, "message": "ok"}
    server.script("GET", path, answer(json_body=body))

    access = await client.entitlements.check_feature_access(COMPANY, "mill-certs")

    assert (True, "mill-certs") == (access.has_access, access.feature_key)


async def test_request_escape_hatch_sends_params_and_decodes_json(
    server: ScriptedServer, client: GoSmarterClient
) -> None:
    server.script("GET", "/api/health", answer(json_body={"status": "up"}))

    result = await client.request("get", "/api/health", params={"deep": True, "n": 2})

    assert {"status": "up"} == result
    assert [("deep", "true"), ("n", "2")] == server.seen[0].query
    assert "Bearer secret-token-1" == server.seen[0].headers["Authorization"]


async def test_request_escape_hatch_post_is_not_retried_by_default(
    server: ScriptedServer, client: GoSmarterClient
) -> None:
    server.script("POST", "/api/things", answer(503, body=b""), answer(json_body={}))

    with pytest.raises(ServerError):
        await client.request("POST", "/api/things", json={"a": 1})

    assert 1 == len(server.seen)


async def test_request_escape_hatch_idempotent_post_is_retried(
    server: ScriptedServer, client: GoSmarterClient
) -> None:
    server.script("POST", "/api/things", answer(503, body=b""), answer(json_body={}))

    await client.request("POST", "/api/things", json={"a": 1}, idempotent=True)

    assert 2 == len(server.seen)
    assert b'{"a":1}' == server.seen[1].body


async def test_request_escape_hatch_refuses_absolute_urls(
    server: ScriptedServer, client: GoSmarterClient
) -> None:
    with pytest.raises(ValueError, match="must start with '/'"):
        await client.request("GET", "https://elsewhere.example.com/steal")

    assert [] == server.seen


async def test_client_stats_count_requests_and_retries(
    server: ScriptedServer, client: GoSmarterClient
) -> None:
    server.script("GET", "/a", answer(503, body=b""), answer(json_body=1))

    await client.request("GET", "/a")

    assert (
        ClientStats(
            requests=2,
            retries=1,
            auth_replays=0,
            cool_down_waits=0,
            retry_budget=500,
            token_requests=None,
        )
        == client.stats
    )


# -- with the real token provider ----------------------------------------------------


async def test_client_from_settings_gets_replays_and_closes_its_provider(
    server: ScriptedServer, clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    server.script("POST", "/token", token_answer("tok-A"), token_answer("tok-B"))
    server.script("GET", "/api/x", answer(401, body=b""), answer(json_body=[]))

    async with GoSmarterClient(settings_for(server), clock=clock) as client:
        await client.request("GET", "/api/x")
        provider = client._token_provider
        stats = client.stats

    sent = [s.headers["Authorization"] for s in server.requests_to("/api/x")]
    assert ["Bearer tok-A", "Bearer tok-B"] == sent
    assert (2, 1) == (stats.token_requests, stats.auth_replays)
    assert isinstance(provider, ClientCredentialsTokenProvider)
    assert "very-secret-value" not in caplog.text
    assert "tok-A" not in caplog.text
    with pytest.raises(ClientClosedError):
        await provider.get_token()


# -- closing ----------------------------------------------------------------------


async def test_client_does_not_close_a_provider_it_was_given(
    tokens: FakeTokenProvider,
) -> None:
    async with GoSmarterClient(token_provider=tokens):
        pass

    assert not tokens.closed


async def test_closed_client_refuses_calls(
    server: ScriptedServer, tokens: FakeTokenProvider
) -> None:
    client = GoSmarterClient(token_provider=tokens, base_url=server.url)
    await client.aclose()

    with pytest.raises(ClientClosedError):
        await client.request("GET", "/a")

    assert client.closed


async def test_unclosed_client_with_an_open_session_warns(
    server: ScriptedServer, tokens: FakeTokenProvider
) -> None:
    server.script("GET", "/a", answer(json_body=1))
    client = GoSmarterClient(token_provider=tokens, base_url=server.url)
    await client.request("GET", "/a")

    with pytest.warns(ResourceWarning, match="unclosed GoSmarterClient"):
        client.__del__()
    await client.aclose()


def test_unused_client_does_not_warn(
    tokens: FakeTokenProvider, recwarn: pytest.WarningsRecorder
) -> None:
    client = GoSmarterClient(token_provider=tokens)

    client.__del__()

    assert [] == [w for w in recwarn if w.category is ResourceWarning]
