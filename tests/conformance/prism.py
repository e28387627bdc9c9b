"""The Prism validation proxy (`@stoplight/prism-cli`) in a child process.

`prism proxy --errors SPEC UPSTREAM` forwards every request to the sandbox and
checks both directions against `openapi/gosmarter-gateway.yaml`. With `--errors`, a
request that breaks the spec is answered by Prism itself (422, or 401 for missing
security) and a response that breaks it is replaced by a 500; both are
`application/problem+json` with a `type` under `https://stoplight.io/prism/errors`.
Lesser findings pass through with an `sl-violations` header, and Prism logs every
violation it finds, which `violations()` reads back.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from pathlib import Path

from attrs import define

HERE = Path(__file__).resolve().parent
PRISM = HERE / "node_modules" / ".bin" / "prism"
SPEC = HERE.parents[1] / "openapi" / "gosmarter-gateway.yaml"

# Set by `nox -s conformance` and `.ci/run`, which install Prism: there a missing
# Prism is a failure, not a skip.
REQUIRE_ENV = "GOSMARTER_REQUIRE_PRISM"

# Prism reads and indexes the spec before it listens: about 5 s here.
START_TIMEOUT = 60.0

PRISM_ERROR_TYPE = "https://stoplight.io/prism/errors"

# How Prism's log marks a finding (its pino-style levels and its own wording).
_FINDINGS = ("\u2716", "\u26a0", "Violation", "violation", "errors#")


def missing_reason() -> str | None:
    """Why Prism cannot run here, or None when it can."""
    if not PRISM.exists():
        return (
            "Prism is not installed: run `npm ci --prefix tests/conformance` "
            "(nox -s conformance and .ci/run do)"
        )
    if shutil.which("node") is None:
        return "node is not on PATH"
    return None


def free_port() -> int:
    """A port free on 127.0.0.1 right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@define
class PrismProxy:
    """Prism in front of `upstream`, listening on 127.0.0.1.

    Args:
        upstream: The sandbox's base URL.
        log: Where Prism's output goes; its violations are read from there.
    """

    upstream: str
    log: Path
    url: str = ""
    _proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        """Start Prism and wait until it listens.

        Raises:
            RuntimeError: when it exits or does not listen in time.
        """
        port = free_port()
        command = [
            str(PRISM),
            "proxy",
            "--errors",
            "-h",
            "127.0.0.1",
            "-p",
            str(port),
            str(SPEC),
            self.upstream,
        ]
        with self.log.open("wb") as out:
            self._proc = subprocess.Popen(
                command, stdout=out, stderr=subprocess.STDOUT, env=dict(os.environ)
            )
        try:
            self._wait_listening(port)
        except BaseException:
            self.stop()
            raise
        self.url = f"http://127.0.0.1:{port}"

    def _wait_listening(self, port: int) -> None:
        assert self._proc is not None
        deadline = time.monotonic() + START_TIMEOUT
        while "Prism is listening" not in self.output():
            if self._proc.poll() is not None:
                raise RuntimeError(f"prism exited: {self.output()[-2000:]}")
            if time.monotonic() > deadline:
                raise RuntimeError(f"prism did not listen on {port} in time")
            time.sleep(0.1)

    def output(self) -> str:
        """Everything Prism has logged so far."""
        return self.log.read_text(errors="replace")

    def violations(self) -> list[str]:
        """The errors, warnings and violations Prism has logged so far.

        Prism 5 marks errors with a cross and warnings with a triangle, and names
        each validation finding a "Violation".
        """
        return [
            line.strip()
            for line in self.output().splitlines()
            if any(mark in line for mark in _FINDINGS)
        ]

    def new_violations(self, since: int, within: float = 3.0) -> list[str]:
        """Violations logged after the first `since`, waiting for Prism's log.

        Prism answers before its log line reaches the file, so a finding is
        waited for up to `within` seconds.
        """
        deadline = time.monotonic() + within
        while not (found := self.violations()[since:]):
            if time.monotonic() > deadline:
                break
            time.sleep(0.05)
        return found

    def stop(self) -> None:
        """Terminate Prism; kill it if it does not go in 5 s."""
        proc, self._proc = self._proc, None
        if proc is None or proc.poll() is not None:
            return
        proc.terminate()
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)
