"""`python -m gosmarter_async.sandbox`: options, export lines, serving, clean stop."""

from __future__ import annotations

import asyncio
import shlex
import signal
import sys

import aiohttp
import pytest

from gosmarter_async.sandbox.__main__ import build_parser, main, sandbox_from_args


def test_parser_options_configure_faults_and_data() -> None:
    args = build_parser().parse_args(
        [
            "--seed", "4", "--companies", "2", "--certificates", "5",
            "--error-rate", "0.1", "--throttle-rate", "0.2", "--retry-after", "3",
            "--drop-rate", "0.05", "--latency", "0.01", "--latency-jitter", "0.02",
            "--fault-token-lifetime", "2", "--token-outage", "10", "5",
            "--token-throttle-rate", "0.3", "--fault-seed", "8", "--strict-scope",
        ]
    )  # fmt: skip

    sandbox = sandbox_from_args(args)

    f = sandbox.faults
    assert (0.1, 0.2, 3, 0.05) == (
        f.error_rate,
        f.throttle_rate,
        f.retry_after,
        f.drop_rate,
    )
    assert (0.01, 0.02, 2) == (f.latency, f.latency_jitter, f.token_lifetime)
    assert (10, 5, 0.3, 8) == (
        f.token_outage_start,
        f.token_outage_duration,
        f.token_throttle_rate,
        f.seed,
    )
    assert 2 == len(sandbox.company_ids)


def test_parser_rejects_an_invalid_rate(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["--error-rate", "2"])

    assert 2 == exc.value.code
    assert "error_rate" in capsys.readouterr().err


async def _read_exports(process: asyncio.subprocess.Process) -> dict[str, str]:
    assert process.stdout is not None
    values: dict[str, str] = {}
    while len(values) < 6:
        line = (await process.stdout.readline()).decode()
        assert line, "the sandbox exited before printing its settings"
        (assignment,) = shlex.split(line.removeprefix("export "))
        name, _, value = assignment.partition("=")
        values[name] = value
    return values


@pytest.mark.parametrize("stop", [signal.SIGTERM, signal.SIGINT])
async def test_process_prints_exports_serves_and_stops_on_signal(
    stop: signal.Signals,
) -> None:
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "gosmarter_async.sandbox", "--port", "0",
        "--companies", "1", "--certificates", "3",
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    try:
        env = await asyncio.wait_for(_read_exports(process), timeout=20)
        form = {
            "grant_type": "client_credentials",
            "client_id": env["GOSMARTER_CLIENT_ID"],
            "client_secret": env["GOSMARTER_CLIENT_SECRET"],
            "scope": env["GOSMARTER_API_SCOPE"],
        }
        timeout = aiohttp.ClientTimeout(total=10)
        async with aiohttp.ClientSession(timeout=timeout) as session:
            async with session.post(env["GOSMARTER_TOKEN_URL"], data=form) as resp:
                token = (await resp.json())["access_token"]
            async with session.get(
                env["GOSMARTER_GATEWAY_URL"] + "/api/no-such-route",
                headers={"Authorization": f"Bearer {token}"},
            ) as resp:
                status = resp.status
        process.send_signal(stop)
        _, stderr = await asyncio.wait_for(process.communicate(), timeout=10)
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()

    assert env["GOSMARTER_GATEWAY_URL"].startswith("http://127.0.0.1:")
    assert env["GOSMARTER_TOKEN_URL"].startswith(env["GOSMARTER_GATEWAY_URL"] + "/")
    assert env["GOSMARTER_API_SCOPE"].endswith("/.default")
    assert env["GOSMARTER_TENANT_ID"]
    assert 404 == status
    assert 0 == process.returncode
    assert b"Traceback" not in stderr


def test_main_usage_names_the_given_program(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["--help"], prog="gosmarter sandbox")

    assert capsys.readouterr().out.startswith("usage: gosmarter sandbox")


def test_sandbox_from_args_takes_the_secret_from_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("GOSMARTER_SANDBOX_CLIENT_SECRET", "kept-across-restarts")

    first = sandbox_from_args(build_parser().parse_args([]))
    second = sandbox_from_args(build_parser().parse_args([]))

    assert "kept-across-restarts" == first.credentials.client_secret
    assert "kept-across-restarts" == second.credentials.client_secret


def test_sandbox_from_args_draws_a_new_secret_by_default() -> None:
    first = sandbox_from_args(build_parser().parse_args([]))
    second = sandbox_from_args(build_parser().parse_args([]))

    assert first.credentials.client_secret != second.credentials.client_secret
