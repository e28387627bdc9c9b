"""Fault injection and the per-client rate limit of the sandbox.

Faults are off by default. Every random decision comes from one `random.Random`
seeded by `Faults.seed`, so a run with the same requests in the same order sees the
same faults. A fault never corrupts a body that is delivered completely: an
injected error replaces the answer, and a dropped connection cuts it short so that
the client sees a short read (the Content-Length is the full body's).
"""

from __future__ import annotations

import math
import random
from typing import Literal

from attrs import Attribute, define, field, frozen, validators

__all__ = [
    "FaultInjector",
    "Faults",
    "GatewayFault",
    "RateLimit",
    "TokenBucket",
    "TokenFault",
]

GatewayFault = Literal["error", "throttle", "drop_before", "drop_midway"]
TokenFault = Literal["outage", "throttle"]


def _rate(_: object, attribute: Attribute[float], value: float) -> None:
    if not 0 <= value <= 1:
        raise ValueError(f"{attribute.name} must be between 0 and 1, not {value!r}")


def _non_negative(_: object, attribute: Attribute[float], value: float) -> None:
    if not value >= 0:
        raise ValueError(f"{attribute.name} must not be negative, not {value!r}")


@frozen(kw_only=True)
class Faults:
    """What goes wrong, and how often; everything off by default.

    Args:
        latency: Seconds added to every answer.
        latency_jitter: Up to this many more seconds, drawn uniformly.
        error_rate: Share of gateway requests answered 503 with a problem body.
        throttle_rate: Share of gateway requests answered 429 with Retry-After.
        retry_after: The Retry-After seconds of injected 429s and token throttling.
        drop_rate: Share of gateway requests whose connection is dropped, half of
            them before any answer, half after the headers and half the body.
        token_lifetime: Seconds an access token lives, overriding the sandbox's
            (e.g. 2, to force refreshes), or None to keep it.
        token_outage_start: Seconds after start when the token endpoint goes down.
        token_outage_duration: How long it answers 503; 0 for no outage.
        token_throttle_rate: Share of token requests answered 429.
        seed: The seed of the fault decisions.
    """

    latency: float = field(default=0.0, validator=_non_negative)
    latency_jitter: float = field(default=0.0, validator=_non_negative)
    error_rate: float = field(default=0.0, validator=_rate)
    throttle_rate: float = field(default=0.0, validator=_rate)
    retry_after: int = field(default=1, validator=validators.ge(0))
    drop_rate: float = field(default=0.0, validator=_rate)
    token_lifetime: int | None = field(
        default=None, validator=validators.optional(validators.ge(1))
    )
    token_outage_start: float = field(default=0.0, validator=_non_negative)
    token_outage_duration: float = field(default=0.0, validator=_non_negative)
    token_throttle_rate: float = field(default=0.0, validator=_rate)
    seed: int = 0


@define
class FaultInjector:
    """Draws the faults of each request from a seeded generator.

    Args:
        faults: The current fault settings.
        started: The server clock's monotonic time at start (outage windows count
            from it).
    """

    faults: Faults
    started: float
    _rng: random.Random = field(init=False)

    def __attrs_post_init__(self) -> None:
        self._rng = random.Random(self.faults.seed)  # noqa: S311 (fault draws, not secrets)

    def replace(self, faults: Faults) -> None:
        """Switch to new settings, restarting the generator from their seed."""
        self.faults = faults
        self._rng = random.Random(faults.seed)  # noqa: S311 (fault draws, not secrets)

    def latency(self) -> float:
        """Seconds to delay this answer; 0 when no latency is configured."""
        f = self.faults
        if f.latency_jitter:
            return f.latency + self._rng.uniform(0, f.latency_jitter)
        return f.latency

    def gateway_fault(self) -> GatewayFault | None:
        """The fault of one gateway request, or None."""
        f = self.faults
        if not (f.error_rate or f.throttle_rate or f.drop_rate):
            return None
        roll = self._rng.random()
        if roll < f.error_rate:
            return "error"
        roll -= f.error_rate
        if roll < f.throttle_rate:
            return "throttle"
        roll -= f.throttle_rate
        if roll < f.drop_rate:
            return "drop_before" if self._rng.random() < 0.5 else "drop_midway"
        return None

    def token_fault(self, now: float) -> TokenFault | None:
        """The fault of one token request at monotonic time `now`, or None."""
        f = self.faults
        since_start = now - self.started
        if f.token_outage_duration and (
            f.token_outage_start
            <= since_start
            < f.token_outage_start + f.token_outage_duration
        ):
            return "outage"
        if f.token_throttle_rate and self._rng.random() < f.token_throttle_rate:
            return "throttle"
        return None


@frozen(kw_only=True)
class RateLimit:
    """A per-client token bucket: `burst` requests at once, refilled per second.

    The default is generous (as a production gateway's per-client quota would be for
    one developer) so that tests hit it only when they mean to.
    """

    per_second: float = field(default=1000.0, validator=validators.gt(0))
    burst: int = field(default=1000, validator=validators.ge(1))


@define
class TokenBucket:
    """The buckets of every client under one `RateLimit`."""

    limit: RateLimit
    _buckets: dict[str, tuple[float, float]] = field(init=False, factory=dict)

    def take(self, client: str, now: float) -> int | None:
        """Spend one request of `client` at monotonic time `now`.

        Args:
            client: The client id (the token's azp).
            now: The server clock's monotonic time.

        Returns:
            None when allowed; otherwise the whole seconds until one request is
            available again, for Retry-After.
        """
        tokens, last = self._buckets.get(client, (float(self.limit.burst), now))
        tokens = min(
            float(self.limit.burst), tokens + (now - last) * self.limit.per_second
        )
        if tokens >= 1:
            self._buckets[client] = (tokens - 1, now)
            return None
        self._buckets[client] = (tokens, now)
        return max(1, math.ceil((1 - tokens) / self.limit.per_second))
