"""Retry policies: the only module that imports tenacity.

One small object per decision, as tenacity composes them: whether an outcome is
retryable (the caller's predicate), how long to wait (full-jitter exponential backoff,
stretched to the server's Retry-After), and when to stop (attempts, a server wait
past the cap, a deadline on the injected clock that the next wait would cross, or an
empty client-wide retry budget).

Two pieces of state are shared by every call of a client: the `RetryBudget`, which
stops retry storms when most calls fail, and the `CoolDown`, which pauses new
requests after a 429 until its Retry-After has passed.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Awaitable, Callable, Mapping
from datetime import datetime
from email.utils import parsedate_to_datetime
from typing import TypeVar

import tenacity as _tenacity
from attrs import define, evolve, field, frozen, validators

from ._clock import Clock, SystemClock
from ._errors import (
    APIStatusError,
    ConnectError,
    TransportError,
)
from ._log import retry_log

__all__ = [
    "RETRYABLE_STATUSES",
    "CoolDown",
    "RetryBudget",
    "RetryPolicy",
    "is_retryable",
    "parse_retry_after",
    "retry_after_of",
    "retry_async",
]

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
        assume_idempotent: Retry as if the operation were idempotent, for a caller
            who knows that repeating this call has no side effect although the spec
            does not promise it (e.g. rendering a PDF of stored data).
    """

    max_attempts: int = field(default=4, validator=validators.ge(1))
    initial_backoff: float = field(default=0.25, validator=validators.ge(0))
    max_backoff: float = field(default=8.0, validator=validators.ge(0))
    deadline: float = field(default=60.0, validator=validators.gt(0))
    max_retry_after: float = field(default=60.0, validator=validators.ge(0))
    jitter: bool = True
    assume_idempotent: bool = False

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


def is_retryable(exc: BaseException, *, idempotent: bool) -> bool:
    """Whether a failed attempt may be made again.

    An idempotent request is retried after any transport failure and after the
    transient statuses (408, 429, 500, 502, 503, 504). A non-idempotent one only when
    the request provably never reached the server (a failed connection) or the
    server refused it unprocessed with 429 (RFC 6585 §4): a replay after a dropped
    connection or a 5xx could apply it twice.

    Args:
        exc: What the attempt raised.
        idempotent: Whether the operation is safe to repeat.

    Returns:
        True when another attempt is allowed.
    """
    if isinstance(exc, APIStatusError):
        if exc.status == 429:
            return True
        return idempotent and exc.status in RETRYABLE_STATUSES
    if isinstance(exc, ConnectError):
        return True
    if isinstance(exc, TransportError):
        return idempotent
    return False


def retry_after_of(exc: BaseException) -> float | None:
    """The wait the server asked for (a 429's or a 503's Retry-After), else None."""
    if isinstance(exc, APIStatusError):
        return exc.retry_after
    return None


# The AWS SDKs' standard retry quota: 500 units, 5 per retry, 10 per retry after a
# timeout, and 1 back per success (AWS SDKs and Tools reference, "Retry behavior").
# About 100 retries in a row drain it; it refills only as calls succeed again.
DEFAULT_BUDGET_CAPACITY = 500
DEFAULT_RETRY_COST = 5
DEFAULT_TIMEOUT_COST = 10
DEFAULT_SUCCESS_REFUND = 1


@define
class RetryBudget:
    """A client-wide token bucket that every retry draws from.

    When most calls fail, retries multiply the load on a struggling server; once
    the bucket is empty, failures surface at once instead of being retried. A retry
    costs `retry_cost` (`timeout_cost` after a timeout, which ties up a connection
    longer); a call that succeeds gives back what its last retry cost, or
    `success_refund` if it needed none. Single-threaded asyncio use needs no lock.

    Args:
        capacity: The most units the bucket holds; it starts full.
        retry_cost: Units a retry takes.
        timeout_cost: Units a retry after a timeout takes.
        success_refund: Units a success without retries gives back.
        logger: Where the exhausted/recovered lines go.
    """

    capacity: int = field(default=DEFAULT_BUDGET_CAPACITY, validator=validators.ge(0))
    retry_cost: int = field(default=DEFAULT_RETRY_COST, validator=validators.ge(0))
    timeout_cost: int = field(default=DEFAULT_TIMEOUT_COST, validator=validators.ge(0))
    success_refund: int = field(
        default=DEFAULT_SUCCESS_REFUND, validator=validators.ge(0)
    )
    logger: logging.Logger = field(default=retry_log, repr=False)
    _available: int = field(init=False)
    _exhausted: bool = field(default=False, init=False)

    def __attrs_post_init__(self) -> None:
        self._available = self.capacity

    @property
    def available(self) -> int:
        """Units left in the bucket."""
        return self._available

    def cost_of(self, exc: BaseException | None) -> int:
        """What a retry after `exc` costs."""
        return self.timeout_cost if isinstance(exc, TimeoutError) else self.retry_cost

    def try_acquire(self, exc: BaseException | None) -> int | None:
        """Take the cost of one retry after `exc`.

        Args:
            exc: The failure that would be retried.

        Returns:
            The units taken, or None when the bucket cannot pay (no retry).
        """
        cost = self.cost_of(exc)
        if cost > self._available:
            if not self._exhausted:
                self._exhausted = True
                self.logger.warning(
                    "retry budget exhausted (%d of %d left): failures now surface "
                    "without retry until calls succeed again",
                    self._available,
                    self.capacity,
                )
            return None
        self._available -= cost
        return cost

    def record_success(self, last_cost: int | None) -> None:
        """Refill after a successful call.

        Args:
            last_cost: What the call's last retry cost, or None if it made none.
        """
        refund = self.success_refund if last_cost is None else last_cost
        available = min(self.capacity, self._available + refund)
        if available == self._available and not self._exhausted:
            # A full bucket stays full: skip attrs' validating __setattr__, which
            # every successful call would otherwise pay (issue 5).
            return
        self._available = available
        # Re-arm the warning only once the bucket has clearly recovered, so that a
        # trickle of successes during an outage does not repeat it on every call.
        if self._exhausted and self._available * 2 >= self.capacity:
            self._exhausted = False
            self.logger.info("retry budget recovered (%d left)", self._available)


@define
class CoolDown:
    """A client-wide pause after a 429, until its Retry-After has passed.

    Without it, every coroutine of a busy client would keep sending into a server
    that already said "not now" (RFC 6585 §4). Concurrent 429s extend the pause to
    the latest deadline they asked for; it never shrinks.

    Args:
        clock: The clock deadlines are measured on.
    """

    clock: Clock = field(factory=SystemClock)
    _until: float = field(default=float("-inf"), init=False)

    def extend(self, seconds: float) -> None:
        """Pause new requests for `seconds` from now, unless already paused longer."""
        self._until = max(self._until, self.clock.monotonic() + seconds)

    def remaining(self) -> float:
        """Seconds left in the pause; 0 when requests may go."""
        return max(0.0, self._until - self.clock.monotonic())

    async def wait(
        self, sleep: Callable[[float], Awaitable[None]] | None = None
    ) -> None:
        """Return once the pause is over, including extensions made meanwhile.

        Args:
            sleep: How to wait; the clock's sleep by default.
        """
        sleep = sleep or self.clock.sleep
        while (left := self.remaining()) > 0:
            await sleep(left)


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


@define
class _Stop:
    """When to stop; the budget is asked last, as asking spends it."""

    policy: RetryPolicy
    clock: Clock
    started: float
    retry_after: Callable[[BaseException], float | None]
    budget: RetryBudget | None
    logger: logging.Logger
    describe: str
    last_cost: int | None = None

    def __call__(self, state: _tenacity.RetryCallState) -> bool:
        if state.attempt_number >= self.policy.max_attempts:
            return True
        exc = state.outcome.exception() if state.outcome else None
        asked = self.retry_after(exc) if exc is not None else None
        if asked is not None and asked > self.policy.max_retry_after:
            self._give_up("the server asks to wait %.1f s, more than the cap", asked)
            return True
        elapsed = self.clock.monotonic() - self.started
        if elapsed + state.upcoming_sleep > self.policy.deadline:
            self._give_up(
                "waiting %.1f s would pass the deadline", state.upcoming_sleep
            )
            return True
        if self.budget is not None:
            cost = self.budget.try_acquire(exc)
            if cost is None:
                return True
            self.last_cost = cost
        return False

    def _give_up(self, reason: str, seconds: float) -> None:
        self.logger.info("not retrying %s: " + reason, self.describe, seconds)


async def retry_async(
    fn: Callable[[], Awaitable[T]],
    *,
    policy: RetryPolicy,
    retryable: Callable[[BaseException], bool],
    retry_after: Callable[[BaseException], float | None] = lambda exc: None,
    clock: Clock | None = None,
    describe: str = "call",
    logger: logging.Logger = retry_log,
    budget: RetryBudget | None = None,
    sleep: Callable[[float], Awaitable[None]] | None = None,
    on_retry: Callable[[], None] | None = None,
) -> T:
    """Run `fn` under `policy`, re-raising the last exception when it stops.

    The first attempt runs directly: most calls succeed at once, and building
    tenacity's machinery for them cost about 75 µs per call (issue 5's profile).
    Only a retryable failure enters the retry loop, which then counts that
    failure as its attempt 1, so waits, stops, the budget and the log lines are
    the same as if the loop had run from the start.

    Args:
        fn: The attempt; called once per attempt.
        policy: Attempts, backoff and deadline.
        retryable: Whether an exception from an attempt may be retried.
        retry_after: The server-requested wait carried by an exception, if any.
        clock: Time and sleep; the system clock by default.
        describe: What is being retried, for the INFO line per scheduled retry.
        logger: Where the INFO line per scheduled retry goes.
        budget: The client-wide retry budget each retry draws from, if any.
        sleep: How to wait between attempts; the clock's sleep by default.
        on_retry: Called once per scheduled retry (for statistics).

    Returns:
        The first successful attempt's result.
    """
    clock = clock or SystemClock()
    started = clock.monotonic()
    try:
        result = await fn()
    except BaseException as exc:
        # tenacity, too, sees every BaseException and lets the predicate decide.
        if policy.max_attempts <= 1 or not retryable(exc):
            raise
        first_failure = exc
    else:
        if budget is not None:
            budget.record_success(None)
        return result
    stop = _Stop(policy, clock, started, retry_after, budget, logger, describe)
    retrying = _tenacity.AsyncRetrying(
        retry=_tenacity.retry_if_exception(retryable),
        wait=_Wait(policy, retry_after),
        stop=stop,
        sleep=sleep or clock.sleep,
        before_sleep=_BeforeSleep(logger, describe, on_retry),
        reraise=True,
    )
    pending = [first_failure]

    async def attempt() -> T:
        # Attempt 1 already ran: hand its failure to tenacity as the outcome.
        if pending:
            raise pending.pop()
        return await fn()

    result = await retrying(attempt)
    if budget is not None:
        budget.record_success(stop.last_cost)
    return result


@frozen
class _BeforeSleep:
    """The INFO line (and the statistics hook) per scheduled retry."""

    logger: logging.Logger
    describe: str
    on_retry: Callable[[], None] | None

    def __call__(self, state: _tenacity.RetryCallState) -> None:
        exc = state.outcome.exception() if state.outcome else None
        self.logger.info(
            "retrying %s in %.2f s after attempt %d: %s",
            self.describe,
            state.upcoming_sleep,
            state.attempt_number,
            type(exc).__name__ if exc else "no result",
        )
        if self.on_retry is not None:
            self.on_retry()
