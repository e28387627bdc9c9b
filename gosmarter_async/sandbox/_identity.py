"""The identity provider: Entra External ID's token endpoint, discovery and JWKS.

Routes, under the tenant id:

- `POST /{tenant}/oauth2/v2.0/token`: the client-credentials grant (RFC 6749 §4.4),
  form-encoded, with the client secret in the body (client_secret_post) or by HTTP
  Basic (client_secret_basic, RFC 6749 §2.3.1). Errors are shaped as Entra returns
  them, with an AADSTS code: invalid_request (400), invalid_client (401),
  unauthorized_client (400, unknown client), unsupported_grant_type (400),
  invalid_scope (400); throttling is a 429 with Retry-After and an outage a 503.
- `GET /{tenant}/v2.0/.well-known/openid-configuration`: OIDC discovery.
- `GET /{tenant}/discovery/v2.0/keys`: the JWKS.

Scopes: `api://{API_ID}/.default` and the documented `api://{API_ID}/access_as_user`
are accepted; in strict mode only `/.default`, as Entra requires for client
credentials (AADSTS1002012).
"""

from __future__ import annotations

import base64
import binascii
import hmac
from urllib.parse import unquote_plus

from aiohttp import web

from ._http import entra_error, json_response
from ._state import STATE, SandboxState, sandbox_log

__all__ = ["add_identity_routes"]

_FORM = "application/x-www-form-urlencoded"


class _OAuthError(Exception):
    def __init__(self, status: int, error: str, code: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.error = error
        self.code = code
        self.message = message


def _missing(name: str) -> _OAuthError:
    return _OAuthError(
        400,
        "invalid_request",
        900144,
        f"The request body must contain the following parameter: '{name}'.",
    )


def add_identity_routes(app: web.Application, strict_scope: bool) -> None:
    """Register the token endpoint, discovery and JWKS on `app`.

    Args:
        app: The sandbox application.
        strict_scope: Reject scopes that do not end in `/.default`.
    """

    async def token(request: web.Request) -> web.Response:
        return await _token(request, strict_scope)

    app.router.add_post("/{tenant}/oauth2/v2.0/token", token, name="token")
    app.router.add_get(
        "/{tenant}/v2.0/.well-known/openid-configuration", _discovery, name="discovery"
    )
    app.router.add_get("/{tenant}/discovery/v2.0/keys", _jwks, name="jwks")


def _check_tenant(request: web.Request, state: SandboxState) -> None:
    tenant = request.match_info["tenant"]
    if tenant != state.identity.credentials.tenant_id:
        raise _OAuthError(
            400,
            "invalid_request",
            90002,
            f"Tenant '{tenant}' not found. Check to make sure you have the correct"
            " tenant ID and are signing into the correct cloud.",
        )


async def _discovery(request: web.Request) -> web.Response:
    state = request.app[STATE]
    try:
        _check_tenant(request, state)
    except _OAuthError as exc:
        return _error_response(state, exc)
    return json_response(state.identity.discovery())


async def _jwks(request: web.Request) -> web.Response:
    state = request.app[STATE]
    try:
        _check_tenant(request, state)
    except _OAuthError as exc:
        return _error_response(state, exc)
    return json_response(state.identity.jwks())


def _error_response(
    state: SandboxState, exc: _OAuthError, headers: dict[str, str] | None = None
) -> web.Response:
    return entra_error(
        exc.status,
        exc.error,
        exc.code,
        exc.message,
        now=state.clock.now(),
        headers=headers,
    )


async def _token(request: web.Request, strict_scope: bool) -> web.Response:
    state = request.app[STATE]
    state.stats.token_requests += 1
    fault = state.injector.token_fault(state.clock.monotonic())
    if fault is not None:
        return _token_fault(state, fault)
    try:
        _check_tenant(request, state)
        form = await request.post() if request.content_type == _FORM else {}
        fields = {k: v for k, v in form.items() if isinstance(v, str)}
        _check_grant(fields)
        client_id = _authenticate(state, fields, request.headers.get("Authorization"))
        _check_scope(state, fields.get("scope"), strict_scope)
    except _OAuthError as exc:
        sandbox_log.debug("token request refused: %s (AADSTS%s)", exc.error, exc.code)
        return _error_response(state, exc)
    access_token, lifetime = state.identity.issue(state.injector.faults.token_lifetime)
    state.stats.tokens_issued += 1
    sandbox_log.debug("token issued to %s for %s s", client_id, lifetime)
    # RFC 6749 §5.1: token answers must not be cached.
    return json_response(
        {
            "token_type": "Bearer",
            "expires_in": lifetime,
            "ext_expires_in": lifetime,
            "access_token": access_token,
        },
        headers={"Cache-Control": "no-store", "Pragma": "no-cache"},
    )


def _token_fault(state: SandboxState, fault: str) -> web.Response:
    retry_after = {"Retry-After": str(state.injector.faults.retry_after)}
    if fault == "outage":
        state.stats.faults["token_outage"] += 1
        exc = _OAuthError(
            503,
            "temporarily_unavailable",
            90033,
            "A transient error has occurred. Please try again.",
        )
        return _error_response(state, exc, retry_after)
    state.stats.faults["token_throttle"] += 1
    exc = _OAuthError(
        429,
        "temporarily_unavailable",
        90055,
        "There are too many incoming requests. Please retry after a while.",
    )
    return _error_response(state, exc, retry_after)


def _check_grant(fields: dict[str, str]) -> None:
    grant = fields.get("grant_type")
    if not grant:
        raise _missing("grant_type")
    if grant != "client_credentials":
        raise _OAuthError(
            400,
            "unsupported_grant_type",
            70003,
            f"The app requested an unsupported grant type '{grant}'.",
        )


def _basic(header: str) -> tuple[str, str]:
    # RFC 6749 §2.3.1: id and secret are form-urlencoded, then joined by ":" and
    # base64-encoded (RFC 7617).
    try:
        decoded = base64.b64decode(header[6:].strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError) as exc:
        raise _OAuthError(
            401, "invalid_client", 7000216, "The Basic credentials are malformed."
        ) from exc
    client_id, sep, secret = decoded.partition(":")
    if not sep:
        raise _OAuthError(
            401, "invalid_client", 7000216, "The Basic credentials are malformed."
        )
    return unquote_plus(client_id), unquote_plus(secret)


def _authenticate(
    state: SandboxState, fields: dict[str, str], authorization: str | None
) -> str:
    client_id = fields.get("client_id")
    secret = fields.get("client_secret")
    if authorization and authorization[:6].lower() == "basic ":
        if secret is not None:
            # RFC 6749 §2.3: one authentication method per request.
            raise _OAuthError(
                400,
                "invalid_request",
                9002313,
                "Invalid request. The client authenticated by more than one method.",
            )
        basic_id, secret = _basic(authorization)
        if client_id is not None and client_id != basic_id:
            raise _OAuthError(
                400,
                "invalid_request",
                9002313,
                "Invalid request. The client_id differs from the Basic credentials.",
            )
        client_id = basic_id
    if not client_id:
        raise _missing("client_id")
    return _check_client(state, client_id, secret)


def _check_client(state: SandboxState, client_id: str, secret: str | None) -> str:
    creds = state.identity.credentials
    if client_id != creds.client_id:
        raise _OAuthError(
            400,
            "unauthorized_client",
            700016,
            f"Application with identifier '{client_id}' was not found in the"
            f" directory '{creds.tenant_id}'. This can happen if the application has"
            " not been installed by the administrator of the tenant.",
        )
    if not secret:
        raise _OAuthError(
            401,
            "invalid_client",
            7000218,
            "The request body must contain the following parameter:"
            " 'client_assertion' or 'client_secret'.",
        )
    if not hmac.compare_digest(secret.encode(), creds.client_secret.encode()):
        raise _OAuthError(
            401,
            "invalid_client",
            7000215,
            "Invalid client secret provided. Ensure the secret being sent in the"
            " request is the client secret value, not the client secret ID, for a"
            f" secret added to app '{client_id}'.",
        )
    return client_id


def _check_scope(state: SandboxState, scope: str | None, strict: bool) -> None:
    if not scope:
        raise _missing("scope")
    creds = state.identity.credentials
    scopes = scope.split()
    resource, _, permission = scopes[0].rpartition("/")
    if len(scopes) != 1 or not resource:
        raise _OAuthError(
            400,
            "invalid_scope",
            70011,
            f"The provided value for the input parameter 'scope' is not valid. The"
            f" scope {scope} is not valid.",
        )
    if resource != creds.app_id_uri:
        raise _OAuthError(
            400,
            "invalid_scope",
            500011,
            f"The resource principal named {resource} was not found in the tenant"
            f" named {creds.tenant_id}.",
        )
    allowed = {".default"} if strict else {".default", "access_as_user"}
    if permission not in allowed:
        raise _OAuthError(
            400,
            "invalid_scope",
            1002012,
            f"The provided value for scope {scope} is not valid. Client credential"
            " flows must have a scope value with /.default suffixed to the resource"
            " identifier (application ID URI).",
        )
