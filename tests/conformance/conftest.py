"""A sandbox process with Prism in front of it, shared by a module's tests."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from attrs import frozen

from gosmarter_async import Settings
from tests.chaos.harness import SandboxProcess
from tests.conformance.prism import REQUIRE_ENV, PrismProxy, missing_reason


@frozen
class Proxied:
    """Settings for the sandbox, and the Prism URL to use as the gateway."""

    settings: Settings
    prism: PrismProxy


def settings_from(env: dict[str, str]) -> Settings:
    return Settings.from_env(None, environ=env)


@pytest.fixture(scope="module")
def sandbox_env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    log = tmp_path_factory.mktemp("sandbox") / "sandbox.log"
    sandbox = SandboxProcess(
        ("--seed", "9", "--companies", "2", "--certificates", "12",
         "--upload-delay", "0.2"),
        log,
    )  # fmt: skip
    try:
        sandbox.start()
        yield sandbox.env
    finally:
        sandbox.stop()


@pytest.fixture(scope="module")
def proxied(
    sandbox_env: dict[str, str], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Proxied]:
    reason = missing_reason()
    if reason is not None:
        if os.environ.get(REQUIRE_ENV):
            pytest.fail(reason)
        pytest.skip(reason)
    prism = PrismProxy(
        sandbox_env["GOSMARTER_GATEWAY_URL"],
        Path(tmp_path_factory.mktemp("prism")) / "prism.log",
    )
    try:
        prism.start()
        yield Proxied(settings_from(sandbox_env), prism)
    finally:
        prism.stop()
