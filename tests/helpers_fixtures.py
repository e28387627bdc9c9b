"""Fixtures for transport and client tests; load with `pytest_plugins`.

Kept apart from tests/helpers_server.py so that pytest can rewrite its asserts:
test modules import helpers from there, and name this module in `pytest_plugins`.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from gosmarter_async._transport import AiohttpTransport
from tests.clock import FakeClock
from tests.helpers_server import FakeTokenProvider, ScriptedServer


@pytest.fixture
async def server() -> AsyncIterator[ScriptedServer]:
    """A scripted server on 127.0.0.1, stopped after the test."""
    async with ScriptedServer() as running:
        yield running


@pytest.fixture
def tokens() -> FakeTokenProvider:
    """A fake token provider."""
    return FakeTokenProvider()


@pytest.fixture
async def transport(
    server: ScriptedServer, tokens: FakeTokenProvider, clock: FakeClock
) -> AsyncIterator[AiohttpTransport]:
    """A transport to `server` on the fake clock, closed after the test."""
    sending = AiohttpTransport(server.url, tokens, clock=clock)
    yield sending
    await sending.aclose()
