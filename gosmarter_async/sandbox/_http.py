"""Response helpers: JSON bodies, RFC 7807 problem details, Entra OAuth errors."""

from __future__ import annotations

import json
import uuid
from datetime import datetime
from http import HTTPStatus
from typing import Any

from aiohttp import web

from ._store import iso

__all__ = [
    "BUILD_ID",
    "REQUEST_ID",
    "ProblemError",
    "entra_error",
    "json_response",
    "problem",
]

BUILD_ID = "gosmarter-sandbox-1"
REQUEST_ID = web.RequestKey("gosmarter_request_id", str)

# RFC 9110 §15 (RFC 6585 §4 for 429) sections, as ASP.NET's problem types cite them.
_TYPES = {
    400: "https://tools.ietf.org/html/rfc9110#section-15.5.1",
    401: "https://tools.ietf.org/html/rfc9110#section-15.5.2",
    403: "https://tools.ietf.org/html/rfc9110#section-15.5.4",
    404: "https://tools.ietf.org/html/rfc9110#section-15.5.5",
    405: "https://tools.ietf.org/html/rfc9110#section-15.5.6",
    409: "https://tools.ietf.org/html/rfc9110#section-15.5.10",
    413: "https://tools.ietf.org/html/rfc9110#section-15.5.14",
    429: "https://tools.ietf.org/html/rfc6585#section-4",
    500: "https://tools.ietf.org/html/rfc9110#section-15.6.1",
    503: "https://tools.ietf.org/html/rfc9110#section-15.6.4",
}


class ProblemError(Exception):
    """Raised by a handler to answer with a problem details body.

    Args:
        status: The HTTP status.
        detail: The explanation of this occurrence.
        headers: Extra headers, e.g. Retry-After or WWW-Authenticate.
    """

    def __init__(
        self, status: int, detail: str, headers: dict[str, str] | None = None
    ) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail
        self.headers = headers or {}


def dumps(value: Any) -> bytes:
    """Compact, deterministic JSON (key order as built)."""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode()


def json_response(
    value: Any, status: int = 200, headers: dict[str, str] | None = None
) -> web.Response:
    """A JSON answer."""
    return web.Response(
        body=dumps(value),
        status=status,
        content_type="application/json",
        charset="utf-8",
        headers=headers,
    )


def problem(
    request: web.Request,
    status: int,
    detail: str,
    now: datetime,
    headers: dict[str, str] | None = None,
) -> web.Response:
    """An RFC 7807 problem details answer with the gateway's trace.

    Args:
        request: The request it answers (its path is the instance).
        status: The HTTP status.
        detail: The explanation of this occurrence.
        now: The server's wall time, for trace.timestamp.
        headers: Extra headers.

    Returns:
        An `application/problem+json` response.
    """
    body = {
        "type": _TYPES.get(status, "about:blank"),
        "title": HTTPStatus(status).phrase,
        "status": status,
        "detail": detail,
        "instance": request.path,
        "trace": {
            "timestamp": iso(now),
            "requestId": request.get(REQUEST_ID, ""),
            "buildId": BUILD_ID,
        },
    }
    return web.Response(
        body=dumps(body),
        status=status,
        content_type="application/problem+json",
        charset="utf-8",
        headers=headers,
    )


def entra_error(
    status: int,
    error: str,
    code: int,
    message: str,
    *,
    now: datetime,
    headers: dict[str, str] | None = None,
) -> web.Response:
    """An OAuth error answer shaped as Entra ID returns it (RFC 6749 §5.2 + extras).

    Args:
        status: The HTTP status.
        error: The OAuth error code, e.g. `invalid_client`.
        code: The AADSTS number, e.g. 7000215.
        message: The AADSTS message, without its code.
        now: The server's wall time.
        headers: Extra headers, e.g. Retry-After.

    Returns:
        A JSON response with error, error_description, error_codes, timestamp,
        trace_id, correlation_id and error_uri.
    """
    trace_id = str(uuid.uuid4())
    correlation_id = str(uuid.uuid4())
    stamp = now.strftime("%Y-%m-%d %H:%M:%SZ")
    body = {
        "error": error,
        "error_description": (
            f"AADSTS{code}: {message} Trace ID: {trace_id}"
            f" Correlation ID: {correlation_id} Timestamp: {stamp}"
        ),
        "error_codes": [code],
        "timestamp": stamp,
        "trace_id": trace_id,
        "correlation_id": correlation_id,
        "error_uri": f"https://login.microsoftonline.com/error?code={code}",
    }
    base = {"Cache-Control": "no-store", "Pragma": "no-cache"}
    return json_response(body, status, headers={**base, **(headers or {})})
