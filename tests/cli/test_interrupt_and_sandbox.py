from __future__ import annotations

import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from gosmarter_async.cli import _export, cli
from gosmarter_async.cli._errors import EXIT_INTERRUPTED
from gosmarter_async.export import CertificateRecord
from gosmarter_async.sandbox import Sandbox


def test_export_ctrl_c_says_how_far_it_got_and_exits_130(
    sandbox_env: Sandbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def interrupted_export(client: object, **kwargs: Any) -> None:
        progress = kwargs["progress"]
        progress.listed(2)
        progress.completed(CertificateRecord("a", "c", 1, ()), skipped=False)
        raise KeyboardInterrupt

    monkeypatch.setattr(_export, "export_certificates", interrupted_export)

    result = CliRunner().invoke(
        cli, ["export", "--all-companies", "--out", str(tmp_path)]
    )

    assert EXIT_INTERRUPTED == result.exit_code
    assert (
        "error: export interrupted after 1 of 2 certificates listed so far "
        "(stopped by Ctrl-C); "
        "rerun the same command to resume\n"
    ) == result.stderr


def test_sandbox_command_prints_settings_that_the_cli_can_use() -> None:
    command = [sys.executable, "-m", "gosmarter_async.cli", "sandbox", "--port", "0"]
    command += ["--companies", "1", "--certificates", "2", "--error-rate", "0"]
    process = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        assert process.stdout is not None
        lines = [process.stdout.readline() for _ in range(6)]
        env = dict(line.removeprefix("export ").strip().split("=", 1) for line in lines)

        result = CliRunner().invoke(cli, ["token"], env=env)
    finally:
        process.send_signal(signal.SIGINT)
        try:
            _, note = process.communicate(timeout=10)
        finally:
            if process.poll() is None:
                process.kill()
                process.communicate()

    assert 0 == result.exit_code, result.output
    assert env["GOSMARTER_GATEWAY_URL"].startswith("http://127.0.0.1:")
    assert f"GoSmarter sandbox on {env['GOSMARTER_GATEWAY_URL']}" in note
    assert 0 == process.returncode
