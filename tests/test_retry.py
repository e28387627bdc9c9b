from __future__ import annotations

import logging
from datetime import timedelta
from email.utils import format_datetime

import pytest

from gosmarter_async._errors import (
    APIStatusError,
    ConnectError,
    ConnectTimeoutError,
    RateLimitError,
    ServerError,
    TransportError,
    TransportTimeoutError,
    UnauthorizedError,
    error_for_status,
)
from gosmarter_async._retry import (
    CoolDown,
    RetryBudget,
    RetryPolicy,
    is_retryable,
    parse_retry_after,
    retry_after_of,
    retry_async,
)
from tests.clock import FakeClock


def status_error(status: int) -> APIStatusError:
    return error_for_status(status)(method="GET", path="/x", status=status)


def rate_limited(retry_after: float | None) -> RateLimitError:
    return RateLimitError(method="GET", path="/x", status=429, retry_after=retry_after)


class Failing:
    """An attempt that raises the given errors in order, then returns "ok"."""

    def __init__(self, *errors: BaseException) -> None:
        self.errors = list(errors)
        self.calls = 0

    async def __call__(self) -> str:
        self.calls += 1
        if self.errors:
            raise self.errors.pop(0)
        return "ok"


# -- what is retryable ----------------------------------------------------------


@pytest.mark.parametrize("status", [408, 429, 500, 502, 503, 504])
def test_is_retryable_idempotent_retries_transient_statuses(status: int) -> None:
    assert is_retryable(status_error(status), idempotent=True)


@pytest.mark.parametrize("status", [400, 401, 403, 404, 409, 501, 520])
def test_is_retryable_never_retries_other_statuses(status: int) -> None:
    assert not is_retryable(status_error(status), idempotent=True)


@pytest.mark.parametrize("status", [408, 500, 502, 503, 504])
def test_is_retryable_non_idempotent_not_retried_on_5xx(status: int) -> None:
    assert not is_retryable(status_error(status), idempotent=False)


def test_is_retryable_non_idempotent_retried_on_429() -> None:
    assert is_retryable(rate_limited(1.0), idempotent=False)


@pytest.mark.parametrize(
    "error",
    [
        ConnectError("refused", method="POST", path="/x"),
        ConnectTimeoutError("slow", method="POST", path="/x"),
    ],
)
def test_is_retryable_non_idempotent_retried_when_never_sent(
    error: TransportError,
) -> None:
    assert is_retryable(error, idempotent=False)


@pytest.mark.parametrize(
    "error",
    [
        TransportError("reset", method="POST", path="/x"),
        TransportTimeoutError("slow", method="POST", path="/x"),
    ],
)
def test_is_retryable_non_idempotent_not_retried_once_maybe_sent(
    error: TransportError,
) -> None:
    assert not is_retryable(error, idempotent=False)
    assert is_retryable(error, idempotent=True)


def test_is_retryable_unknown_exceptions_are_not_retried() -> None:
    assert not is_retryable(ValueError("bug"), idempotent=True)
    assert not is_retryable(
        UnauthorizedError(method="GET", path="/", status=401), idempotent=True
    )


def test_retry_after_of_reads_rate_limit_errors_only() -> None:
    assert retry_after_of(rate_limited(7.0)) == 7.0
    assert retry_after_of(status_error(503)) is None


# -- Retry-After forms ------------------------------------------------------------


def test_parse_retry_after_seconds(clock: FakeClock) -> None:
    assert parse_retry_after({"Retry-After": "12"}, clock.now()) == 12.0


def test_parse_retry_after_http_date(clock: FakeClock) -> None:
    when = format_datetime(clock.now() + timedelta(seconds=7), usegmt=True)

    assert parse_retry_after({"Retry-After": when}, clock.now()) == 7.0


def test_parse_retry_after_ms_wins(clock: FakeClock) -> None:
    headers = {"retry-after-ms": "1500", "Retry-After": "9"}

    assert parse_retry_after(headers, clock.now()) == 1.5


@pytest.mark.parametrize("value", ["soon", "-3", ""])
def test_parse_retry_after_ignores_nonsense(clock: FakeClock, value: str) -> None:
    assert parse_retry_after({"Retry-After": value}, clock.now()) is None


# -- the budget -------------------------------------------------------------------


def test_retry_budget_charges_more_for_timeouts() -> None:
    budget = RetryBudget(capacity=20)

    taken = budget.try_acquire(TransportTimeoutError("slow"))
    taken_after_5xx = budget.try_acquire(status_error(503))

    assert (10, 5, 5) == (taken, taken_after_5xx, budget.available)


def test_retry_budget_refuses_when_empty_and_warns_once(
    caplog: pytest.LogCaptureFixture,
) -> None:
    budget = RetryBudget(capacity=5)
    budget.try_acquire(None)

    first = budget.try_acquire(None)
    second = budget.try_acquire(None)

    assert (None, None) == (first, second)
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert 1 == len(warnings)
    assert "retry budget exhausted" in warnings[0].getMessage()


def test_retry_budget_success_refunds_last_retry_or_one() -> None:
    budget = RetryBudget(capacity=100)
    budget.try_acquire(None)
    budget.try_acquire(None)

    budget.record_success(5)
    after_retried_success = budget.available
    budget.record_success(None)

    assert (95, 96) == (after_retried_success, budget.available)


def test_retry_budget_never_exceeds_capacity() -> None:
    budget = RetryBudget(capacity=10)

    budget.record_success(None)

    assert 10 == budget.available


async def test_retry_async_stops_retrying_when_budget_is_empty(
    clock: FakeClock,
) -> None:
    budget = RetryBudget(capacity=10, retry_cost=5)
    policy = RetryPolicy(max_attempts=10)
    errors = [status_error(503) for _ in range(20)]
    first, second = Failing(*errors), Failing(*errors)

    with pytest.raises(ServerError):
        await retry_async(
            first, policy=policy, retryable=lambda e: True, clock=clock, budget=budget
        )
    with pytest.raises(ServerError):
        await retry_async(
            second, policy=policy, retryable=lambda e: True, clock=clock, budget=budget
        )

    assert (3, 1, 0) == (first.calls, second.calls, budget.available)


async def test_retry_async_successes_refill_the_budget(clock: FakeClock) -> None:
    budget = RetryBudget(capacity=10, retry_cost=5)
    policy = RetryPolicy(max_attempts=3)
    await _drain(budget, policy, clock)

    for _ in range(5):
        await retry_async(
            Failing(),
            policy=policy,
            retryable=lambda e: True,
            clock=clock,
            budget=budget,
        )
    again = Failing(status_error(503))
    result = await retry_async(
        again, policy=policy, retryable=lambda e: True, clock=clock, budget=budget
    )

    assert ("ok", 2) == (result, again.calls)


async def _drain(budget: RetryBudget, policy: RetryPolicy, clock: FakeClock) -> None:
    while budget.available >= budget.retry_cost:
        budget.try_acquire(None)
    assert budget.available < budget.retry_cost


# -- waits, the cap and the deadline ------------------------------------------------


async def test_retry_async_waits_for_retry_after_on_the_clock(clock: FakeClock) -> None:
    attempt = Failing(rate_limited(3.0))

    result = await retry_async(
        attempt,
        policy=RetryPolicy(),
        retryable=lambda e: True,
        retry_after=retry_after_of,
        clock=clock,
    )

    assert ("ok", [3.0]) == (result, clock.slept)


async def test_retry_async_fails_fast_when_retry_after_exceeds_cap(
    clock: FakeClock,
) -> None:
    attempt = Failing(rate_limited(120.0))

    with pytest.raises(RateLimitError) as caught:
        await retry_async(
            attempt,
            policy=RetryPolicy(max_retry_after=60.0),
            retryable=lambda e: True,
            retry_after=retry_after_of,
            clock=clock,
        )

    assert (120.0, 1, []) == (caught.value.retry_after, attempt.calls, clock.slept)


async def test_retry_async_fails_fast_when_retry_after_passes_deadline(
    clock: FakeClock,
) -> None:
    attempt = Failing(rate_limited(30.0))

    with pytest.raises(RateLimitError):
        await retry_async(
            attempt,
            policy=RetryPolicy(deadline=10.0, max_retry_after=60.0),
            retryable=lambda e: True,
            retry_after=retry_after_of,
            clock=clock,
        )

    assert (1, []) == (attempt.calls, clock.slept)


async def test_retry_async_full_jitter_stays_under_the_cap(clock: FakeClock) -> None:
    policy = RetryPolicy(max_attempts=4, initial_backoff=1.0, max_backoff=8.0)
    attempt = Failing(*(status_error(503) for _ in range(3)))

    await retry_async(attempt, policy=policy, retryable=lambda e: True, clock=clock)

    caps = [1.0, 2.0, 4.0]
    assert all(
        0.0 <= slept <= cap for slept, cap in zip(clock.slept, caps, strict=True)
    )


async def test_retry_async_without_waits_sleeps_zero(clock: FakeClock) -> None:
    attempt = Failing(status_error(503), status_error(503))

    await retry_async(
        attempt,
        policy=RetryPolicy().without_waits(),
        retryable=lambda e: True,
        clock=clock,
    )

    assert [0.0, 0.0] == clock.slept


async def test_retry_async_counts_and_logs_each_scheduled_retry(
    clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    retries: list[int] = []
    attempt = Failing(status_error(503))

    await retry_async(
        attempt,
        policy=RetryPolicy(),
        retryable=lambda e: True,
        clock=clock,
        describe="GET /x",
        on_retry=lambda: retries.append(1),
    )

    assert [1] == retries
    lines = [
        r.getMessage() for r in caplog.records if r.name == "gosmarter_async.retry"
    ]
    assert any(line.startswith("retrying GET /x in") for line in lines)


async def test_retry_async_first_success_never_builds_the_retry_loop(
    clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    def no_loop(*args: object, **kwargs: object) -> None:
        raise AssertionError("the retry loop was built for a first-attempt success")

    # The fast path (issue 5): tenacity only after a retryable failure.
    monkeypatch.setattr("gosmarter_async._retry._tenacity.AsyncRetrying", no_loop)
    budget = RetryBudget(capacity=10)
    budget.try_acquire(None)
    asked: list[BaseException] = []

    result = await retry_async(
        Failing(),
        policy=RetryPolicy(),
        retryable=lambda e: asked.append(e) is None,
        clock=clock,
        budget=budget,
    )

    assert ("ok", [], [], 6) == (result, asked, clock.slept, budget.available)


async def test_retry_async_non_retryable_first_failure_raises_once(
    clock: FakeClock,
) -> None:
    attempt = Failing(status_error(404))
    budget = RetryBudget(capacity=10)

    with pytest.raises(APIStatusError) as caught:
        await retry_async(
            attempt,
            policy=RetryPolicy(),
            retryable=lambda e: False,
            clock=clock,
            budget=budget,
        )

    assert (404, 1, [], 10) == (
        caught.value.status,
        attempt.calls,
        clock.slept,
        budget.available,
    )


async def test_retry_async_numbers_attempts_from_the_first_failure(
    clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    attempt = Failing(status_error(503), status_error(503))

    result = await retry_async(
        attempt,
        policy=RetryPolicy().without_waits(),
        retryable=lambda e: True,
        clock=clock,
        describe="GET /x",
    )

    numbers = [
        r.args[2]
        for r in caplog.records
        if r.name == "gosmarter_async.retry" and isinstance(r.args, tuple)
    ]
    assert ("ok", 3, [1, 2]) == (result, attempt.calls, numbers)


# -- the cool-down ----------------------------------------------------------------


def test_cool_down_extends_to_the_latest_deadline_and_never_shrinks(
    clock: FakeClock,
) -> None:
    cool_down = CoolDown(clock)

    cool_down.extend(10.0)
    cool_down.extend(3.0)
    after_shorter = cool_down.remaining()
    clock.advance(2.0)
    cool_down.extend(20.0)

    assert (10.0, 20.0) == (after_shorter, cool_down.remaining())


async def test_cool_down_wait_sleeps_until_it_passes(clock: FakeClock) -> None:
    cool_down = CoolDown(clock)
    cool_down.extend(4.0)

    await cool_down.wait()

    assert ([4.0], 0.0) == (clock.slept, cool_down.remaining())


def test_cool_down_is_over_without_any_429(clock: FakeClock) -> None:
    assert 0.0 == CoolDown(clock).remaining()
