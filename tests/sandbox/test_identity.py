"""The token endpoint, discovery and JWKS, as Entra External ID shapes them."""

from __future__ import annotations

import base64
import logging
from collections.abc import Mapping
from typing import Any
from urllib.parse import quote_plus

import aiohttp
import jwt
import pytest

from gosmarter_async.sandbox import Sandbox


def _form(sandbox: Sandbox, **overrides: str | None) -> dict[str, str]:
    s = sandbox.settings
    form: dict[str, str | None] = {
        "grant_type": "client_credentials",
        "client_id": s.client_id,
        "client_secret": s.client_secret,
        "scope": s.scope,
    }
    form.update(overrides)
    return {k: v for k, v in form.items() if v is not None}


async def _post(
    session: aiohttp.ClientSession,
    sandbox: Sandbox,
    form: dict[str, str],
    headers: dict[str, str] | None = None,
) -> tuple[int, Mapping[str, str], dict[str, Any]]:
    async with session.post(
        sandbox.settings.token_url, data=form, headers=headers
    ) as response:
        return response.status, response.headers.copy(), await response.json()


def _assert_entra_error(body: dict[str, Any], error: str, code: int) -> None:
    assert error == body["error"]
    assert [code] == body["error_codes"]
    assert body["error_description"].startswith(f"AADSTS{code}: ")
    for key in ("timestamp", "trace_id", "correlation_id"):
        assert body[key]


async def test_token_client_secret_post_issues_bearer_token(
    session: aiohttp.ClientSession, sandbox: Sandbox
) -> None:
    status, headers, body = await _post(session, sandbox, _form(sandbox))

    assert 200 == status
    assert "Bearer" == body["token_type"]
    assert 3600 == body["expires_in"]
    assert 3600 == body["ext_expires_in"]
    assert body["access_token"].count(".") == 2
    assert "no-store" == headers["Cache-Control"]
    assert 1 == sandbox.stats.tokens_issued


async def test_token_http_basic_authenticates_client(
    session: aiohttp.ClientSession, sandbox: Sandbox
) -> None:
    s = sandbox.settings
    pair = f"{quote_plus(s.client_id)}:{quote_plus(s.client_secret)}"
    basic = base64.b64encode(pair.encode()).decode()
    form = _form(sandbox, client_id=None, client_secret=None)

    status, _, body = await _post(
        session, sandbox, form, {"Authorization": f"Basic {basic}"}
    )

    assert 200 == status
    assert "access_token" in body


async def test_token_basic_and_body_secret_together_is_invalid_request(
    session: aiohttp.ClientSession, sandbox: Sandbox
) -> None:
    s = sandbox.settings
    basic = base64.b64encode(f"{s.client_id}:{s.client_secret}".encode()).decode()

    status, _, body = await _post(
        session, sandbox, _form(sandbox), {"Authorization": f"Basic {basic}"}
    )

    assert 400 == status
    _assert_entra_error(body, "invalid_request", 9002313)


@pytest.mark.parametrize(
    ("overrides", "status", "error", "code"),
    [
        ({"client_secret": "wrong"}, 401, "invalid_client", 7000215),
        ({"client_secret": None}, 401, "invalid_client", 7000218),
        ({"client_id": "someone-else"}, 400, "unauthorized_client", 700016),
        ({"client_id": None}, 400, "invalid_request", 900144),
        ({"grant_type": "password"}, 400, "unsupported_grant_type", 70003),
        ({"grant_type": None}, 400, "invalid_request", 900144),
        ({"scope": None}, 400, "invalid_request", 900144),
        ({"scope": "api://other-api/.default"}, 400, "invalid_scope", 500011),
        ({"scope": "not-a-scope"}, 400, "invalid_scope", 70011),
    ],
)
async def test_token_error_has_entra_shape(
    session: aiohttp.ClientSession,
    sandbox: Sandbox,
    overrides: dict[str, str | None],
    status: int,
    error: str,
    code: int,
) -> None:
    got_status, _, body = await _post(session, sandbox, _form(sandbox, **overrides))

    assert status == got_status
    _assert_entra_error(body, error, code)
    assert 0 == sandbox.stats.tokens_issued


async def test_token_error_never_echoes_the_secret(
    session: aiohttp.ClientSession, sandbox: Sandbox, caplog: pytest.LogCaptureFixture
) -> None:
    secret = sandbox.settings.client_secret

    _, _, body = await _post(session, sandbox, _form(sandbox, scope="bad"))
    await _post(session, sandbox, _form(sandbox))

    assert secret not in str(body)
    assert secret not in caplog.text
    assert secret not in repr(sandbox.credentials)


async def test_token_unknown_tenant_is_invalid_request(
    session: aiohttp.ClientSession, sandbox: Sandbox
) -> None:
    url = f"{sandbox.url}/other-tenant/oauth2/v2.0/token"

    async with session.post(url, data=_form(sandbox)) as response:
        body = await response.json()

    assert 400 == response.status
    _assert_entra_error(body, "invalid_request", 90002)


async def test_token_json_body_is_missing_grant_type(
    session: aiohttp.ClientSession, sandbox: Sandbox
) -> None:
    async with session.post(sandbox.settings.token_url, json=_form(sandbox)) as resp:
        body = await resp.json()

    assert 400 == resp.status
    _assert_entra_error(body, "invalid_request", 900144)


async def test_token_access_as_user_scope_accepted_unless_strict(
    session: aiohttp.ClientSession,
) -> None:
    async with Sandbox() as lenient, Sandbox(strict_scope=True) as strict:
        lenient_scope = f"{lenient.credentials.app_id_uri}/access_as_user"
        strict_scope = f"{strict.credentials.app_id_uri}/access_as_user"

        lenient_status, _, _ = await _post(
            session, lenient, _form(lenient, scope=lenient_scope)
        )
        strict_status, _, strict_body = await _post(
            session, strict, _form(strict, scope=strict_scope)
        )
        default_status, _, _ = await _post(session, strict, _form(strict))

    assert 200 == lenient_status
    assert 400 == strict_status
    _assert_entra_error(strict_body, "invalid_scope", 1002012)
    assert 200 == default_status


async def test_token_verifies_with_discovery_and_jwks(
    session: aiohttp.ClientSession, sandbox: Sandbox
) -> None:
    _, _, body = await _post(session, sandbox, _form(sandbox))
    tenant = sandbox.credentials.tenant_id
    discovery_url = f"{sandbox.url}/{tenant}/v2.0/.well-known/openid-configuration"

    async with session.get(discovery_url) as response:
        discovery = await response.json()
    async with session.get(discovery["jwks_uri"]) as response:
        jwks = await response.json()
    header = jwt.get_unverified_header(body["access_token"])
    (key,) = [k for k in jwks["keys"] if k["kid"] == header["kid"]]
    claims = jwt.decode(
        body["access_token"],
        jwt.PyJWK(key).key,
        algorithms=["RS256"],
        audience=sandbox.credentials.app_id_uri,
        issuer=discovery["issuer"],
    )

    assert sandbox.settings.token_url == discovery["token_endpoint"]
    assert "RS256" == header["alg"]
    assert sandbox.settings.client_id == claims["azp"]
    assert sandbox.user_id == claims["oid"] == claims["sub"]
    assert tenant == claims["tid"]
    assert claims["roles"]
    assert 3600 == claims["exp"] - claims["iat"]
    assert claims["nbf"] <= claims["iat"]


async def test_token_lifetime_is_configurable(
    session: aiohttp.ClientSession,
) -> None:
    async with Sandbox(token_lifetime=120) as sandbox:
        _, _, body = await _post(session, sandbox, _form(sandbox))

    claims = jwt.decode(body["access_token"], options={"verify_signature": False})
    assert 120 == body["expires_in"]
    assert 120 == claims["exp"] - claims["iat"]


async def test_token_endpoint_logs_no_token(
    session: aiohttp.ClientSession, sandbox: Sandbox, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)

    _, _, body = await _post(session, sandbox, _form(sandbox))

    assert "token issued" in caplog.text
    assert body["access_token"] not in caplog.text
