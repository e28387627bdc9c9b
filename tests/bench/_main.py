"""The bench's entry point: run the parts, print the tables, write JSON and PNG.

`python -m tests.bench [--quick] [--out DIR] [--only PART ...] [--requests N]`.
The full run (about 15 minutes on 2 cores) checks the issue's targets and exits 1
when one is missed; `--quick` runs small sizes in under a minute and judges nothing
(the CI smoke run).
"""

from __future__ import annotations

import argparse
import asyncio
import datetime
import json
import os
import platform
import shlex
import statistics
import tempfile
import time
from collections.abc import Sequence
from importlib import metadata
from pathlib import Path
from typing import Any

from attrs import evolve, frozen

from gosmarter_async.sandbox._store import Store

from ._clients import (
    BenchClient,
    OursClient,
    RawClient,
    StockClient,
    generate_stock_client,
)
from ._procs import REPO, run_child, server_process
from ._report import chart, check_targets, render_tables
from ._stampede import measure_stampede
from ._static_server import seed_payloads
from ._throughput import measure_throughput, summarise

__all__ = ["FULL", "PARTS", "QUICK", "Plan", "main"]

PARTS = ("throughput", "stampede", "streaming", "pipeline")
DEFAULT_OUT = REPO / "tests" / "bench" / "results"


@frozen
class Plan:
    """The sizes of one bench run.

    Args:
        requests: Requests per throughput run.
        repeats: Interleaved runs per client per (endpoint, concurrency).
        concurrencies: The concurrency levels.
        callers: Coroutines in the token stampede.
        token_latency: Seconds the token endpoint takes (Entra answers in
            roughly 100-300 ms).
        download_bytes: Size of the streamed export.
        export_sizes: Certificates in the two pipeline exports, small first.
        export_repeats: Exports per size, alternating sizes; medians reported.
        judge: Whether the targets are checked.
    """

    requests: int
    repeats: int
    concurrencies: tuple[int, ...]
    callers: int
    token_latency: float
    download_bytes: int
    export_sizes: tuple[int, int]
    export_repeats: int
    judge: bool


FULL = Plan(
    requests=2000,
    repeats=5,
    concurrencies=(1, 64, 256),
    callers=10_000,
    token_latency=0.2,
    download_bytes=512 * 2**20,
    export_sizes=(1000, 10_000),
    export_repeats=2,
    judge=True,
)
QUICK = Plan(
    requests=150,
    repeats=1,
    concurrencies=(1, 64, 256),
    callers=500,
    token_latency=0.05,
    download_bytes=16 * 2**20,
    export_sizes=(30, 120),
    export_repeats=1,
    judge=False,
)


def _static_server(plan: Plan) -> Any:
    args = [
        "-m",
        "tests.bench._static_server",
        "--token-latency",
        str(plan.token_latency),
        "--download-bytes",
        str(plan.download_bytes),
    ]
    return server_process(args, lambda lines: any(s.startswith("URL ") for s in lines))


async def _throughput(url: str, plan: Plan, stock_dir: Path) -> dict[str, Any]:
    company_id, cert_ids, _ = seed_payloads(0)
    package = generate_stock_client(stock_dir)
    clients: list[BenchClient] = [
        RawClient(url),
        OursClient(url),
        StockClient(url, package),
    ]
    try:
        rows = await measure_throughput(
            clients,
            url,
            (company_id, cert_ids),
            concurrencies=plan.concurrencies,
            requests=plan.requests,
            repeats=plan.repeats,
        )
    finally:
        for client in clients:
            await client.aclose()
    return {"rows": rows, "summary": summarise(rows)}


def _static_parts(parts: Sequence[str], plan: Plan) -> dict[str, Any]:
    """The parts served by the static server: throughput, stampede, streaming."""
    results: dict[str, Any] = {}
    company_id, cert_ids, _ = seed_payloads(0)
    with _static_server(plan) as lines, tempfile.TemporaryDirectory() as scratch:
        url = lines[-1].split()[1]
        if "throughput" in parts:
            _note("throughput")
            results["throughput"] = asyncio.run(_throughput(url, plan, Path(scratch)))
        if "stampede" in parts:
            _note("stampede")
            results["stampede"] = asyncio.run(
                measure_stampede(url, company_id, plan.callers)
            )
        if "streaming" in parts:
            _note("streaming")
            child = ["-m", "tests.bench._stream_child", "--url", url]
            child += ["--company", company_id, "--cert", cert_ids[0], "--dir", scratch]
            results["streaming"] = run_child(child, timeout=600)
    return results


def _sandbox_env(lines: Sequence[str]) -> dict[str, str]:
    env = {}
    for line in lines:
        if line.startswith("export "):
            name, _, value = line.removeprefix("export ").partition("=")
            env[name] = shlex.split(value)[0] if value else ""
    return env


def _export_once(size: int) -> dict[str, Any]:
    """Export `size` certificates from a fresh sandbox process, in a fresh child."""
    company_id = Store(
        seed=0, companies=1, per_company=size, upload_delay=0.0
    ).company_ids[0]
    sandbox = ["-m", "gosmarter_async.sandbox", "--companies", "1"]
    sandbox += ["--certificates", str(size)]
    # The per-client rate limit is the sandbox's, not the pipeline's, to measure.
    sandbox += ["--rate-limit", "1000000", "--rate-burst", "1000000"]
    started = server_process(
        sandbox, lambda lines: any("GATEWAY_URL" in s for s in lines)
    )
    with started as lines, tempfile.TemporaryDirectory() as scratch:
        child = ["-m", "tests.bench._export_child", "--company", company_id]
        return run_child(
            [*child, "--dir", scratch], timeout=900, env=_sandbox_env(lines)
        )


def _pipeline(plan: Plan) -> dict[str, Any]:
    """Export each size `export_repeats` times, sizes alternating; medians."""
    runs = []
    for repeat in range(plan.export_repeats):
        for size in plan.export_sizes:
            _note(f"pipeline {size} ({repeat + 1}/{plan.export_repeats})")
            runs.append(_export_once(size))
    medians = []
    for size in plan.export_sizes:
        mine = [r for r in runs if r["certificates"] == size]
        medians.append(
            {
                "certificates": size,
                "runs": len(mine),
                **{
                    key: statistics.median(r[key] for r in mine)
                    for key in (
                        "seconds",
                        "certs_per_s",
                        "peak_rss_mib",
                        "peak_growth_mib",
                        "requests",
                        "retries",
                    )
                },
            }
        )
    return {"runs": runs, "summary": medians}


def _machine() -> dict[str, Any]:
    model = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    versions = {
        name: metadata.version(name)
        for name in (
            "aiohttp",
            "httpx",
            "attrs",
            "tenacity",
            "orjson",
            "openapi-python-client",
        )
        if _installed(name)
    }
    return {
        "platform": platform.platform(),
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
        "cpu_model": model,
        "load_avg_start": os.getloadavg(),
        "versions": versions,
    }


def _installed(name: str) -> bool:
    try:
        metadata.version(name)
    except metadata.PackageNotFoundError:
        return False
    return True


def _note(what: str) -> None:
    print(f"# {time.strftime('%H:%M:%S')} {what}...", flush=True)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m tests.bench", description="Benchmarks of issue 5."
    )
    parser.add_argument("--quick", action="store_true", help="small sizes, no targets")
    parser.add_argument(
        "--out",
        type=Path,
        help="results folder (tests/bench/results; --quick: a new temporary one)",
    )
    parser.add_argument("--only", action="append", choices=PARTS, help="run a part")
    parser.add_argument("--requests", type=int, help="requests per throughput run")
    parser.add_argument(
        "--concurrency", type=int, action="append", help="a concurrency level"
    )
    return parser


def _plan(args: argparse.Namespace) -> Plan:
    plan = QUICK if args.quick else FULL
    if args.requests:
        plan = evolve(plan, requests=args.requests)
    if args.concurrency:
        plan = evolve(plan, concurrencies=tuple(args.concurrency))
    return plan


def run(plan: Plan, parts: Sequence[str], out: Path) -> dict[str, Any]:
    """Run `parts` at the sizes of `plan`; write bench.json and throughput.png.

    Args:
        plan: The sizes.
        parts: Which parts to run.
        out: The results folder (created).

    Returns:
        The results, with the targets.
    """
    began = time.perf_counter()
    results: dict[str, Any] = {
        "date": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "machine": _machine(),
        "plan": _plan_json(plan),
        "parts": list(parts),
    }
    results.update(_static_parts(parts, plan))
    if "pipeline" in parts:
        results["pipeline"] = _pipeline(plan)
    results["machine"]["load_avg_end"] = os.getloadavg()
    results["seconds"] = time.perf_counter() - began
    results["targets"] = check_targets(results, enforce=plan.judge)
    out.mkdir(parents=True, exist_ok=True)
    (out / "bench.json").write_text(json.dumps(results, indent=1) + "\n")
    if "throughput" in results:
        chart(results["throughput"]["summary"], out / "throughput.png")
    return results


def _plan_json(plan: Plan) -> dict[str, Any]:
    return {
        "requests": plan.requests,
        "repeats": plan.repeats,
        "concurrencies": list(plan.concurrencies),
        "callers": plan.callers,
        "token_latency": plan.token_latency,
        "download_bytes": plan.download_bytes,
        "export_sizes": list(plan.export_sizes),
        "export_repeats": plan.export_repeats,
        "judge": plan.judge,
    }


def main(argv: Sequence[str] | None = None) -> int:
    """Run the bench; 1 when a judged target is missed, else 0."""
    args = _parser().parse_args(argv)
    plan = _plan(args)
    out = args.out or DEFAULT_OUT
    if args.quick and args.out is None:
        # A smoke run must not overwrite the committed results of a full run.
        out = Path(tempfile.mkdtemp(prefix="gosmarter-bench-quick-"))
    results = run(plan, args.only or PARTS, out)
    print(render_tables(results, results["targets"]))
    print(f"\n# {results['seconds']:.0f} s; results in {out}")
    missed = [t for t in results["targets"] if t["holds"] is False]
    return 1 if missed else 0
