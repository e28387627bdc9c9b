"""The bench's smallest slice, so that a broken bench shows up in the quick suite."""

from __future__ import annotations

import json
from pathlib import Path

from attrs import evolve

from tests.bench._main import QUICK, run
from tests.bench._report import check_targets


def test_bench_quick_throughput_writes_json_and_chart(tmp_path: Path) -> None:
    plan = evolve(QUICK, requests=20, concurrencies=(4,))

    results = run(plan, ["throughput"], tmp_path)

    written = json.loads((tmp_path / "bench.json").read_text())
    clients = {row["client"] for row in written["throughput"]["summary"]}
    assert {"raw", "ours", "stock"} == clients
    assert all(row["rps"] > 0 for row in written["throughput"]["summary"])
    assert (tmp_path / "throughput.png").read_bytes().startswith(b"\x89PNG")
    assert all(t["holds"] is None for t in results["targets"])


def test_bench_stampede_single_flight_sends_one_token_request(tmp_path: Path) -> None:
    plan = evolve(QUICK, callers=200, token_latency=0.02)

    results = run(plan, ["stampede"], tmp_path)

    runs = {(r["view"], r["provider"]): r for r in results["stampede"]["runs"]}
    assert 1 == runs["provider", "ours"]["token_requests"]
    assert 1 == runs["client", "ours"]["token_requests"]
    assert 200 == runs["provider", "naive"]["token_requests"]


def test_check_targets_judges_only_when_enforced() -> None:
    results = {"streaming": {"peak_growth_mib": 40.0}}

    judged = check_targets(results, enforce=True)
    unjudged = check_targets(results, enforce=False)

    assert [False] == [t["holds"] for t in judged]
    assert [None] == [t["holds"] for t in unjudged]
