"""The chaos report: one table row per scenario, for the terminal and the README."""

from __future__ import annotations

import datetime
from pathlib import Path

from tests.chaos.scenarios import Outcome

# The longest outcome cell; the test's failure message has the rest.
MAX_VERDICT = 160

# Every outcome of this pytest session, in the order the scenarios ran.
OUTCOMES: list[Outcome] = []

HEADER = (
    "| scenario | certificates | requests | retries | token requests "
    "| duration | outcome |\n"
    "|---|---:|---:|---:|---:|---:|---|"
)


def row(outcome: Outcome) -> str:
    """One Markdown table row."""
    verdict = "pass" if outcome.ok else "FAIL: " + "; ".join(outcome.problems)
    if len(verdict) > MAX_VERDICT:
        verdict = verdict[: MAX_VERDICT - 3].rstrip() + "..."
    return (
        f"| {outcome.scenario.name}: {outcome.scenario.title} "
        f"| {outcome.size.certificates:,} | {outcome.requests:,} "
        f"| {outcome.retries:,} | {outcome.token_requests:,} "
        f"| {outcome.duration:.1f} s | {verdict.replace('|', '/')} |"
    )


def table(outcomes: list[Outcome]) -> str:
    """The Markdown table of `outcomes`."""
    return "\n".join([HEADER, *(row(o) for o in outcomes)])


def write(path: Path, outcomes: list[Outcome]) -> None:
    """Write the dated report to `path`."""
    today = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC")
    notes = (
        "Requests and token requests are the export client's own counts (for "
        "export-kill: the rerun's; the killed run cannot report). Duration includes "
        "starting the sandbox process. Produced by `nox -s chaos` (that is, "
        "`pytest tests/chaos -m slow` with GOSMARTER_CHAOS_REPORT set)."
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(
        f"# Chaos run, {today}\n\n{table(outcomes)}\n\n{notes}\n", encoding="utf-8"
    )
