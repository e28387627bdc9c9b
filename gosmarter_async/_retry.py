"""Retry policies: the only module that imports tenacity.

One small object per decision, as tenacity composes them: whether an outcome is
retryable (the caller's predicate), how long to wait (full-jitter exponential backoff,
stretched to the server's Retry-After), and when to stop (attempts, or a deadline on
the injected clock that the next wait would cross).
"""

from __future__ import annotations

import logging
import random
from collections.abc import Awaitable, Callable, Mapping
from datetime import datetime
from email.utils import parsedate_to_datetime
from typing import TypeVar

import tenacity as _tenacity
from attrs import evolve, field, frozen, validators

from ._clock import Clock, SystemClock
from ._log import retry_log

__all__ = ["RetryPolicy", "parse_retry_after", "retry_async"]

T = TypeVar("T")

# Statuses worth another attempt on an idempotent request: the server or a proxy
# says the failure is transient (RFC 9110 §15.5.9, §15.6.3-5; RFC 6585 §4).
RETRYABLE_STATUSES = frozenset({408, 429, 500, 502, 503, 504})


@frozen(kw_only=True)
class RetryPolicy:
    """How a call is retried. Frozen: derive variants with `attrs.evolve`.

    Args:
        max_attempts: Attempts in all, the first included.
        initial_backoff: The cap of the first wait, in seconds; each later cap doubles.
        max_backoff: The largest backoff cap, in seconds.
        deadline: Seconds from the first attempt after which no retry starts. A retry
            whose wait would end past the deadline is not made.
        max_retry_after: The longest server-requested wait we honour; a longer
            Retry-After fails the call at once instead of hanging.
        jitter: Full jitter (a uniform wait between 0 and the cap), which spreads
            retries of many clients apart; off only for predictable tests.
    """

    max_attempts: int = field(default=4, validator=validators.ge(1))
    initial_backoff: float = field(default=0.25, validator=validators.ge(0))
    max_backoff: float = field(default=8.0, validator=validators.ge(0))
    deadline: float = field(default=60.0, validator=validators.gt(0))
    max_retry_after: float = field(default=60.0, validator=validators.ge(0))
    jitter: bool = True

    @classmethod
    def disabled(cls) -> RetryPolicy:
        """A policy that makes exactly one attempt."""
        return cls(max_attempts=1)

    def without_waits(self) -> RetryPolicy:
        """The same policy with every backoff removed, for tests."""
        return evolve(self, initial_backoff=0.0, max_backoff=0.0)

    def backoff(self, attempt: int, rng: random.Random | None = None) -> float:
        """The wait after failed attempt number `attempt` (1-based)."""
        cap = min(self.max_backoff, self.initial_backoff * 2.0 ** (attempt - 1))
        if not self.jitter:
            return cap
        uniform = rng.uniform if rng is not None else random.uniform
        return float(uniform(0.0, cap))


def parse_retry_after(headers: Mapping[str, str], now: datetime) -> float | None:
    """Seconds a server asked us to wait, or None if it did not say (or said nonsense).

    Reads `retry-after-ms` (milliseconds, as Azure services send it) first, then
    `Retry-After` as delay-seconds or an HTTP-date (RFC 9110 §10.2.3). A date in the
    past means "now" (0). Negative or non-finite values are ignored.
    """
    ms = _header(headers, "retry-after-ms")
    if ms is not None:
        try:
            value = float(ms)
        except ValueError:
            value = -1.0
        if 0 <= value < float("inf"):
            return value / 1000.0
    raw = _header(headers, "retry-after")
    if raw is None:
        return None
    raw = raw.strip()
    if raw.isdigit():
        return float(raw)
    try:
        when = parsedate_to_datetime(raw)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    if when.tzinfo is None:
        return None
    return max(0.0, (when - now).total_seconds())


def _header(headers: Mapping[str, str], name: str) -> str | None:
    value = headers.get(name)
    if value is None:
        value = next((v for k, v in headers.items() if k.lower() == name), None)
    return value


@frozen
class _Wait:
    policy: RetryPolicy
    retry_after: Callable[[BaseException], float | None]

    def __call__(self, state: _tenacity.RetryCallState) -> float:
        exc = state.outcome.exception() if state.outcome else None
        wait = self.policy.backoff(state.attempt_number)
        asked = self.retry_after(exc) if exc is not None else None
        if asked is not None:
            wait = max(wait, asked)
        return wait


@frozen
class _Stop:
    policy: RetryPolicy
    clock: Clock
    started: float
    retry_after: Callable[[BaseException], float | None]

    def __call__(self, state: _tenacity.RetryCallState) -> bool:
        if state.attempt_number >= self.policy.max_attempts:
            return True
        exc = state.outcome.exception() if state.outcome else None
        asked = self.retry_after(exc) if exc is not None else None
        if asked is not None and asked > self.policy.max_retry_after:
            return True
        elapsed = self.clock.monotonic() - self.started
        return elapsed + state.upcoming_sleep > self.policy.deadline


async def retry_async(
    fn: Callable[[], Awaitable[T]],
    *,
    policy: RetryPolicy,
    retryable: Callable[[BaseException], bool],
    retry_after: Callable[[BaseException], float | None] = lambda exc: None,
    clock: Clock | None = None,
    describe: str = "call",
    logger: logging.Logger = retry_log,
) -> T:
    """Run `fn` under `policy`, re-raising the last exception when it stops.

    Args:
        fn: The attempt; called once per attempt.
        policy: Attempts, backoff and deadline.
        retryable: Whether an exception from an attempt may be retried.
        retry_after: The server-requested wait carried by an exception, if any.
        clock: Time and sleep; the system clock by default.
        describe: What is being retried, for the INFO line per scheduled retry.
        logger: Where the INFO line per scheduled retry goes.

    Returns:
        The first successful attempt's result.
    """
    clock = clock or SystemClock()

    def before_sleep(state: _tenacity.RetryCallState) -> None:
        exc = state.outcome.exception() if state.outcome else None
        logger.info(
            "retrying %s in %.2f s after attempt %d: %s",
            describe,
            state.upcoming_sleep,
            state.attempt_number,
            type(exc).__name__ if exc else "no result",
        )

    retrying = _tenacity.AsyncRetrying(
        retry=_tenacity.retry_if_exception(retryable),
        wait=_Wait(policy, retry_after),
        stop=_Stop(policy, clock, clock.monotonic(), retry_after),
        sleep=clock.sleep,
        before_sleep=before_sleep,
        reraise=True,
    )
    return await retrying(fn)
