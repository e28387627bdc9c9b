"""Fixtures: a running sandbox (small seed), an HTTP session, an authorised API."""

from __future__ import annotations

from collections.abc import AsyncIterator

import aiohttp
import pytest

from gosmarter_async.sandbox import Sandbox
from tests.clock import FakeClock
from tests.sandbox.helpers import Api, get_token


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    timeout = aiohttp.ClientTimeout(total=10)
    async with aiohttp.ClientSession(timeout=timeout) as client:
        yield client


@pytest.fixture
async def sandbox() -> AsyncIterator[Sandbox]:
    async with Sandbox(seed=7, companies=2, certificates_per_company=12) as running:
        yield running


@pytest.fixture
async def fake_sandbox(clock: FakeClock) -> AsyncIterator[Sandbox]:
    """A sandbox on the fake clock: token expiry and upload delays without waiting."""
    async with Sandbox(
        seed=7,
        companies=2,
        certificates_per_company=12,
        clock=clock,
        upload_delay=0.05,
    ) as running:
        yield running


@pytest.fixture
async def api(session: aiohttp.ClientSession, sandbox: Sandbox) -> Api:
    return Api(session, sandbox, await get_token(session, sandbox))


@pytest.fixture
async def fake_api(session: aiohttp.ClientSession, fake_sandbox: Sandbox) -> Api:
    return Api(session, fake_sandbox, await get_token(session, fake_sandbox))
