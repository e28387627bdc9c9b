"""The gateway's bearer checks, problem details and request ids."""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from typing import Any

import aiohttp
import jwt
from cryptography.hazmat.primitives.asymmetric import rsa

from gosmarter_async.sandbox import Faults, Sandbox
from tests.clock import FakeClock
from tests.sandbox.helpers import Api, get_token, schema_ref, validate


def _claims(sandbox: Sandbox, **overrides: Any) -> dict[str, Any]:
    now = int(time.time())
    claims = {
        "aud": sandbox.credentials.app_id_uri,
        "iss": f"{sandbox.url}/{sandbox.credentials.tenant_id}/v2.0",
        "iat": now,
        "nbf": now,
        "exp": now + 600,
        "azp": sandbox.settings.client_id,
        "oid": sandbox.user_id,
    }
    claims.update(overrides)
    return claims


def _forged(sandbox: Sandbox, token: str, claims: dict[str, Any]) -> str:
    # Signed by another key under the sandbox's kid: only the signature is wrong.
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    kid = jwt.get_unverified_header(token)["kid"]
    return jwt.encode(claims, key, algorithm="RS256", headers={"kid": kid})


async def _get(
    session: aiohttp.ClientSession, sandbox: Sandbox, headers: dict[str, str]
) -> tuple[int, Mapping[str, str], dict[str, Any]]:
    url = f"{sandbox.url}/api/company/{sandbox.company_ids[0]}/entitlements"
    async with session.get(url, headers=headers) as response:
        return response.status, response.headers.copy(), await response.json()


def _assert_problem(
    body: dict[str, Any], headers: Mapping[str, str], status: int
) -> None:
    validate(body, schema_ref("ProblemDetails"))
    assert status == body["status"]
    assert headers["x-request-id"] == body["trace"]["requestId"]
    assert headers["Content-Type"].startswith("application/problem+json")


async def test_gateway_missing_token_is_401_problem(
    session: aiohttp.ClientSession, sandbox: Sandbox
) -> None:
    status, headers, body = await _get(session, sandbox, {})

    assert 401 == status
    _assert_problem(body, headers, 401)
    assert "Bearer" == headers["WWW-Authenticate"]


async def test_gateway_non_bearer_scheme_is_401(
    session: aiohttp.ClientSession, sandbox: Sandbox
) -> None:
    status, headers, _ = await _get(session, sandbox, {"Authorization": "Basic abc"})

    assert 401 == status
    assert 'error="invalid_request"' in headers["WWW-Authenticate"]


async def test_gateway_bad_signature_is_401(
    session: aiohttp.ClientSession, sandbox: Sandbox
) -> None:
    token = _forged(sandbox, await get_token(session, sandbox), _claims(sandbox))

    status, headers, body = await _get(
        session, sandbox, {"Authorization": f"Bearer {token}"}
    )

    assert 401 == status
    _assert_problem(body, headers, 401)
    assert "signature" in body["detail"]
    assert 'error="invalid_token"' in headers["WWW-Authenticate"]


async def test_gateway_token_of_another_sandbox_is_401(
    session: aiohttp.ClientSession, sandbox: Sandbox
) -> None:
    async with Sandbox(seed=7) as other:
        token = await get_token(session, other)

    status, _, body = await _get(session, sandbox, {"Authorization": f"Bearer {token}"})

    assert 401 == status
    assert "signing key" in body["detail"]


async def test_gateway_wrong_audience_is_401(
    session: aiohttp.ClientSession, sandbox: Sandbox
) -> None:
    real = await get_token(session, sandbox)
    claims = _claims(sandbox, aud="api://someone-else")
    key = sandbox._state.identity._key  # the sandbox's own key: only aud is wrong
    token = jwt.encode(
        claims,
        key,
        algorithm="RS256",
        headers={"kid": jwt.get_unverified_header(real)["kid"]},
    )

    status, _, body = await _get(session, sandbox, {"Authorization": f"Bearer {token}"})

    assert 401 == status
    assert "audience" in body["detail"]


async def test_gateway_wrong_issuer_is_401(
    session: aiohttp.ClientSession, sandbox: Sandbox
) -> None:
    real = await get_token(session, sandbox)
    key = sandbox._state.identity._key
    token = jwt.encode(
        _claims(sandbox, iss="https://login.example/other/v2.0"),
        key,
        algorithm="RS256",
        headers={"kid": jwt.get_unverified_header(real)["kid"]},
    )

    status, _, body = await _get(session, sandbox, {"Authorization": f"Bearer {token}"})

    assert 401 == status
    assert "issuer" in body["detail"]


async def test_gateway_expired_token_is_401_after_leeway(
    session: aiohttp.ClientSession, fake_sandbox: Sandbox, clock: FakeClock
) -> None:
    fake_sandbox.faults = Faults(token_lifetime=60)
    headers = {"Authorization": f"Bearer {await get_token(session, fake_sandbox)}"}

    clock.advance(60 + 4)
    within_leeway, _, _ = await _get(session, fake_sandbox, headers)
    clock.advance(2)
    expired, _, body = await _get(session, fake_sandbox, headers)

    assert 200 == within_leeway
    assert 401 == expired
    assert "expired" in body["detail"]


async def test_gateway_user_mismatch_is_403(api: Api) -> None:
    other_user = "00000000-0000-4000-8000-000000000000"

    status, headers, raw = await api.call(
        "POST", f"/api/user/{other_user}/companies/list", json=[]
    )

    body = json.loads(raw)
    assert 403 == status
    _assert_problem(body, headers, 403)


async def test_gateway_every_answer_has_request_id(api: Api) -> None:
    company = api.sandbox.company_ids[0]

    ok = await api.call("GET", f"/api/company/{company}/entitlements")
    missing = await api.call("GET", "/api/no-such-route")
    other = await api.call("GET", f"/api/company/{company}/entitlements")

    ids = {ok[1]["x-request-id"], missing[1]["x-request-id"], other[1]["x-request-id"]}
    assert 3 == len(ids)
    assert 404 == missing[0]
    _assert_problem(json.loads(missing[2]), missing[1], 404)
