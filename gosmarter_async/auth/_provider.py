"""The client credentials token provider: one refresh for any number of callers."""

from __future__ import annotations

import asyncio
import functools
import logging
import math
import random
from types import TracebackType
from typing import TYPE_CHECKING, Any, Protocol, Self

import aiohttp
from attrs import Factory, define, field, frozen, setters, validators

from .._clock import Clock, SystemClock
from .._config import check_url
from .._errors import (
    ClientClosedError,
    ConfigurationError,
    GoSmarterError,
    TokenEndpointUnavailableError,
    TokenRateLimitedError,
    TokenResponseError,
)
from .._log import auth_log, redact_url
from .._retry import RetryPolicy, retry_async
from ._cache import CacheKey, InMemoryTokenCache, TokenCache
from ._endpoint import RateLimited, TokenRequest, TransientTokenFailure, request_token
from ._token import AccessToken

if TYPE_CHECKING:
    from .._config import Settings

__all__ = [
    "BearerToken",
    "ClientCredentialsTokenProvider",
    "TokenProvider",
    "TokenStats",
]

# Refresh ahead this long before expiry: Entra's tokens live 60-90 minutes, and five
# minutes leaves room for several retried attempts before the hard margin.
DEFAULT_SOFT_WINDOW = 300.0

# Tokens living this long or more are refreshed from half their lifetime instead.
LONG_LIFETIME = 2 * 3600.0

# Refresh-ahead moments are spread up to this fraction earlier, so that many
# processes started together do not refresh together.
SOFT_JITTER = 0.1

# A 429 without Retry-After: Entra's throttling answers ask for 60 s.
DEFAULT_RATE_LIMIT_WAIT = 60.0

# Bounds of an honoured Retry-After: at least a second so that a "0" cannot start a
# tight loop, at most an hour so that a bogus date cannot lock the client out.
MIN_RATE_LIMIT_WAIT = 1.0
MAX_RATE_LIMIT_WAIT = 3600.0


class BearerToken(Protocol):
    """What the transport needs of an access token: its value.

    `AccessToken` is one; a custom provider may return any object with `value`.
    """

    @property
    def value(self) -> str:
        """The token itself; a secret."""
        ...


class TokenProvider(Protocol):
    """What the client needs from a source of bearer tokens.

    `ClientCredentialsTokenProvider` implements it; pass another implementation to
    `GoSmarterClient(token_provider=...)` to get tokens some other way.
    """

    async def get_token(self, *, force_refresh: bool = False) -> BearerToken:
        """A token valid for at least the provider's hard margin."""
        ...

    async def invalidate(self, token: Any) -> None:
        """Forget `token` (the API rejected it) if it is still the current one."""
        ...

    async def aclose(self) -> None:
        """Stop background work; later `get_token` calls raise."""
        ...


@frozen
class TokenStats:
    """A snapshot of a provider's counters.

    Args:
        token_requests: HTTP requests sent to the token endpoint, retries included.
        refreshes: New tokens obtained.
        failures: Refreshes that ended in an error, after any retries.
    """

    token_requests: int = 0
    refreshes: int = 0
    failures: int = 0


@define
class _Counters:
    token_requests: int = 0
    refreshes: int = 0
    failures: int = 0


@define
class _LoopState:
    """What belongs to one event loop: the in-flight refresh, if any.

    `waiters` are the futures of the callers waiting for that refresh; its done
    callback settles them all at once.
    """

    loop: asyncio.AbstractEventLoop
    refresh: asyncio.Task[AccessToken] | None = None
    waiters: list[asyncio.Future[AccessToken]] = field(factory=list)


def _clock_or_system(clock: Clock | None) -> Clock:
    return SystemClock() if clock is None else clock


def _cache_or_memory(cache: TokenCache | None) -> TokenCache:
    return InMemoryTokenCache() if cache is None else cache


def _retry_or_default(retry: RetryPolicy | None) -> RetryPolicy:
    return RetryPolicy() if retry is None else retry


def _check_token_url(_: object, __: object, url: str) -> None:
    problem = check_url(url, "token_url")
    if problem:
        raise ConfigurationError(problem)


def _check_not_blank(_: object, attribute: Any, value: str) -> None:
    if not value.strip():
        raise ConfigurationError(f"{attribute.name} is empty")


@define
class ClientCredentialsTokenProvider:
    """Bearer tokens from an OAuth 2.0 client credentials grant (RFC 6749 §4.4).

    The refresh contract:

    - Single flight: concurrent callers share one request. A caller cancelled while
      waiting leaves it running for the others; a failure reaches every caller
      waiting for it and is then forgotten, so the next call sends a new request.
    - Refresh ahead: within `soft_window` of expiry (jittered up to 10% earlier),
      callers get the current token at once while one background refresh runs. If
      it fails (a WARNING is logged) the current token keeps being served and the
      next background attempt waits `soft_retry_interval`; the same wait applies
      when the issuer hands back the same token.
    - Hard margin: within `hard_margin` of expiry a token is never handed out;
      callers wait for a refresh or get its error.
    - Rate limiting: after a 429, no request is sent until its Retry-After passes;
      callers get `TokenRateLimitedError` unless a token outside the hard margin is
      still at hand.
    - Any event loop: nothing asyncio is created until a call, and the in-flight
      refresh belongs to the loop it was started on; a call on another loop starts
      afresh. The provider serves one loop at a time.

    Args:
        token_url: The token endpoint; https, or http for loopback hosts only.
        client_id: The application (client) id.
        client_secret: The client secret; sent only in the token request's body.
        scope: The scope to request, `<resource>/.default` for Entra.
        session: An aiohttp session to send token requests with, used as-is and
            never closed here; without one, each request opens its own.
        clock: Time and sleep; the system clock by default.
        cache: Where tokens are kept; in this process's memory by default.
        retry: How 5xx, 408 and connection failures are retried.
        soft_window: Seconds before expiry to refresh ahead; by default 300, or half
            the lifetime for tokens of 2 hours or more. Never more than half the
            lifetime.
        hard_margin: Seconds before expiry from which a token is not handed out;
            at most a quarter of the token's lifetime, for short-lived tokens.
        soft_retry_interval: Least seconds between two background refreshes.
        request_timeout: Seconds one token request may take.
        default_lifetime: Seconds a token is assumed valid when the answer has no
            `expires_in` and the token is not a JWT with `exp`.

    Raises:
        ConfigurationError: for a plain http:// URL to a non-loopback host, or an
            empty client id, secret or scope.
    """

    # Frozen after construction: the cache key below is derived from them once.
    token_url: str = field(validator=_check_token_url, on_setattr=setters.frozen)
    client_id: str = field(validator=_check_not_blank, on_setattr=setters.frozen)
    client_secret: str = field(repr=False, validator=_check_not_blank)
    scope: str = field(validator=_check_not_blank, on_setattr=setters.frozen)
    session: aiohttp.ClientSession | None = field(
        default=None, kw_only=True, repr=False
    )
    clock: Clock = field(default=None, converter=_clock_or_system, kw_only=True)
    cache: TokenCache = field(
        default=None, converter=_cache_or_memory, kw_only=True, repr=False
    )
    retry: RetryPolicy = field(default=None, converter=_retry_or_default, kw_only=True)
    soft_window: float | None = field(
        default=None,
        kw_only=True,
        validator=validators.optional(validators.gt(0)),
    )
    hard_margin: float = field(default=60.0, kw_only=True, validator=validators.ge(0))
    soft_retry_interval: float = field(
        default=30.0, kw_only=True, validator=validators.ge(0)
    )
    request_timeout: float = field(
        default=30.0, kw_only=True, validator=validators.gt(0)
    )
    default_lifetime: float = field(
        default=600.0, kw_only=True, validator=validators.gt(0)
    )
    _state: _LoopState | None = field(init=False, default=None, repr=False)
    _counters: _Counters = field(init=False, factory=_Counters, repr=False)
    _cooldown_until: float = field(init=False, default=-math.inf, repr=False)
    _next_soft_attempt: float = field(init=False, default=-math.inf, repr=False)
    _jitter: tuple[str, float] = field(init=False, default=("", 0.0), repr=False)
    _closed: bool = field(init=False, default=False, repr=False)
    _key: CacheKey = field(
        init=False,
        default=Factory(
            lambda self: CacheKey(self.token_url, self.client_id, self.scope),
            takes_self=True,
        ),
        repr=False,
    )

    @classmethod
    def from_settings(cls, settings: Settings, **kwargs: Any) -> Self:
        """A provider for the token URL, client and scope of `settings`.

        Args:
            settings: Where and how to authenticate.
            **kwargs: Any keyword-only option of the constructor.

        Returns:
            The provider.
        """
        return cls(
            settings.token_url,
            settings.client_id,
            settings.client_secret,
            settings.scope,
            **kwargs,
        )

    @property
    def cache_key(self) -> CacheKey:
        """The key this provider's tokens are cached under."""
        return self._key

    @property
    def stats(self) -> TokenStats:
        """A snapshot of the counters: token requests, refreshes, failures."""
        c = self._counters
        return TokenStats(c.token_requests, c.refreshes, c.failures)

    async def get_token(self, *, force_refresh: bool = False) -> AccessToken:
        """A token valid for at least the hard margin.

        Args:
            force_refresh: Request a new token even if the cached one is valid
                (joining a refresh already in flight).

        Returns:
            The token.

        Raises:
            AuthenticationError: the token could not be acquired; a subclass says
                why (`TokenEndpointError`, `TokenRateLimitedError`,
                `TokenEndpointUnavailableError`, `TokenResponseError`).
            ClientClosedError: the provider was closed.
        """
        state = self._enter()
        if not force_refresh:
            token = await self.cache.get(self._key)
            if token is not None and self._servable(token, state):
                return token
        task = state.refresh
        if task is None or task.done():
            self._raise_if_cooling_down()
            task = self._start_refresh(state, background=False)
        # Each caller waits on a future of its own, not on the shared task: a
        # caller cancelled (or timed out) stops waiting, but the request carries on
        # for everyone else. One callback settles every waiter; asyncio.shield
        # would cost each caller a future, two closures and two more loop
        # callbacks, which is what a stampede of 10,000 callers pays for (issue 5).
        waiter: asyncio.Future[AccessToken] = state.loop.create_future()
        state.waiters.append(waiter)
        try:
            return await waiter
        except asyncio.CancelledError:
            current = asyncio.current_task()
            mine = current is not None and current.cancelling() > 0
            if task.cancelled() and self._closed and not mine:
                raise ClientClosedError(
                    "the token provider was closed while a token was awaited"
                ) from None
            raise

    async def invalidate(self, token: AccessToken) -> None:
        """Forget `token` if it is still the cached one (compared by value).

        After a 401, every caller that used the same token can invalidate it: only
        the first drops it, so the next `get_token` calls share one refresh.

        Args:
            token: The token the API rejected.
        """
        await self.cache.delete(self._key, token)
        auth_log.debug("token %s invalidated", token.fingerprint)

    async def aclose(self) -> None:
        """Cancel a refresh in flight; later `get_token` calls raise.

        An injected session is left open: its owner closes it.
        """
        if self._closed:
            return
        self._closed = True
        state, self._state = self._state, None
        task = state.refresh if state is not None else None
        if state is None or task is None or task.done():
            return
        if state.loop is not asyncio.get_running_loop():
            # A task of another loop cannot be cancelled from here (nor awaited);
            # asyncio.run() cancelled it when that loop ended.
            return
        task.cancel()
        await asyncio.wait({task})

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    def _enter(self) -> _LoopState:
        if self._closed:
            raise ClientClosedError("the token provider is closed")
        loop = asyncio.get_running_loop()
        state = self._state
        if state is None or state.loop is not loop:
            # The previous loop's refresh task (if any) died with that loop; the
            # cached token is plain data and stays usable.
            state = _LoopState(loop)
            self._state = state
        return state

    def _servable(self, token: AccessToken, state: _LoopState) -> bool:
        left = token.expires_in(self.clock)
        hard, soft = self._margins(token)
        if left <= hard:
            auth_log.debug(
                "cached token %s expires in %.0f s, inside the hard margin",
                token.fingerprint,
                left,
            )
            return False
        if left <= soft:
            self._refresh_ahead(state, token, left)
        # Guarded: this line is on every call's path, and building a log record
        # costs even when nothing handles it (issue 5).
        if auth_log.isEnabledFor(logging.DEBUG):
            auth_log.debug(
                "token cache hit: %s, expires in %.0f s", token.fingerprint, left
            )
        return True

    def _margins(self, token: AccessToken) -> tuple[float, float]:
        lifetime = token.lifetime
        hard = min(self.hard_margin, lifetime / 4)
        soft = self.soft_window
        if soft is None:
            soft = lifetime / 2 if lifetime >= LONG_LIFETIME else DEFAULT_SOFT_WINDOW
        # Past half the lifetime, refreshing ahead would mean refreshing constantly.
        soft = max(min(soft, lifetime / 2), hard)
        return hard, soft * (1 + self._jitter_for(token))

    def _jitter_for(self, token: AccessToken) -> float:
        # One draw per token, so the refresh moment does not move from call to call.
        name, fraction = self._jitter
        if name != token.fingerprint:
            fraction = random.uniform(0.0, SOFT_JITTER)  # noqa: S311 (not crypto)
            self._jitter = (token.fingerprint, fraction)
        return fraction

    def _refresh_ahead(
        self, state: _LoopState, token: AccessToken, left: float
    ) -> None:
        now = self.clock.monotonic()
        if state.refresh is not None and not state.refresh.done():
            return
        if now < self._next_soft_attempt or now < self._cooldown_until:
            return
        self._next_soft_attempt = now + self.soft_retry_interval
        auth_log.debug(
            "token %s expires in %.0f s; refreshing in the background",
            token.fingerprint,
            left,
        )
        self._start_refresh(state, background=True)

    def _raise_if_cooling_down(self) -> None:
        left = self._cooldown_until - self.clock.monotonic()
        if left > 0:
            auth_log.debug("token endpoint rate limit: %.0f s left", left)
            raise TokenRateLimitedError(retry_after=left)

    def _start_refresh(
        self, state: _LoopState, *, background: bool
    ) -> asyncio.Task[AccessToken]:
        task = state.loop.create_task(
            self._refresh(background=background), name="gosmarter-token-refresh"
        )
        waiters: list[asyncio.Future[AccessToken]] = []
        task.add_done_callback(
            functools.partial(self._refresh_done, state, background, waiters)
        )
        state.refresh, state.waiters = task, waiters
        return task

    def _refresh_done(
        self,
        state: _LoopState,
        background: bool,
        waiters: list[asyncio.Future[AccessToken]],
        task: asyncio.Task[AccessToken],
    ) -> None:
        if state.refresh is task:
            state.refresh = None
        _settle(waiters, task)
        if task.cancelled():
            return
        # Retrieving the exception here means asyncio never reports it as "never
        # retrieved" when no caller was waiting (a background refresh).
        exc = task.exception()
        if exc is not None and background:
            auth_log.warning(
                "background token refresh failed; serving the current token while "
                "it is valid, next attempt in %.0f s or more: %s",
                self.soft_retry_interval,
                exc if isinstance(exc, GoSmarterError) else type(exc).__name__,
            )

    async def _refresh(self, *, background: bool) -> AccessToken:
        sent_before = self._counters.token_requests
        held = await self.cache.get(self._key)
        # A server echoing our request back must not put the held token in an error.
        mask = (held.value,) if held is not None else ()
        try:
            token = await retry_async(
                functools.partial(self._attempt, mask),
                policy=self.retry,
                retryable=lambda exc: isinstance(exc, TransientTokenFailure),
                clock=self.clock,
                describe="token request",
                logger=auth_log,
            )
            token = token if held is None else token.reissue_of(held)
            self._check_fresh(token)
        except RateLimited as exc:
            self._counters.failures += 1
            raise self._start_cooldown(exc.retry_after) from None
        except TransientTokenFailure as exc:
            self._counters.failures += 1
            attempts = self._counters.token_requests - sent_before
            raise TokenEndpointUnavailableError(
                f"token endpoint unavailable after {attempts} attempt(s): {exc.reason}",
                attempts=attempts,
                status=exc.status,
            ) from None
        except Exception:
            self._counters.failures += 1
            raise
        await self.cache.set(self._key, token)
        self._counters.refreshes += 1
        auth_log.info(
            "token refreshed (%s): %s, expires in %.0f s",
            "ahead of expiry" if background else "on demand",
            token.fingerprint,
            token.expires_in(self.clock),
        )
        return token

    async def _attempt(self, mask: tuple[str, ...]) -> AccessToken:
        self._counters.token_requests += 1
        request = TokenRequest(
            self.token_url,
            self.client_id,
            self.client_secret,
            self.scope,
            self.request_timeout,
        )
        return await request_token(
            request,
            session=self.session,
            clock=self.clock,
            default_lifetime=self.default_lifetime,
            mask=mask,
        )

    def _check_fresh(self, token: AccessToken) -> None:
        # A slow answer about a short-lived token, or an issuer handing back the
        # token it gave before, can land inside the hard margin: serving it would
        # break the hard-margin promise.
        # TODO(same-token-hard-margin): such an issuer then gets one request per
        # caller wave until the token expires; a throttle like the soft window's
        # would spare it, at the price of failing callers for its duration.
        left = token.expires_in(self.clock)
        hard, _ = self._margins(token)
        if left <= hard:
            raise TokenResponseError(
                f"token endpoint issued a token that expires in {left:.0f} s"
            )

    def _start_cooldown(self, asked: float | None) -> TokenRateLimitedError:
        wait = DEFAULT_RATE_LIMIT_WAIT if asked is None else asked
        wait = min(max(wait, MIN_RATE_LIMIT_WAIT), MAX_RATE_LIMIT_WAIT)
        self._cooldown_until = self.clock.monotonic() + wait
        auth_log.info(
            "token endpoint %s is rate limiting; no token request for %.0f s",
            redact_url(self.token_url),
            wait,
        )
        return TokenRateLimitedError(retry_after=wait)


def _settle(
    waiters: list[asyncio.Future[AccessToken]], task: asyncio.Task[AccessToken]
) -> None:
    """Hand a finished refresh's outcome to every caller still waiting for it."""
    pending = [waiter for waiter in waiters if not waiter.done()]
    waiters.clear()
    # A caller cancelled meanwhile (its waiter is done) has stopped waiting.
    if task.cancelled():
        for waiter in pending:
            waiter.cancel()
        return
    exc = task.exception()
    if exc is not None:
        for waiter in pending:
            waiter.set_exception(exc)
        return
    token = task.result()
    for waiter in pending:
        waiter.set_result(token)
