"""The chaos scenarios of issue 6, how each is run, and what each must show.

A scenario is a set of sandbox fault options plus, for two of them, a disruption
while the export runs (the sandbox or the export killed midway). `run_scenario`
runs it and `check` holds it to the issue's bar: every certificate exactly once and
byte-identical to a fault-free export, no partial files, bounded requests and token
requests, nothing pending or leaked at the end.
"""

from __future__ import annotations

import json
import math
import time
from pathlib import Path
from typing import Literal

from attrs import define, field, frozen

from gosmarter_async.export import verify
from tests.chaos.harness import (
    ExportRun,
    SandboxProcess,
    export_process,
    finish,
    leaks,
    leftovers,
    tree_digest,
    wait_for_journal,
)

Disruption = Literal["none", "restart_sandbox", "kill_export"]


@frozen
class Size:
    """How much data: companies x certificates per company, from one seed."""

    companies: int
    per_company: int
    # Seconds one export may take before the run counts as hung.
    timeout: float

    @property
    def certificates(self) -> int:
        """Certificates in the export."""
        return self.companies * self.per_company

    def args(self) -> tuple[str, ...]:
        """The sandbox options that seed this much data."""
        return (
            "--seed",
            "6",
            "--companies",
            str(self.companies),
            "--certificates",
            str(self.per_company),
        )


# The 2,000 certificates; and a slice small enough for the quick run.
FULL = Size(companies=2, per_company=1000, timeout=600.0)
QUICK = Size(companies=1, per_company=60, timeout=60.0)


@frozen(kw_only=True)
class Scenario:
    """One fault setting and its expected costs.

    Args:
        name: A short id (the test id and the table's first column).
        title: What happens, for the table.
        faults: Sandbox fault options.
        disruption: What is killed midway, if anything.
        concurrency: Certificates fetched at once.
        request_factor: The most gateway requests as a multiple of a fault-free
            run's, given the fault rate.
        request_slack: Requests allowed on top (listing again after a kill,
            refused connections while the sandbox restarts).
        token_lifetime: The forced token lifetime, which sets the token bound.
        token_slack: Token requests allowed on top of one per run and the
            refreshes the lifetime implies (attempts during an outage).
        stable_secret: Give the sandbox a fixed client secret, so that a
            restarted process accepts the credentials the export holds.
        known_bug: Why the scenario fails today, when an SDK bug makes it fail.
        bug_is_certain: Whether the bug shows on every full run (a strict xfail),
            or only when the timing exposes it (a non-strict one).
    """

    name: str
    title: str
    faults: tuple[str, ...] = ()
    disruption: Disruption = "none"
    concurrency: int = 8
    request_factor: float = 1.0
    request_slack: int = 0
    token_lifetime: float | None = None
    token_slack: int = 0
    stable_secret: bool = False
    known_bug: str | None = None
    bug_is_certain: bool = True

    def max_token_requests(self, runs: int, duration: float) -> int:
        """The most token requests this scenario may take."""
        bound = 2 * runs + self.token_slack
        if self.token_lifetime is not None:
            # A token is refreshed once at most half its life has passed
            # (the provider's soft window), so at most 2 refreshes per lifetime;
            # 1.5x on top for refresh-ahead jitter and 401 replays.
            bound += math.ceil(3 * duration / self.token_lifetime)
        return bound


BASELINE = Scenario(name="fault-free", title="no faults (the reference)")

# The suite's first runs found three bugs, fixed since (e28e407, 9b62eb9): MTC
# renders not retried after a 503 or a drop; a restarted sandbox process drawing a
# new client secret; a killed stream save's .part file never swept. Each has a
# regression test in test_found_bugs.py.

SCENARIOS = (
    Scenario(
        name="503s",
        title="10% of gateway requests answer 503",
        faults=("--error-rate", "0.10", "--fault-seed", "1"),
        request_factor=1.25,
    ),
    Scenario(
        name="429s",
        title="5% answer 429 with Retry-After: 1",
        faults=("--throttle-rate", "0.05", "--retry-after", "1", "--fault-seed", "2"),
        request_factor=1.15,
    ),
    Scenario(
        name="drops",
        title="2% of connections dropped (half of them mid-body)",
        faults=("--drop-rate", "0.02", "--fault-seed", "3"),
        request_factor=1.1,
    ),
    Scenario(
        name="latency",
        title="every answer delayed 200-2,000 ms",
        faults=("--latency", "0.2", "--latency-jitter", "1.8", "--fault-seed", "4"),
        # The delay is on every answer, so more in flight keeps the run short.
        concurrency=64,
        request_factor=1.0,
    ),
    Scenario(
        name="token-2s",
        title="access tokens live 2 s",
        faults=("--fault-token-lifetime", "2"),
        request_factor=1.05,
        token_lifetime=2,
    ),
    Scenario(
        name="token-outage",
        title="token endpoint answers 503 for 10 s midway (tokens live 5 s)",
        faults=("--fault-token-lifetime", "5", "--token-outage", "5", "10"),
        request_factor=1.05,
        token_lifetime=5,
        token_slack=40,
    ),
    Scenario(
        name="sandbox-restart",
        title="sandbox SIGKILLed midway, restarted on the same port and seed",
        disruption="restart_sandbox",
        request_factor=1.02,
        request_slack=200,
        token_slack=2,
        stable_secret=True,
    ),
    Scenario(
        name="export-kill",
        title="export SIGKILLed midway, then run again",
        disruption="kill_export",
        request_factor=1.02,
        request_slack=100,
    ),
)

# The slice of the normal test run: the scenarios that finish in seconds at the
# small size (429s spend ~14 s in Retry-After pauses; latency and the token
# lifetimes need time to mean anything).
QUICK_SCENARIOS = ("503s", "drops", "sandbox-restart", "export-kill")


@define
class Outcome:
    """What a scenario did: the export runs and the checks' verdict."""

    scenario: Scenario
    size: Size
    out: Path
    runs: list[ExportRun] = field(factory=list)
    duration: float = 0.0
    problems: list[str] = field(factory=list)

    @property
    def requests(self) -> int:
        """Gateway requests, across runs."""
        return sum(r.report.get("requests", 0) for r in self.runs)

    @property
    def retries(self) -> int:
        """Retries, across runs."""
        return sum(r.report.get("retries", 0) for r in self.runs)

    @property
    def token_requests(self) -> int:
        """Token requests, across runs."""
        return sum(r.report.get("token_requests") or 0 for r in self.runs)

    @property
    def ok(self) -> bool:
        """Whether every check passed."""
        return not self.problems


def run_scenario(scenario: Scenario, size: Size, work: Path) -> Outcome:
    """Run `scenario` against a fresh sandbox process; the sandbox always stops.

    Args:
        scenario: What goes wrong.
        size: How much data.
        work: A fresh directory for the export and the logs.

    Returns:
        The runs, not yet checked.
    """
    out = work / "export"
    outcome = Outcome(scenario, size, out)
    sandbox = SandboxProcess(size.args() + scenario.faults, work / "sandbox.log")
    if scenario.stable_secret:
        sandbox.secret = "chaos-fixed-secret-0b7e4d2a91c3"
    started = time.monotonic()
    try:
        sandbox.start()
        if scenario.disruption == "kill_export":
            _kill_export_midway(scenario, size, sandbox, out, work)
        run = _export(scenario, size, sandbox, out, work, restart_midway=(
            scenario.disruption == "restart_sandbox"))  # fmt: skip
        outcome.runs.append(run)
    finally:
        sandbox.stop()
    outcome.duration = time.monotonic() - started
    sandbox_leaks = leaks((work / "sandbox.log").read_text())
    if sandbox_leaks:
        outcome.problems.append(f"sandbox stderr: {sandbox_leaks[:3]}")
    return outcome


def _kill_export_midway(
    scenario: Scenario, size: Size, sandbox: SandboxProcess, out: Path, work: Path
) -> None:
    log = work / "export-killed.log"
    with export_process(sandbox.env, out, scenario.concurrency, log) as proc:
        wait_for_journal(proc, out, size.certificates // 2, size.timeout)
        proc.kill()
        proc.wait(timeout=10)


def _export(
    scenario: Scenario,
    size: Size,
    sandbox: SandboxProcess,
    out: Path,
    work: Path,
    *,
    restart_midway: bool,
) -> ExportRun:
    log = work / "export.log"
    with export_process(sandbox.env, out, scenario.concurrency, log) as proc:
        if restart_midway:
            wait_for_journal(proc, out, size.certificates // 2, size.timeout)
            sandbox.kill()
            sandbox.start()  # the same port: the export's URLs stay valid
        return finish(proc, log, size.timeout)


def check(outcome: Outcome, baseline: Outcome, reference: dict[str, str]) -> None:
    """Record in `outcome.problems` every way it falls short of the issue's bar.

    Args:
        outcome: The scenario's runs.
        baseline: The fault-free run at the same size.
        reference: The fault-free export's `tree_digest`.
    """
    problems = outcome.problems
    run = outcome.runs[-1]
    if run.returncode != 0 or run.report.get("outcome") != "ok":
        problems.append(f"export failed: {run.report.get('outcome')}")
    for each in outcome.runs:
        if each.report.get("pending_tasks"):
            problems.append(f"tasks left pending: {each.report['pending_tasks']}")
        if leaks(each.stderr):
            problems.append(f"export stderr: {leaks(each.stderr)[:3]}")
    if problems:
        return
    _check_files(outcome, outcome.out, reference)
    _check_bounds(outcome, baseline)


def _check_files(outcome: Outcome, out: Path, reference: dict[str, str]) -> None:
    problems = outcome.problems
    lines = (out / "details.jsonl").read_bytes().splitlines()
    ids = [json.loads(line)["millCertificationId"] for line in lines]
    if len(ids) != outcome.size.certificates or len(set(ids)) != len(ids):
        problems.append(
            f"details.jsonl has {len(ids)} lines, {len(set(ids))} distinct, "
            f"expected {outcome.size.certificates}"
        )
    report = verify(out)
    if not report.ok:
        problems.append(f"verify: {report.problems[:3]}")
    partial = leftovers(out)
    if partial:
        problems.append(f"partial files left: {partial[:3]}")
    digest = tree_digest(out)
    if digest != reference:
        differ = sorted(set(digest.items()) ^ set(reference.items()))
        problems.append(f"{len(differ)} files differ from the fault-free export")


def _check_bounds(outcome: Outcome, baseline: Outcome) -> None:
    scenario = outcome.scenario
    most = scenario.request_factor * baseline.requests + scenario.request_slack
    if outcome.requests > most:
        outcome.problems.append(
            f"{outcome.requests} requests, more than the bound of {most:.0f}"
        )
    runs = len(outcome.runs) + (scenario.disruption == "kill_export")
    tokens = scenario.max_token_requests(runs, outcome.duration)
    if outcome.token_requests > tokens:
        outcome.problems.append(
            f"{outcome.token_requests} token requests, more than the bound of {tokens}"
        )
