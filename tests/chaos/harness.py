"""The chaos harness: a sandbox process, an export process, and the comparison.

Both run as separate processes (`python -m gosmarter_async.sandbox` and
`python -m tests.chaos.runner`), so that either can be killed with SIGKILL, and so
that what each writes to stderr (an "Unclosed client session", a "Task was
destroyed but it is pending") can be checked. Every process is started with a
deadline and killed in a `finally`.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import select
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from attrs import define, field, frozen

REPO = Path(__file__).resolve().parents[2]

# What no process of ours may ever print (issue 6, item 5).
LEAK_MARKERS = (
    "Unclosed client session",
    "Unclosed connector",
    "Task was destroyed but it is pending",
    "ResourceWarning",
    "Traceback",
)

# Where the sandbox process reads a client secret to keep across restarts.
SECRET_ENV = "GOSMARTER_SANDBOX_CLIENT_SECRET"

# Seconds a sandbox has to print its settings: start-up seeds the store and makes
# an RSA key, about a second on this machine even when it is busy.
SANDBOX_START_TIMEOUT = 30.0


class ChaosError(AssertionError):
    """A process did not behave: it hung, died or printed what it must not."""


@define
class SandboxProcess:
    """`python -m gosmarter_async.sandbox` in a child process.

    Args:
        args: Data and fault options, after `--port`.
        log: Where its stderr goes (appended, across restarts).
        secret: The client secret, the same across restarts (the sandbox reads it
            from GOSMARTER_SANDBOX_CLIENT_SECRET); a random one per start if None.
    """

    args: tuple[str, ...]
    log: Path
    secret: str | None = None
    port: int = 0
    env: dict[str, str] = field(factory=dict)
    _proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        """Start it on `port` (a free one the first time) and read its settings.

        Raises:
            ChaosError: when it does not print its settings in time.
        """
        command = [
            sys.executable,
            "-W",
            "error",
            "-m",
            "gosmarter_async.sandbox",
            "--port",
            str(self.port),
            *self.args,
        ]
        env = {k: v for k, v in os.environ.items() if k != SECRET_ENV}
        if self.secret is not None:
            env[SECRET_ENV] = self.secret
        with self.log.open("ab") as stderr:
            self._proc = subprocess.Popen(
                command, stdout=subprocess.PIPE, stderr=stderr, cwd=REPO, env=env
            )
        try:
            self.env = _read_exports(self._proc, SANDBOX_START_TIMEOUT)
        except BaseException:
            self.kill()
            raise
        self.port = int(self.env["GOSMARTER_GATEWAY_URL"].rsplit(":", 1)[1])

    def kill(self) -> None:
        """SIGKILL it, as a crash would, and reap it."""
        proc, self._proc = self._proc, None
        if proc is not None and proc.poll() is None:
            proc.kill()
        if proc is not None:
            proc.wait(timeout=10)
            _close_pipe(proc)

    def stop(self) -> None:
        """SIGTERM it (a clean stop), then SIGKILL if it does not go in 5 s."""
        proc, self._proc = self._proc, None
        if proc is None:
            return
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=10)
        _close_pipe(proc)


def _close_pipe(proc: subprocess.Popen[bytes]) -> None:
    if proc.stdout is not None:
        proc.stdout.close()


def _read_exports(proc: subprocess.Popen[bytes], timeout: float) -> dict[str, str]:
    """The `export GOSMARTER_NAME=value` lines a starting sandbox prints."""
    assert proc.stdout is not None
    deadline = time.monotonic() + timeout
    buffer = b""
    env: dict[str, str] = {}
    while "GOSMARTER_GATEWAY_URL" not in env:
        left = deadline - time.monotonic()
        if left <= 0 or proc.poll() is not None:
            raise ChaosError(f"the sandbox did not start (exit code {proc.poll()})")
        ready, _, _ = select.select([proc.stdout], [], [], min(left, 0.5))
        if not ready:
            continue
        chunk = os.read(proc.stdout.fileno(), 65536)
        buffer += chunk
        *lines, rest = buffer.split(b"\n")
        buffer = rest
        for line in lines:
            name, _, value = line.decode().removeprefix("export ").partition("=")
            # The values are shell-quoted; the sandbox's need no quoting.
            env[name] = value.strip("'")
    return env


@frozen
class ExportRun:
    """What one run of the export process reported."""

    returncode: int
    report: dict[str, Any]
    stderr: str


@contextlib.contextmanager
def export_process(
    env: dict[str, str], out: Path, concurrency: int, log: Path
) -> Iterator[subprocess.Popen[str]]:
    """Start the export process; kill it on the way out, whatever happened.

    Args:
        env: The sandbox's settings.
        out: The export directory.
        concurrency: Certificates fetched at once.
        log: Where its stderr goes.

    Yields:
        The running process.
    """
    command = [
        sys.executable,
        "-W",
        "error",
        "-m",
        "tests.chaos.runner",
        "--out",
        str(out),
        "--concurrency",
        str(concurrency),
    ]
    with log.open("w") as stderr:
        proc = subprocess.Popen(
            command,
            stdout=subprocess.PIPE,
            stderr=stderr,
            cwd=REPO,
            env={**os.environ, **env},
            text=True,
        )
    try:
        yield proc
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait(timeout=10)
        if proc.stdout is not None:
            proc.stdout.close()


def finish(proc: subprocess.Popen[str], log: Path, timeout: float) -> ExportRun:
    """Wait for the export process and read its report.

    Raises:
        ChaosError: when it runs past `timeout` or prints no report.
    """
    try:
        stdout, _ = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        raise ChaosError(f"the export did not finish within {timeout:.0f} s") from None
    lines = [line for line in stdout.splitlines() if line.startswith("{")]
    if not lines:
        raise ChaosError(f"the export printed no report; stderr: {log.read_text()}")
    return ExportRun(proc.returncode, json.loads(lines[-1]), log.read_text())


def journal_lines(out: Path) -> int:
    """How many certificates the export's journal holds so far."""
    try:
        with (out / "manifest.jsonl").open("rb") as journal:
            return sum(1 for _ in journal)
    except FileNotFoundError:
        return 0


def wait_for_journal(
    proc: subprocess.Popen[str], out: Path, lines: int, timeout: float
) -> None:
    """Block until the journal holds `lines` certificates.

    Raises:
        ChaosError: when the export ends or `timeout` passes first.
    """
    deadline = time.monotonic() + timeout
    while journal_lines(out) < lines:
        if proc.poll() is not None:
            raise ChaosError(f"the export ended early (exit code {proc.returncode})")
        if time.monotonic() > deadline:
            raise ChaosError(f"the journal did not reach {lines} in {timeout:.0f} s")
        time.sleep(0.05)


def tree_digest(out: Path) -> dict[str, str]:
    """The SHA-256 of every file of an export but the journal (whose order varies)."""
    digests = {}
    for path in sorted(out.rglob("*")):
        if path.is_file() and path.name != "manifest.jsonl":
            digests[str(path.relative_to(out))] = hashlib.sha256(
                path.read_bytes()
            ).hexdigest()
    return digests


def leftovers(out: Path) -> list[str]:
    """Temporary or partial files an export left behind."""
    return [
        str(p.relative_to(out))
        for p in out.rglob("*")
        if p.name.startswith(".") or p.name.endswith((".part", ".tmp"))
    ]


def leaks(stderr: str) -> list[str]:
    """The lines of a process's stderr that betray a leak or a crash."""
    return [
        line
        for line in stderr.splitlines()
        if any(marker in line for marker in LEAK_MARKERS)
    ]
