"""The README's examples run as written, against the sandbox."""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

README = Path(__file__).resolve().parents[1] / "README.md"


def python_block_after(heading: str) -> str:
    text = README.read_text(encoding="utf-8")
    section = text.split(f"\n{heading}\n", 1)[1]
    match = re.search(r"```python\n(.*?)```", section, re.DOTALL)
    assert match is not None, f"no python block under {heading!r}"
    return match.group(1)


def sandbox_environment(lines: list[str]) -> dict[str, str]:
    env: dict[str, str] = {}
    for line in lines:
        name, _, value = line.removeprefix("export ").partition("=")
        env[name] = shlex.split(value)[0]
    return env


def test_readme_test_command_is_the_one_ci_runs() -> None:
    ci = (README.parent / ".ci" / "run").read_text(encoding="utf-8")
    command = '.venv/bin/python -m pytest -m "not slow"'

    assert command in README.read_text(encoding="utf-8")
    assert command in ci


def test_readme_quick_start_runs_against_the_sandbox(tmp_path: Path) -> None:
    code = python_block_after("## Quick start with the client")
    script = tmp_path / "quick_start.py"
    script.write_text(code, encoding="utf-8")
    sandbox = subprocess.Popen(
        [sys.executable, "-m", "gosmarter_async.sandbox", "--port", "0"],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert sandbox.stdout is not None
        lines = []
        while len(lines) < 7:
            line = sandbox.stdout.readline()
            assert line, "the sandbox exited before printing its settings"
            if line.startswith("export "):
                lines.append(line.strip())
        env = {**os.environ, **sandbox_environment(lines)}

        run = subprocess.run(
            [sys.executable, str(script)],
            env=env,
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
    finally:
        sandbox.terminate()
        sandbox.wait(timeout=10)
        if sandbox.stdout is not None:
            sandbox.stdout.close()

    assert 0 == run.returncode, run.stderr
    printed = run.stdout.splitlines()
    assert len(printed) >= 10
    assert all(line.endswith(" heats") for line in printed)
