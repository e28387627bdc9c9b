"""One request to the OAuth 2.0 token endpoint, and what its answer means.

The client secret travels only in the form body of a POST (RFC 6749 §2.3.1 allows
it there; never in the URL, where proxies and logs would keep it). Redirects are
not followed: a 307 would resend the secret to wherever the server points.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import TYPE_CHECKING

import aiohttp
from attrs import field, frozen

from .._errors import (
    InvalidClientError,
    InvalidScopeError,
    TokenEndpointError,
    TokenResponseError,
    UnauthorizedClientError,
)
from .._log import auth_log, excerpt, redact_text, redact_url
from .._retry import parse_retry_after
from ._token import AccessToken, SentAt, parse_token_response

if TYPE_CHECKING:
    from .._clock import Clock

__all__ = ["RateLimited", "TokenRequest", "TransientTokenFailure", "request_token"]

# A token answer is a few kilobytes; an error page past this is cut, not buffered.
MAX_BODY = 64 * 1024

# Entra's descriptions run to a few hundred characters; keep messages readable.
MAX_DESCRIPTION = 1000

_ERRORS_BY_CODE: dict[str, type[TokenEndpointError]] = {
    "invalid_client": InvalidClientError,
    "unauthorized_client": UnauthorizedClientError,
    "invalid_scope": InvalidScopeError,
}

_HINT_INVALID_CLIENT = (
    "check CLIENT_ID and CLIENT_SECRET (the secret's value, not its id) and that "
    "the secret has not expired"
)
_HINT_UNAUTHORIZED_CLIENT = (
    "the app registration may not use the client credentials grant, or lacks "
    "admin consent for the API's application permissions"
)


class TransientTokenFailure(Exception):  # noqa: N818 (internal; never escapes auth)
    """A failure worth retrying: 5xx, 408, no answer, or a timeout.

    Args:
        reason: What happened, without bodies or secrets.
        status: The HTTP status, when there was an answer.
    """

    def __init__(self, reason: str, status: int | None = None) -> None:
        self.reason = reason
        self.status = status
        super().__init__(reason)


class RateLimited(Exception):  # noqa: N818 (internal; never escapes auth)
    """The token endpoint answered 429.

    Args:
        retry_after: The seconds it asked us to wait, or None if it did not say.
    """

    def __init__(self, retry_after: float | None) -> None:
        self.retry_after = retry_after
        super().__init__("token endpoint answered 429")


@frozen
class TokenRequest:
    """What a client credentials token request sends (RFC 6749 §4.4.2).

    Args:
        token_url: The token endpoint.
        client_id: The client id.
        client_secret: The client secret; sent only in the form body.
        scope: The scope to request.
        timeout: Seconds the whole request may take.
    """

    token_url: str
    client_id: str
    client_secret: str = field(repr=False)
    scope: str
    timeout: float

    def form(self) -> dict[str, str]:
        """The form fields of the request body."""
        return {
            "grant_type": "client_credentials",
            "client_id": self.client_id,
            "client_secret": self.client_secret,
            "scope": self.scope,
        }


async def request_token(
    request: TokenRequest,
    *,
    session: aiohttp.ClientSession | None,
    clock: Clock,
    default_lifetime: float,
    mask: tuple[str, ...] = (),
) -> AccessToken:
    """Send one token request and read its answer.

    Args:
        request: What to send.
        session: A session to use as-is, or None for a short-lived one.
        clock: Where the send time is read, from which expiry is measured.
        default_lifetime: Seconds to assume when the answer gives no expiry.
        mask: Values besides the secret to hide in body excerpts (tokens held).

    Returns:
        The token.

    Raises:
        TransientTokenFailure: on 5xx, 408, a connection error or a timeout.
        RateLimited: on 429.
        TokenEndpointError: on an OAuth error answer (RFC 6749 §5.2).
        TokenResponseError: on any other answer that is not a usable token.
    """
    sent = SentAt.now(clock)
    status, headers, body = await _post(request, session)
    auth_log.debug(
        "POST %s -> %d in %.3f s",
        redact_url(request.token_url),
        status,
        clock.monotonic() - sent.mono,
    )
    secrets = (request.client_secret, *mask)
    if status == 200:
        return parse_token_response(
            body,
            status=status,
            sent=sent,
            default_lifetime=default_lifetime,
            secrets=secrets,
        )
    if status == 429:
        raise RateLimited(parse_retry_after(headers, clock.now()))
    # Request Timeout and server errors are transient (RFC 9110 §15.5.9, §15.6).
    if status == 408 or status >= 500:
        raise TransientTokenFailure(f"token endpoint answered {status}", status)
    raise _error_for_answer(status, body, request.scope, secrets)


async def _post(
    request: TokenRequest, session: aiohttp.ClientSession | None
) -> tuple[int, Mapping[str, str], bytes]:
    if session is not None:
        return await _send(session, request)
    # Token requests are rare (about one an hour), and a session kept between them
    # would stay bound to the event loop that opened it: a provider reused by a
    # second asyncio.run() would hold a dead session. One short-lived session per
    # request costs a connection setup per hour, and works on any loop.
    # TODO(proxy): HTTPS_PROXY is not honoured here (trust_env would also read
    # ~/.netrc credentials into the request); behind a proxy, inject a session.
    async with aiohttp.ClientSession() as own:
        return await _send(own, request)


async def _send(
    session: aiohttp.ClientSession, request: TokenRequest
) -> tuple[int, Mapping[str, str], bytes]:
    try:
        async with session.post(
            request.token_url,
            data=request.form(),
            headers={"Accept": "application/json"},
            allow_redirects=False,
            timeout=aiohttp.ClientTimeout(total=request.timeout),
        ) as response:
            body = await _read_bounded(response)
            return response.status, response.headers, body
    except TimeoutError:
        reason = f"no answer within {request.timeout:g} s"
        raise TransientTokenFailure(reason) from None
    except aiohttp.ClientError as exc:
        # Only the class name: aiohttp's messages carry the URL and OS details, and
        # the caller's traceback must not chain to them.
        reason = f"no answer ({type(exc).__name__})"
        raise TransientTokenFailure(reason) from None


async def _read_bounded(response: aiohttp.ClientResponse) -> bytes:
    chunks: list[bytes] = []
    size = 0
    async for chunk in response.content.iter_chunked(16 * 1024):
        chunks.append(chunk)
        size += len(chunk)
        if size >= MAX_BODY:
            break
    return b"".join(chunks)[:MAX_BODY]


def _error_for_answer(
    status: int, body: bytes, scope: str, secrets: tuple[str, ...]
) -> TokenEndpointError | TokenResponseError:
    try:
        data = json.loads(body)
    except ValueError:
        data = None
    code = data.get("error") if isinstance(data, dict) else None
    if not isinstance(data, dict) or not isinstance(code, str) or not code:
        return TokenResponseError(
            f"token endpoint answered {status} without an OAuth error body",
            status=status,
            body_excerpt=excerpt(body, limit=200, secrets=secrets),
        )
    code = redact_text(code[:100], secrets)
    return _ERRORS_BY_CODE.get(code, TokenEndpointError)(
        code,
        status=status,
        error_description=_text(data, "error_description", secrets),
        error_codes=_codes(data.get("error_codes")),
        trace_id=_text(data, "trace_id", secrets),
        correlation_id=_text(data, "correlation_id", secrets),
        hint=_hint(code, scope),
    )


def _text(data: Mapping[str, object], key: str, secrets: tuple[str, ...]) -> str | None:
    # A server may echo the request back; mask the secret and any token in it.
    value = data.get(key)
    if not isinstance(value, str):
        return None
    return redact_text(value[:MAX_DESCRIPTION], secrets)


def _codes(raw: object) -> tuple[int, ...]:
    if not isinstance(raw, list):
        return ()
    return tuple(c for c in raw if isinstance(c, int) and not isinstance(c, bool))


def _hint(code: str, scope: str) -> str | None:
    if code == "invalid_client":
        return _HINT_INVALID_CLIENT
    if code == "unauthorized_client":
        return _HINT_UNAUTHORIZED_CLIENT
    if code == "invalid_scope" and not scope.endswith("/.default"):
        # Entra issues client credentials tokens only for "<resource>/.default";
        # the API docs' ".../access_as_user" is a delegated scope.
        return (
            f"the client credentials grant needs a scope of the form "
            f"'<resource>/.default' (e.g. 'api://<API_ID>/.default'), not {scope!r}"
        )
    return None
