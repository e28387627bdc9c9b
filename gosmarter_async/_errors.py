"""The exceptions the SDK raises, one tree rooted at `GoSmarterError`.

::

    GoSmarterError
    ├── ConfigurationError (also ValueError)   settings missing or malformed
    ├── AuthenticationError                    anything about acquiring a token
    │   ├── TokenEndpointError                 an OAuth error answer (RFC 6749 §5.2)
    │   │   ├── InvalidClientError             wrong client id or secret
    │   │   ├── UnauthorizedClientError        client not allowed this grant
    │   │   └── InvalidScopeError              unknown or malformed scope
    │   ├── TokenRateLimitedError              429 from the token endpoint
    │   ├── TokenEndpointUnavailableError      5xx, 408 or no answer, after retries
    │   └── TokenResponseError                 an answer that is not a usable token
    ├── TransportError                         the request did not get an answer
    │   ├── TransportTimeoutError (also TimeoutError)
    │   └── ConnectError                       no connection: the request never left
    │       └── ConnectTimeoutError (also TransportTimeoutError)
    ├── ResponseDecodeError                    a 2xx body that does not match the spec
    ├── ClientClosedError                      the client was closed
    └── APIStatusError                         the gateway answered with an error status
        ├── BadRequestError        400
        ├── UnauthorizedError      401
        ├── ForbiddenError         403
        ├── NotFoundError          404
        ├── ConflictError          409
        ├── RateLimitError         429
        └── ServerError            5xx

No exception carries the client secret, a token or an Authorization value: messages
and attributes are built from redacted parts only.
"""

from __future__ import annotations

from typing import Any

from attrs import frozen

__all__ = [
    "APIStatusError",
    "AuthenticationError",
    "BadRequestError",
    "ClientClosedError",
    "ConfigurationError",
    "ConflictError",
    "ConnectError",
    "ConnectTimeoutError",
    "ForbiddenError",
    "GoSmarterError",
    "InvalidClientError",
    "InvalidScopeError",
    "NotFoundError",
    "ProblemDetails",
    "RateLimitError",
    "ResponseDecodeError",
    "ServerError",
    "TokenEndpointError",
    "TokenEndpointUnavailableError",
    "TokenRateLimitedError",
    "TokenResponseError",
    "TransportError",
    "TransportTimeoutError",
    "UnauthorizedClientError",
    "UnauthorizedError",
    "error_for_status",
]


class GoSmarterError(Exception):
    """The root of every exception the SDK raises on purpose."""


class ConfigurationError(GoSmarterError, ValueError):
    """Settings are missing or malformed.

    Args:
        problems: One readable line per problem, all of them at once.
    """

    def __init__(self, problems: list[str] | str) -> None:
        self.problems = [problems] if isinstance(problems, str) else list(problems)
        message = "; ".join(self.problems)
        super().__init__(f"invalid configuration: {message}")


class AuthenticationError(GoSmarterError):
    """A token could not be acquired."""


class TokenEndpointError(AuthenticationError):
    """The token endpoint answered with an OAuth error (RFC 6749 §5.2).

    These are never retried: the same request would get the same answer.

    Args:
        error: The OAuth error code, such as `invalid_client`.
        status: The HTTP status of the answer.
        error_description: The issuer's description (Entra prefixes an AADSTS code).
        error_codes: Entra's numeric error codes.
        trace_id: Entra's trace id, for a support request.
        correlation_id: Entra's correlation id, for a support request.
        hint: What the caller can do about it, when we know.
    """

    def __init__(
        self,
        error: str,
        *,
        status: int,
        error_description: str | None = None,
        error_codes: tuple[int, ...] = (),
        trace_id: str | None = None,
        correlation_id: str | None = None,
        hint: str | None = None,
    ) -> None:
        self.error = error
        self.status = status
        self.error_description = error_description
        self.error_codes = error_codes
        self.trace_id = trace_id
        self.correlation_id = correlation_id
        self.hint = hint
        parts = [f"token endpoint answered {status} {error}"]
        if error_description:
            parts.append(error_description.splitlines()[0])
        if trace_id:
            parts.append(f"trace_id={trace_id}")
        if correlation_id:
            parts.append(f"correlation_id={correlation_id}")
        message = ": ".join(parts[:2]) + "".join(f" ({p})" for p in parts[2:])
        if hint:
            message = f"{message}. Hint: {hint}"
        super().__init__(message)


class InvalidClientError(TokenEndpointError):
    """The client id or secret was rejected (`invalid_client`)."""


class UnauthorizedClientError(TokenEndpointError):
    """The client may not use this grant (`unauthorized_client`)."""


class InvalidScopeError(TokenEndpointError):
    """The scope is unknown or malformed (`invalid_scope`)."""


class TokenRateLimitedError(AuthenticationError):
    """The token endpoint throttled us; no request is sent until `retry_after` ends.

    Args:
        retry_after: Seconds until a new token request may be sent.
    """

    def __init__(self, retry_after: float) -> None:
        self.retry_after = retry_after
        super().__init__(
            f"token endpoint is rate limiting this client; retry in {retry_after:.0f} s"
        )


class TokenEndpointUnavailableError(AuthenticationError):
    """The token endpoint kept failing (5xx, 408, connection error or timeout).

    Raised after the retry policy gave up; the next `get_token` tries again.

    Args:
        message: What the last attempt ran into, without URLs' secrets or bodies.
        attempts: How many requests were sent.
        status: The HTTP status of the last answer, or None when there was none.
    """

    def __init__(self, message: str, *, attempts: int, status: int | None) -> None:
        self.attempts = attempts
        self.status = status
        super().__init__(message)


class TokenResponseError(AuthenticationError):
    """The token endpoint's answer is not a usable token.

    Args:
        message: What is wrong, without the token.
        status: The HTTP status, when there was an answer.
        body_excerpt: A short, redacted excerpt of the body.
    """

    def __init__(
        self, message: str, *, status: int | None = None, body_excerpt: str = ""
    ) -> None:
        self.status = status
        self.body_excerpt = body_excerpt
        super().__init__(message)


class TransportError(GoSmarterError):
    """The request got no answer: connection refused or reset, DNS, TLS, timeout.

    Args:
        message: What happened.
        method: The HTTP method.
        path: The path, without query.
    """

    def __init__(self, message: str, *, method: str = "", path: str = "") -> None:
        self.method = method
        self.path = path
        where = f"{method} {path}: " if method else ""
        super().__init__(f"{where}{message}")


class TransportTimeoutError(TransportError, TimeoutError):
    """The request did not finish within its timeout."""


class ConnectError(TransportError):
    """No connection could be established, so the request provably never left.

    Refused, unreachable, DNS or TLS handshake failures. Unlike other transport
    errors, retrying one is safe even for a non-idempotent operation.
    """


class ConnectTimeoutError(ConnectError, TransportTimeoutError):
    """Establishing the connection took longer than the connect timeout."""


class ClientClosedError(GoSmarterError):
    """The client (or token provider) was closed; the call did not complete."""


class ResponseDecodeError(GoSmarterError):
    """A success answer did not match the spec (bad JSON, wrong types, missing fields).

    Args:
        message: What is wrong, naming the field where known.
        status: The HTTP status.
        body: The raw body, kept for inspection (bounded by the transport).
    """

    def __init__(self, message: str, *, status: int, body: bytes = b"") -> None:
        self.status = status
        self.body = body
        super().__init__(message)


@frozen
class ProblemDetails:
    """An RFC 7807 problem details body, as the gateway sends with errors."""

    type: str | None = None
    title: str | None = None
    status: int | None = None
    detail: str | None = None
    instance: str | None = None
    request_id: str | None = None
    trace: dict[str, Any] | None = None

    @classmethod
    def from_json(cls, data: object) -> ProblemDetails | None:
        """Read problem details leniently; None when `data` is not an object."""
        if not isinstance(data, dict):
            return None

        def text(key: str) -> str | None:
            value = data.get(key)
            return value if isinstance(value, str) else None

        trace = data.get("trace")
        trace = trace if isinstance(trace, dict) else None
        request_id = trace.get("requestId") if trace else None
        status = data.get("status")
        return cls(
            type=text("type"),
            title=text("title"),
            status=status
            if isinstance(status, int) and not isinstance(status, bool)
            else None,
            detail=text("detail"),
            instance=text("instance"),
            request_id=request_id if isinstance(request_id, str) else None,
            trace=trace,
        )


class APIStatusError(GoSmarterError):
    """The gateway answered with a status the operation does not document as success.

    Args:
        method: The HTTP method.
        path: The request path, without query.
        status: The HTTP status.
        request_id: The gateway's request id (problem body or response headers).
        problem: The parsed problem details, when the body had them.
        body_excerpt: A bounded excerpt of the body.
        retry_after: Seconds the gateway asked us to wait (`Retry-After` on a 429
            or a 503, RFC 9110 §10.2.3), when it said.
    """

    def __init__(
        self,
        *,
        method: str,
        path: str,
        status: int,
        request_id: str | None = None,
        problem: ProblemDetails | None = None,
        body_excerpt: str = "",
        retry_after: float | None = None,
    ) -> None:
        self.method = method
        self.path = path
        self.status = status
        self.request_id = request_id
        self.problem = problem
        self.body_excerpt = body_excerpt
        self.retry_after = retry_after
        super().__init__(self._message())

    def _message(self) -> str:
        summary = ""
        if self.problem is not None:
            summary = self.problem.detail or self.problem.title or ""
        elif self.body_excerpt:
            summary = (
                self.body_excerpt.splitlines()[0][:200]
                if self.body_excerpt.strip()
                else ""
            )
        message = f"{self.method} {self.path} answered {self.status}"
        if summary:
            message = f"{message}: {summary}"
        if self.request_id:
            message = f"{message} (request id {self.request_id})"
        return message


class BadRequestError(APIStatusError):
    """400: the request was malformed."""


class UnauthorizedError(APIStatusError):
    """401: the token was rejected, also after one refresh and replay."""


class ForbiddenError(APIStatusError):
    """403: the token is valid but lacks access to this resource."""


class NotFoundError(APIStatusError):
    """404: no such resource."""


class ConflictError(APIStatusError):
    """409: the resource's state does not allow this (e.g. already approved)."""


class RateLimitError(APIStatusError):
    """429: the gateway asks us to slow down (see `retry_after`)."""


class ServerError(APIStatusError):
    """5xx: the gateway or something behind it failed."""


_BY_STATUS: dict[int, type[APIStatusError]] = {
    400: BadRequestError,
    401: UnauthorizedError,
    403: ForbiddenError,
    404: NotFoundError,
    409: ConflictError,
    429: RateLimitError,
}


def error_for_status(status: int) -> type[APIStatusError]:
    """Return the exception class for an HTTP error status (any code, even 520)."""
    if status >= 500:
        return ServerError
    return _BY_STATUS.get(status, APIStatusError)
