"""The state every sandbox handler shares, stored on the aiohttp application."""

from __future__ import annotations

import logging
from collections import Counter

from aiohttp import web
from attrs import define, field

from .._clock import Clock
from ._faults import FaultInjector, TokenBucket
from ._store import Store
from ._tokens import Identity

__all__ = ["STATE", "SandboxState", "SandboxStats", "sandbox_log"]

sandbox_log = logging.getLogger("gosmarter_async.sandbox")


@define
class SandboxStats:
    """What the sandbox has seen, for tests and the demo's summary.

    Attributes:
        token_requests: Requests to the token endpoint, answered or not.
        tokens_issued: Access tokens issued.
        requests: Gateway requests per operationId (unknown routes as "unknown").
        faults: Faults injected per kind (error, throttle, drop_before,
            drop_midway, latency, token_outage, token_throttle) and real rate
            limiting ("rate_limited").
    """

    token_requests: int = 0
    tokens_issued: int = 0
    requests: Counter[str] = field(factory=Counter)
    faults: Counter[str] = field(factory=Counter)

    @property
    def total_requests(self) -> int:
        """Gateway requests of every operation."""
        return sum(self.requests.values())


@define
class SandboxState:
    """The store, identity provider, faults, limiter, clock and counters."""

    store: Store
    identity: Identity
    injector: FaultInjector
    limiter: TokenBucket | None
    clock: Clock
    stats: SandboxStats = field(factory=SandboxStats)


STATE = web.AppKey("gosmarter_sandbox_state", SandboxState)
