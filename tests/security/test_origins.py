"""Where credentials may go: the secret to the token endpoint, the token to the gateway.

A bearer token sent to another origin, or over plain http across a network, is a
token given away (RFC 6750 §5.3); so is a client secret (RFC 6749 §3.2).
"""

from __future__ import annotations

import pytest

from gosmarter_async import (
    AuthenticationError,
    ClientCredentialsTokenProvider,
    ConfigurationError,
    GoSmarterClient,
    RetryPolicy,
    Settings,
)
from tests.helpers_server import FakeTokenProvider, ScriptedServer, answer

COMPANY = "0b1e5e3c-7a51-4d8e-9a0c-3f2b1d4e5a6f"
PATH = f"/api/company/{COMPANY}/entitlements"


@pytest.mark.parametrize("status", [301, 302, 303, 307, 308])
async def test_bearer_token_is_not_sent_after_a_redirect_to_another_origin(
    status: int,
) -> None:
    tokens = FakeTokenProvider()
    async with ScriptedServer() as gateway, ScriptedServer() as elsewhere:
        elsewhere.script("GET", PATH, answer(200, json_body=[]))
        gateway.script(
            "GET", PATH, answer(status, headers={"Location": elsewhere.url + PATH})
        )
        async with GoSmarterClient(
            token_provider=tokens, base_url=gateway.url, retry=RetryPolicy.disabled()
        ) as client:
            await client.entitlements.list_company_entitlements(COMPANY)

        sent_to_gateway = gateway.requests_to(PATH)[0].headers
        sent_elsewhere = elsewhere.requests_to(PATH)[0].headers

    assert sent_to_gateway["Authorization"].startswith("Bearer ")
    assert "Authorization" not in sent_elsewhere


async def test_client_secret_is_sent_only_in_the_token_request_body() -> None:
    async with ScriptedServer() as identity:
        identity.script(
            "POST",
            "/token",
            answer(307, headers={"Location": identity.url + "/elsewhere"}),
        )
        provider = ClientCredentialsTokenProvider(
            identity.url + "/token",
            "client-1",
            "sEcReT-in-body-only",
            "api://x/.default",
            retry=RetryPolicy.disabled(),
        )
        async with provider:
            with pytest.raises(AuthenticationError):
                await provider.get_token()

        seen = identity.seen

    # A redirect is not followed: the secret is never re-sent elsewhere.
    assert ["/token"] == [s.path for s in seen]
    assert b"sEcReT-in-body-only" in seen[0].body
    assert "sEcReT-in-body-only" not in str(seen[0].headers) + str(seen[0].query)


@pytest.mark.parametrize(
    "url",
    ["http://api.gosmarter.ai", "http://10.0.0.5:8080", "ftp://api.gosmarter.ai"],
)
def test_credentials_need_https_except_for_loopback(url: str) -> None:
    with pytest.raises(ConfigurationError):
        Settings(client_id="c", client_secret="s", token_url=url, scope="x/.default")
    with pytest.raises(ConfigurationError):
        GoSmarterClient(token_provider=FakeTokenProvider(), base_url=url)
    with pytest.raises(ConfigurationError):
        ClientCredentialsTokenProvider(url, "c", "s", "x/.default")


@pytest.mark.parametrize(
    "url", ["http://127.0.0.1:8080", "http://localhost:1", "http://[::1]:2"]
)
def test_plain_http_is_allowed_for_loopback(url: str) -> None:
    settings = Settings(
        client_id="c", client_secret="s", token_url=url, scope="x", gateway_url=url
    )

    client = GoSmarterClient(token_provider=FakeTokenProvider(), base_url=url)

    assert url == settings.token_url
    assert not client.closed
