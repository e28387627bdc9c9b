"""A sandbox on its own loop in a thread, for CLI commands that run asyncio.run."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator

import pytest

from gosmarter_async import Settings
from gosmarter_async.sandbox import Sandbox


class ThreadedSandbox:
    """Starts a Sandbox on a private event loop in a daemon thread; stop() joins it."""

    def __init__(self, sandbox: Sandbox) -> None:
        self.sandbox = sandbox
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)

    def start(self) -> None:
        self._thread.start()
        asyncio.run_coroutine_threadsafe(self.sandbox.start(), self._loop).result(10)

    def stop(self) -> None:
        asyncio.run_coroutine_threadsafe(self.sandbox.stop(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)
        self._loop.close()


@pytest.fixture
def sandbox() -> Iterator[Sandbox]:
    threaded = ThreadedSandbox(Sandbox(seed=5, companies=2, certificates_per_company=4))
    threaded.start()
    try:
        yield threaded.sandbox
    finally:
        threaded.stop()


def settings_env(settings: Settings) -> dict[str, str]:
    return {
        "GOSMARTER_CLIENT_ID": settings.client_id,
        "GOSMARTER_CLIENT_SECRET": settings.client_secret,
        "GOSMARTER_TOKEN_URL": settings.token_url,
        "GOSMARTER_API_SCOPE": settings.scope,
        "GOSMARTER_GATEWAY_URL": settings.gateway_url,
    }


@pytest.fixture
def sandbox_env(sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch) -> Sandbox:
    """The sandbox, with the environment pointing the CLI at it."""
    for name, value in settings_env(sandbox.settings).items():
        monkeypatch.setenv(name, value)
    return sandbox
