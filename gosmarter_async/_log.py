"""Loggers, one per subsystem, and the redaction helpers every log line goes through.

The library never configures handlers: applications decide where logs go. Nothing
logged may contain the client secret, a token or an Authorization value, so values
from requests and responses pass through `redact_headers`, `redact_url` or `excerpt`.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Mapping
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

__all__ = [
    "REDACTED",
    "SENSITIVE_HEADERS",
    "SENSITIVE_PARAMS",
    "auth_log",
    "excerpt",
    "redact_headers",
    "redact_text",
    "redact_url",
    "retry_log",
    "transport_log",
]

auth_log = logging.getLogger("gosmarter_async.auth")
transport_log = logging.getLogger("gosmarter_async.transport")
retry_log = logging.getLogger("gosmarter_async.retry")

REDACTED = "[redacted]"

SENSITIVE_HEADERS = frozenset(
    {"authorization", "proxy-authorization", "cookie", "set-cookie", "x-api-key"}
)
SENSITIVE_PARAMS = frozenset(
    {"client_secret", "access_token", "refresh_token", "id_token", "code", "assertion"}
)

# A JWT is three base64url segments; an opaque bearer value follows "Bearer ".
# Both are masked in any text we show (error excerpts, debug lines), in case a
# server echoes a token back in its body.
_JWT = re.compile(r"eyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*")
_BEARER = re.compile(r"(?i)(bearer\s+)[A-Za-z0-9._~+/=-]+")
_SECRET_FIELD = re.compile(
    r"(?i)((?:client_secret|access_token|refresh_token|id_token)\"?\s*[:=]\s*\"?)"
    r"[^\"&\s,}]+"
)


def redact_headers(headers: Mapping[str, str]) -> dict[str, str]:
    """Return a copy of `headers` with credentials replaced by a marker."""
    return {
        name: (REDACTED if name.lower() in SENSITIVE_HEADERS else value)
        for name, value in headers.items()
    }


def redact_url(url: str) -> str:
    """Return `url` without userinfo and with sensitive query values masked."""
    parts = urlsplit(url)
    netloc = parts.hostname or ""
    if parts.port is not None:
        netloc = f"{netloc}:{parts.port}"
    query = urlencode(
        [
            (key, REDACTED if key.lower() in SENSITIVE_PARAMS else value)
            for key, value in parse_qsl(parts.query, keep_blank_values=True)
        ],
        safe="[]",
    )
    return urlunsplit((parts.scheme, netloc, parts.path, query, ""))


def redact_text(text: str, secrets: Iterable[str] = ()) -> str:
    """Mask JWTs, bearer values, secret fields and the given literal secrets."""
    for secret in secrets:
        if secret:
            text = text.replace(secret, REDACTED)
    text = _JWT.sub(REDACTED, text)
    text = _BEARER.sub(lambda m: m.group(1) + REDACTED, text)
    return _SECRET_FIELD.sub(lambda m: m.group(1) + REDACTED, text)


def excerpt(body: bytes, limit: int = 500, secrets: Iterable[str] = ()) -> str:
    """A short, printable, redacted excerpt of a response body.

    Args:
        body: The raw body (only its first bytes are read).
        limit: The most characters to keep.
        secrets: Literal values to mask besides tokens.

    Returns:
        At most `limit` characters, with whitespace folded and "..." when cut.
    """
    head = body[: limit * 4].decode("utf-8", errors="replace")
    folded = " ".join(head.split())
    text = redact_text(folded, secrets)
    if len(text) > limit or len(body) > limit * 4:
        return text[:limit].rstrip() + "..."
    return text
