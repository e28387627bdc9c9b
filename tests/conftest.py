"""Shared fixtures: a fake clock, and isolation from the developer's environment."""

from __future__ import annotations

import logging

import pytest

from tests.clock import FakeClock

_ENV_NAMES = (
    "CLIENT_ID",
    "CLIENT_SECRET",
    "TENANT_ID",
    "TOKEN_URL",
    "API_SCOPE",
    "GATEWAY_URL",
)


@pytest.fixture(autouse=True)
def _isolated_env(
    monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """No test sees the developer's GoSmarter variables or their ./.env file."""
    for name in _ENV_NAMES:
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(f"GOSMARTER_{name}", raising=False)
    monkeypatch.chdir(tmp_path_factory.mktemp("cwd"))


@pytest.fixture(autouse=True)
def _debug_logging(caplog: pytest.LogCaptureFixture) -> None:
    """Every logger at DEBUG, so that secret-hygiene checks see every line."""
    caplog.set_level(logging.DEBUG)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()
