"""Part 1: throughput and latency of the three clients, interleaved and repeated.

For each concurrency and endpoint, every client is warmed up, then the clients run
in turn (raw, ours, stock, raw, ours, stock, ...) `repeats` times. Each run sends
`requests` GETs from `concurrency` coroutines and records the wall time, the
latency of every request, this process's CPU time (`time.process_time`: the
client's, since every server lives in another process) and the server process's
CPU time, to tell when the server rather than the client set the pace.
"""

from __future__ import annotations

import asyncio
import statistics
import time
from collections.abc import Sequence
from typing import Any

import aiohttp

from ._clients import BenchClient, Call

__all__ = ["ENDPOINTS", "measure_throughput", "run_load", "summarise"]

ENDPOINTS = ("entitlements", "certification")


async def run_load(call: Call, requests: int, concurrency: int) -> dict[str, float]:
    """Send `requests` calls from `concurrency` coroutines; time every one.

    Args:
        call: One request.
        requests: How many to send.
        concurrency: Coroutines sending them.

    Returns:
        Requests per second, p50 and p99 latency (ms), client CPU per request (us).
    """
    latencies = [0.0] * requests
    numbers = iter(range(requests))

    async def worker() -> None:
        for number in numbers:
            began = time.perf_counter()
            await call()
            latencies[number] = time.perf_counter() - began

    cpu, began = time.process_time(), time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    wall, cpu = time.perf_counter() - began, time.process_time() - cpu
    cuts = statistics.quantiles(latencies, n=100, method="inclusive")
    return {
        "rps": requests / wall,
        "p50_ms": cuts[49] * 1000,
        "p99_ms": cuts[98] * 1000,
        "cpu_us": cpu / requests * 1e6,
        "wall_s": wall,
    }


async def _server_cpu(stats: aiohttp.ClientSession, url: str) -> float:
    async with stats.get(f"{url}/_bench/stats") as response:
        answer: dict[str, float] = await response.json()
    return answer["cpu"]


async def measure_throughput(
    clients: Sequence[BenchClient],
    url: str,
    ids: tuple[str, Sequence[str]],
    *,
    concurrencies: Sequence[int],
    requests: int,
    repeats: int,
) -> list[dict[str, Any]]:
    """Run every client at every concurrency on both endpoints, interleaved.

    Args:
        clients: The clients, in the order they take turns.
        url: The static server's base URL.
        ids: The company id and the certificate ids it serves.
        concurrencies: The concurrency levels.
        requests: Requests per run.
        repeats: Runs per client per (endpoint, concurrency).

    Returns:
        One row per run, with the client, endpoint, concurrency and repeat.
    """
    company_id, cert_ids = ids
    rows: list[dict[str, Any]] = []
    async with aiohttp.ClientSession() as stats:
        for concurrency in concurrencies:
            for endpoint in ENDPOINTS:
                calls = {
                    c.name: _cycling(c, endpoint, company_id, cert_ids) for c in clients
                }
                for call in calls.values():
                    # Fill the pool and (for ours) fetch the token before timing.
                    await run_load(call, max(2 * concurrency, 50), concurrency)
                for repeat in range(repeats):
                    for client in clients:
                        before = await _server_cpu(stats, url)
                        row = await run_load(calls[client.name], requests, concurrency)
                        server = await _server_cpu(stats, url) - before
                        row["server_busy"] = server / row["wall_s"]
                        rows.append(
                            {
                                "client": client.name,
                                "endpoint": endpoint,
                                "concurrency": concurrency,
                                "repeat": repeat,
                                "requests": requests,
                                **row,
                            }
                        )
    return rows


def _cycling(
    client: BenchClient, endpoint: str, company_id: str, cert_ids: Sequence[str]
) -> Call:
    """A call that walks through the certificates, so bodies vary run to run."""
    calls = [client.call(endpoint, company_id, cert) for cert in cert_ids]
    if endpoint == "entitlements":
        return calls[0]
    turn = iter(range(1 << 62))

    def next_call() -> Any:
        return calls[next(turn) % len(calls)]()

    return next_call


def summarise(rows: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """Medians per (endpoint, concurrency, client), and the side-by-side ratios.

    The ratios b/a and b/c are taken within each repeat (runs seconds apart, under
    the same machine load) and their median is reported.

    Args:
        rows: The rows of `measure_throughput`.

    Returns:
        One summary per (endpoint, concurrency, client).
    """
    keys = sorted({(r["endpoint"], r["concurrency"]) for r in rows})
    out: list[dict[str, Any]] = []
    for endpoint, concurrency in keys:
        group = [
            r
            for r in rows
            if (r["endpoint"], r["concurrency"]) == (endpoint, concurrency)
        ]
        by_repeat: dict[int, dict[str, float]] = {}
        for r in group:
            by_repeat.setdefault(r["repeat"], {})[r["client"]] = r["rps"]
        ratios = {
            "b_over_a": _median_ratio(by_repeat, "ours", "raw"),
            "b_over_c": _median_ratio(by_repeat, "ours", "stock"),
        }
        for name in dict.fromkeys(r["client"] for r in group):
            mine = [r for r in group if r["client"] == name]
            medians = {
                field: statistics.median(r[field] for r in mine)
                for field in ("rps", "p50_ms", "p99_ms", "cpu_us", "server_busy")
            }
            out.append(
                {
                    "endpoint": endpoint,
                    "concurrency": concurrency,
                    "client": name,
                    "runs": len(mine),
                    **medians,
                    **ratios,
                }
            )
    return out


def _median_ratio(
    by_repeat: dict[int, dict[str, float]], top: str, bottom: str
) -> float | None:
    ratios = [
        runs[top] / runs[bottom]
        for runs in by_repeat.values()
        if top in runs and bottom in runs
    ]
    return statistics.median(ratios) if ratios else None
