"""Live progress of an export, and the summary table printed at the end (rich)."""

from __future__ import annotations

from types import TracebackType

from attrs import Factory, define, field
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Table

from ..export import CertificateRecord, ExportResult, VerifyReport

__all__ = ["ExportBar", "human_bytes", "summary_table"]


@define
class ExportBar:
    """An `ExportProgress` drawing a rich progress bar on stderr.

    The total grows as the listing is walked, so the bar's end moves until every
    page is read. Also keeps the counts an interruption message needs.

    Args:
        console: Where to draw (stderr, so that stdout stays for results).
    """

    console: Console
    done: int = 0
    total: int = 0
    _progress: Progress = field(
        init=False, repr=False, default=Factory(lambda self: _bar(self.console), True)
    )
    _task: TaskID = field(
        init=False,
        repr=False,
        default=Factory(
            lambda self: self._progress.add_task("export", total=None), True
        ),
    )

    def __enter__(self) -> ExportBar:
        self._progress.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._progress.stop()

    def listed(self, total: int) -> None:
        """Move the end of the bar to `total` certificates."""
        self.total = total
        self._progress.update(self._task, total=total)

    def completed(self, record: CertificateRecord, *, skipped: bool) -> None:
        """Advance the bar by one certificate."""
        self.done += 1
        self._progress.update(self._task, completed=self.done)


def _bar(console: Console) -> Progress:
    return Progress(
        TextColumn("[bold]exporting"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=True,
        # Redrawing a bar only makes sense on a terminal, not in a log or a pipe.
        disable=not console.is_terminal,
    )


def human_bytes(count: float) -> str:
    """`count` bytes with a binary unit, e.g. `1.5 MiB`."""
    for unit in ("B", "KiB", "MiB", "GiB"):
        if abs(count) < 1024 or unit == "GiB":
            return f"{count:.0f} {unit}" if unit == "B" else f"{count:.1f} {unit}"
        count /= 1024
    raise AssertionError("unreachable")


def _count(value: int | None) -> str:
    return "n/a" if value is None else str(value)


def summary_table(
    result: ExportResult, report: VerifyReport, title: str = "gosmarter export"
) -> Table:
    """The end-of-export summary: what was exported, what it cost, whether it verified.

    Args:
        result: What the export returned.
        report: What `verify` found afterwards.
        title: The table's title (the command that ran).

    Returns:
        A two-column table, ready to print.
    """
    table = Table(title=title, show_header=False)
    table.add_column("what", style="bold")
    table.add_column("value", justify="right")
    resumed = f" ({result.skipped} resumed)" if result.skipped else ""
    rows = (
        ("certificates", f"{result.certificates}{resumed}"),
        ("heats", str(result.heats)),
        ("files", str(result.files)),
        ("bytes", human_bytes(result.bytes)),
        ("requests", str(result.requests)),
        ("retries", str(result.retries)),
        ("token requests", _count(result.token_requests)),
        ("elapsed", f"{result.duration:.1f} s"),
        ("throughput", f"{human_bytes(result.throughput)}/s"),
        ("output", str(result.out_dir)),
        ("verified", "yes" if report.ok else f"NO: {len(report.problems)} problem(s)"),
    )
    for name, value in rows:
        table.add_row(name, value)
    return table
