"""Time, injectable: the token provider and the retry policy never read it directly.

Tests pass a fake clock whose `sleep` advances time at once, so that no test waits
for a real backoff or a real token expiry.
"""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime
from typing import Protocol

__all__ = ["Clock", "SystemClock"]


class Clock(Protocol):
    """A source of monotonic time, wall time and sleep."""

    def monotonic(self) -> float:
        """Seconds on a clock that never goes backwards."""
        ...

    def now(self) -> datetime:
        """The current wall time, timezone-aware."""
        ...

    async def sleep(self, seconds: float) -> None:
        """Wait `seconds`."""
        ...


class SystemClock:
    """The real clocks of the machine and asyncio's sleep."""

    def monotonic(self) -> float:
        """Seconds on `time.monotonic`."""
        return time.monotonic()

    def now(self) -> datetime:
        """The current wall time in UTC."""
        return datetime.now(UTC)

    async def sleep(self, seconds: float) -> None:
        """Wait `seconds` with `asyncio.sleep`."""
        await asyncio.sleep(seconds)

    def __repr__(self) -> str:
        return "SystemClock()"
