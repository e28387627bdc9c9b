"""Child processes: the servers, and the clients that measure their own memory.

Every server runs in its own process, so that the bench process's CPU time is the
client's; the memory runs (streaming, export) run their client in a fresh process
too, so that its peak RSS is its own and not the bench's history.
"""

from __future__ import annotations

import contextlib
import json
import os
import queue
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import IO, Any

__all__ = ["REPO", "run_child", "server_process"]

REPO = Path(__file__).resolve().parents[2]

# Starting a server (imports, seeding) takes well under a second on a quiet machine;
# a busy shared one gets thirty before the bench gives up.
START_TIMEOUT = 30.0
STOP_TIMEOUT = 5.0


def _env(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    env = {**os.environ, **(extra or {})}
    # The child must import the repo's tests.bench and gosmarter_async.
    env["PYTHONPATH"] = os.pathsep.join(
        filter(None, [str(REPO), env.get("PYTHONPATH")])
    )
    return env


def _pump(stdout: IO[str], lines: queue.Queue[str]) -> None:
    # A thread, because select() cannot see lines already in the pipe's buffer.
    for line in stdout:
        lines.put(line.rstrip("\n"))


def _read_until(
    process: subprocess.Popen[str],
    lines: queue.Queue[str],
    done: Callable[[list[str]], bool],
) -> list[str]:
    """Take stdout lines until `done(lines)` holds, bounded by START_TIMEOUT."""
    seen: list[str] = []
    deadline = time.monotonic() + START_TIMEOUT
    while not done(seen):
        left = deadline - time.monotonic()
        if left <= 0 or process.poll() is not None:
            raise RuntimeError(f"server did not start: {process.args!r} {seen!r}")
        with contextlib.suppress(queue.Empty):
            seen.append(lines.get(timeout=min(left, 0.5)))
    return seen


def _stop(process: subprocess.Popen[str]) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(STOP_TIMEOUT)


@contextlib.contextmanager
def server_process(
    args: Sequence[str], done: Callable[[list[str]], bool]
) -> Iterator[list[str]]:
    """Run `python <args>` until the block ends; yield its first stdout lines.

    Args:
        args: The arguments after the interpreter, e.g. `-m tests.bench._static_server`.
        done: Whether the lines read so far announce a listening server.

    Yields:
        The stdout lines read until `done` held.
    """
    process = subprocess.Popen(
        [sys.executable, *args],
        cwd=REPO,
        env=_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    assert process.stdout is not None
    lines: queue.Queue[str] = queue.Queue()
    pump = threading.Thread(target=_pump, args=(process.stdout, lines), daemon=True)
    pump.start()
    try:
        yield _read_until(process, lines, done)
    finally:
        _stop(process)
        # The pump ends at the pipe's end of file, once the server has exited.
        pump.join(STOP_TIMEOUT)
        process.stdout.close()


def run_child(
    args: Sequence[str], timeout: float, env: Mapping[str, str] | None = None
) -> dict[str, Any]:
    """Run `python <args>` to the end and return the JSON object on its last line.

    Args:
        args: The arguments after the interpreter.
        timeout: Seconds the child may take.
        env: Variables to set in the child, over this process's environment.

    Returns:
        The child's result.

    Raises:
        RuntimeError: when the child fails or prints no JSON.
    """
    done = subprocess.run(
        [sys.executable, *args],
        cwd=REPO,
        env=_env(env),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    lines = done.stdout.strip().splitlines()
    if done.returncode != 0 or not lines:
        raise RuntimeError(
            f"{args[:2]!r} failed ({done.returncode}): {done.stderr[-2000:]}"
        )
    result: dict[str, Any] = json.loads(lines[-1])
    return result
