"""Chaos fixtures: fault-free references per size, and the end-of-run report."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.chaos import report
from tests.chaos.harness import tree_digest
from tests.chaos.scenarios import BASELINE, Outcome, Size, check, run_scenario

# Set by `nox -s chaos`: where the dated Markdown table goes.
REPORT_ENV = "GOSMARTER_CHAOS_REPORT"


class References:
    """Fault-free exports, one per size, made on first use and kept for the session."""

    def __init__(self, root: Path) -> None:
        self._root = root
        self._done: dict[Size, tuple[Outcome, dict[str, str]]] = {}

    def get(self, size: Size) -> tuple[Outcome, dict[str, str]]:
        if size not in self._done:
            work = self._root / f"reference-{size.certificates}"
            work.mkdir()
            outcome = run_scenario(BASELINE, size, work)
            digest = tree_digest(outcome.out) if outcome.runs else {}
            check(outcome, outcome, digest)
            report.OUTCOMES.append(outcome)
            assert outcome.ok, outcome.problems
            self._done[size] = (outcome, digest)
        return self._done[size]


@pytest.fixture(scope="session")
def references(tmp_path_factory: pytest.TempPathFactory) -> References:
    return References(tmp_path_factory.mktemp("chaos"))


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if not report.OUTCOMES:
        return
    terminalreporter.section("chaos scenarios")
    terminalreporter.write_line(report.table(report.OUTCOMES))
    target = os.environ.get(REPORT_ENV)
    if target:
        report.write(Path(target), report.OUTCOMES)
        terminalreporter.write_line(f"written to {target}")
