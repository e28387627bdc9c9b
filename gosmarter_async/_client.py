"""`GoSmarterClient`: settings, token provider, transport and the API resources.

The client wires the pieces together and holds no request logic of its own: the
generated resources build `RequestSpec`s, the transport sends them. Construction
does no I/O and needs no running loop; the aiohttp session is opened by the first
call and closed by `aclose()` (or `async with`).
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Mapping, Sequence
from types import TracebackType
from typing import Any, Self

from attrs import frozen

from ._clock import Clock, SystemClock
from ._config import DEFAULT_GATEWAY_URL, Settings
from ._errors import ConfigurationError
from ._generated import (
    EntitlementsResource,
    GatewayResource,
    MillCertificationsResource,
    UsersResource,
)
from ._request import CallOptions, RequestSpec
from ._retry import RetryPolicy
from ._transport import DEFAULT_MAX_CONNECTIONS, DEFAULT_TIMEOUT, AiohttpTransport
from .auth import ClientCredentialsTokenProvider, TokenProvider

__all__ = ["ClientStats", "GoSmarterClient"]

# Methods RFC 9110 §9.2.2 defines as idempotent: a replay has the same effect.
_IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE"})

QueryParams = Mapping[str, object] | Sequence[tuple[str, object]]


@frozen
class ClientStats:
    """A snapshot of a client's counters.

    Args:
        requests: HTTP requests sent to the gateway (attempts and 401 replays).
        retries: Retries scheduled after failed attempts.
        auth_replays: Replays with a fresh token after a 401.
        cool_down_waits: Times a request waited for the client-wide 429 cool-down.
        retry_budget: Units left in the client-wide retry budget.
        token_requests: Requests sent to the token endpoint, when the provider
            counts them.
    """

    requests: int
    retries: int
    auth_replays: int
    cool_down_waits: int
    retry_budget: int
    token_requests: int | None


class GoSmarterClient:
    """The asyncio client of the GoSmarter API.

    Use it as `async with GoSmarterClient.from_env() as client:`. Operations live on
    the resources `client.gateway`, `client.users`, `client.entitlements` and
    `client.mill_certifications`; `client.request` reaches any other path with the
    same auth, retries and errors.

    Args:
        settings: Credentials and the gateway URL; needed unless `token_provider`
            is given.
        token_provider: Supplies bearer tokens; by default a client credentials
            provider built from `settings`, which the client then also closes.
        base_url: The gateway URL, instead of `settings.gateway_url`.
        retry: The default retry policy of every call.
        timeout: Seconds for one attempt of a call; never unbounded.
        max_connections: The connection pool's size.
        max_concurrency: Requests in flight at once; `max_connections` by default.
        rate_limit: Requests per second, or None for no client-side pacing.
        clock: Time and sleep; the system clock by default (tests inject a fake).

    Raises:
        ConfigurationError: when neither settings nor a token provider is given,
            or the gateway URL is not https (plain http only for loopback).
    """

    def __init__(
        self,
        settings: Settings | None = None,
        *,
        token_provider: TokenProvider | None = None,
        base_url: str | None = None,
        retry: RetryPolicy | None = None,
        timeout: float = DEFAULT_TIMEOUT,
        max_connections: int = DEFAULT_MAX_CONNECTIONS,
        max_concurrency: int | None = None,
        rate_limit: float | None = None,
        clock: Clock | None = None,
    ) -> None:
        self._closed = False
        clock = clock or SystemClock()
        self._owns_provider = token_provider is None
        self._token_provider = token_provider or _provider_from(settings, clock)
        if base_url is None:
            base_url = settings.gateway_url if settings else DEFAULT_GATEWAY_URL
        self._transport = AiohttpTransport(
            base_url,
            self._token_provider,
            retry=retry or RetryPolicy(),
            timeout=timeout,
            max_connections=max_connections,
            max_concurrency=max_concurrency,
            rate_limit=rate_limit,
            clock=clock,
        )
        self.gateway = GatewayResource(self._transport)
        self.users = UsersResource(self._transport)
        self.entitlements = EntitlementsResource(self._transport)
        self.mill_certifications = MillCertificationsResource(self._transport)

    @classmethod
    def from_env(
        cls, env_file: str | os.PathLike[str] | None = ".env", **kwargs: Any
    ) -> Self:
        """A client configured from the environment and an optional dotenv file.

        Args:
            env_file: A dotenv file to read, or None for none (see
                `Settings.from_env` for the precedence of names).
            **kwargs: Any keyword-only option of the constructor.

        Returns:
            The client.

        Raises:
            ConfigurationError: naming every missing or malformed setting.
        """
        return cls(Settings.from_env(env_file), **kwargs)

    def __repr__(self) -> str:
        return f"GoSmarterClient(base_url={self._transport.base_url!r})"

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    def __del__(self, _warn: Any = warnings.warn) -> None:
        # As aiohttp's ClientSession does: an open session left to the garbage
        # collector leaks sockets, so say so where it was created.
        transport = getattr(self, "_transport", None)
        if transport is None or self._closed or not transport.session_opened:
            return
        if not transport.closed:
            _warn(
                f"unclosed {self!r}: use 'async with' or 'await client.aclose()'",
                ResourceWarning,
                source=self,
            )

    @property
    def closed(self) -> bool:
        """Whether `aclose()` was called."""
        return self._closed

    @property
    def retry_policy(self) -> RetryPolicy:
        """The default retry policy of every call (derive per-call variants from it)."""
        return self._transport.retry

    @property
    def transport(self) -> AiohttpTransport:
        """The transport every call goes through."""
        return self._transport

    @property
    def stats(self) -> ClientStats:
        """A snapshot of the client's counters."""
        counts = self._transport.stats
        return ClientStats(
            requests=counts.requests,
            retries=counts.retries,
            auth_replays=counts.auth_replays,
            cool_down_waits=counts.cool_down_waits,
            retry_budget=self._transport.budget.available,
            token_requests=_token_requests(self._token_provider),
        )

    async def aclose(self) -> None:
        """Close the transport and, if the client created it, the token provider.

        Calls still in flight end with `ClientClosedError`.
        """
        if self._closed:
            return
        self._closed = True
        try:
            await self._transport.aclose()
        finally:
            if self._owns_provider:
                await self._token_provider.aclose()

    async def request(
        self,
        method: str,
        path: str,
        *,
        params: QueryParams | None = None,
        json: object | None = None,
        idempotent: bool | None = None,
        # A per-attempt timeout: asyncio.timeout around the call would cut retries.
        timeout: float | None = None,  # noqa: ASYNC109
        retry: RetryPolicy | None = None,
    ) -> Any:
        """Call any path of the gateway, with the same auth, retries and errors.

        Args:
            method: The HTTP method.
            path: The path under the gateway URL, starting with `/`, encoded.
            params: Query parameters; values are sent as strings (booleans as
                `true`/`false`).
            json: A JSON body.
            idempotent: Whether a replay is safe, which decides what is retried;
                by default true for GET, HEAD, OPTIONS, PUT and DELETE.
            timeout: Seconds for one attempt, instead of the client's timeout.
            retry: The retry policy for this call, instead of the client's.

        Returns:
            The decoded JSON body, or None for an empty body.

        Raises:
            ValueError: when `path` does not start with `/`.
            APIStatusError: a subclass per status, when the gateway answered an error.
            TransportError: when no answer came.
        """
        if not path.startswith("/"):
            # An absolute URL here would send the bearer token to another host.
            raise ValueError(f"path must start with '/', not {path[:40]!r}")
        method = method.upper()
        if idempotent is None:
            idempotent = method in _IDEMPOTENT_METHODS
        template = path.split("?", 1)[0]
        spec: RequestSpec[Any] = RequestSpec(
            operation_id=f"{method} {template}",
            method=method,
            path_template=template,
            path=path,
            idempotent=idempotent,
            params=_query_pairs(params),
            json=json,
            ok_status=frozenset(range(200, 300)),
        )
        return await self._transport.send(spec, CallOptions(timeout, retry))


def _provider_from(settings: Settings | None, clock: Clock) -> TokenProvider:
    if settings is None:
        raise ConfigurationError(
            "pass settings or a token_provider, or use GoSmarterClient.from_env()"
        )
    return ClientCredentialsTokenProvider.from_settings(settings, clock=clock)


def _query_pairs(params: QueryParams | None) -> tuple[tuple[str, str], ...]:
    if params is None:
        return ()
    items = params.items() if isinstance(params, Mapping) else params
    return tuple((str(key), _query_value(value)) for key, value in items)


def _query_value(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _token_requests(provider: object) -> int | None:
    stats = getattr(provider, "stats", None)
    count = getattr(stats, "token_requests", None)
    return count if isinstance(count, int) else None
