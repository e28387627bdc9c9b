"""`gosmarter export` and `gosmarter demo`: the bulk export, progress and summary."""

from __future__ import annotations

import asyncio
import datetime
import tempfile
import uuid
from collections.abc import Callable, Coroutine, Sequence
from pathlib import Path
from typing import Any

import click
from attrs import frozen
from rich.console import Console

from .._client import GoSmarterClient
from .._config import Settings
from .._generated.models import MillCertificationStatus
from ..auth import ClientCredentialsTokenProvider
from ..export import (
    ALL_KINDS,
    BULK_RETRY,
    BULK_TOKEN_RETRY,
    ExportInterruptedError,
    ExportResult,
    export_certificates,
    verify,
)
from ..export._companies import user_company_ids
from ..sandbox import Sandbox
from ._app import Context, cli
from ._errors import EXIT_VERIFY, CliError
from ._progress import ExportBar, summary_table

__all__ = ["demo", "export"]


@frozen(kw_only=True)
class _Job:
    """One export as the options describe it."""

    out: Path
    company_ids: Sequence[str]  # empty: all of the user's companies
    include: tuple[str, ...] = ALL_KINDS
    status: str | None = None
    since: datetime.datetime | None = None
    concurrency: int = 8


def _parse_include(
    _: click.Context, __: click.Parameter, value: str
) -> tuple[str, ...]:
    kinds = tuple(k.strip() for k in value.split(",") if k.strip())
    unknown = sorted(set(kinds) - set(ALL_KINDS))
    if unknown or not kinds:
        raise click.BadParameter(
            f"choose one or more of {','.join(ALL_KINDS)}, comma-separated"
        )
    return kinds


def _parse_companies(
    _: click.Context, __: click.Parameter, value: tuple[str, ...]
) -> tuple[str, ...]:
    for company in value:
        try:
            uuid.UUID(company)
        except ValueError:
            raise click.BadParameter(
                f"{company!r} is not a company id (a UUID)"
            ) from None
    return value


def _parse_since(
    _: click.Context, __: click.Parameter, value: str | None
) -> datetime.datetime | None:
    if value is None:
        return None
    try:
        when = datetime.datetime.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(
            f"{value!r} is not an ISO 8601 date or time, e.g. 2026-01-31T12:00:00Z"
        ) from None
    # A time without an offset is read as UTC, the API's own zone.
    return when if when.tzinfo else when.replace(tzinfo=datetime.UTC)


_concurrency = click.option(
    "--concurrency",
    type=click.IntRange(1, 64),
    default=8,
    show_default=True,
    envvar="GOSMARTER_CONCURRENCY",
    help="Certificates fetched at once.",
)
_include = click.option(
    "--include",
    default=",".join(ALL_KINDS),
    show_default=True,
    callback=_parse_include,
    help="Files to export per certificate, comma-separated.",
)


@cli.command()
@click.option(
    "--company",
    "companies",
    multiple=True,
    metavar="ID",
    callback=_parse_companies,
    help="A company to export (repeat for several).",
)
@click.option(
    "--all-companies",
    is_flag=True,
    help="Export every company of the user the credentials belong to.",
)
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    required=True,
    envvar="GOSMARTER_EXPORT_DIR",
    help="The directory to export into (a rerun resumes there).",
)
@_include
@click.option(
    "--status",
    type=click.Choice([s.value for s in MillCertificationStatus]),
    help="Only certifications in this status.",
)
@click.option(
    "--since",
    callback=_parse_since,
    metavar="WHEN",
    help="Only certifications updated at or after this ISO 8601 time (UTC if bare).",
)
@_concurrency
@click.pass_obj
def export(
    ctx: Context,
    *,
    companies: tuple[str, ...],
    all_companies: bool,
    out: Path,
    include: tuple[str, ...],
    status: str | None,
    since: datetime.datetime | None,
    concurrency: int,
) -> None:
    """Export mill certifications: details, CSV, scans and MTC, with a manifest.

    Resumable: rerun the same command after an interruption and it skips (after
    verifying) what is already exported. With --all-companies, the companies are
    those listUserCompanies answers for the token's user and an empty id list.
    """
    if bool(companies) == all_companies:
        raise click.UsageError("give --company ID (one or more) or --all-companies")
    job = _Job(
        out=out,
        company_ids=companies,
        include=include,
        status=status,
        since=since,
        concurrency=concurrency,
    )
    settings = ctx.settings()
    _run_and_report(job, lambda bar: _export(settings, job, bar))


@cli.command()
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    help="The directory to export into; a new temporary directory by default.",
)
@click.option("--companies", type=click.IntRange(1, 50), default=3, show_default=True)
@click.option(
    "--certificates",
    type=click.IntRange(1, 10_000),
    default=40,
    show_default=True,
    help="Certificates per company.",
)
@click.option("--seed", type=int, default=0, show_default=True)
@_concurrency
def demo(
    *, out: Path | None, companies: int, certificates: int, seed: int, concurrency: int
) -> None:
    """Export everything from a local sandbox seeded with real mill certificates.

    Starts the sandbox in this process, exports every certificate of every
    company with live progress, verifies the result and prints a summary. Needs
    no credentials; exits 0 only if the export verifies.
    """
    job = _Job(
        out=out or Path(tempfile.mkdtemp(prefix="gosmarter-demo-")),
        company_ids=(),
        concurrency=concurrency,
    )
    sandbox = Sandbox(
        seed=seed, companies=companies, certificates_per_company=certificates
    )
    _run_and_report(job, lambda bar: _demo(sandbox, job, bar), title="gosmarter demo")


def _run_and_report(
    job: _Job,
    start: Callable[[ExportBar], Coroutine[Any, Any, ExportResult]],
    *,
    title: str = "gosmarter export",
) -> None:
    """Run an export with a progress bar, then verify it and print the summary.

    Args:
        job: The export, for its output directory.
        start: Runs the export, reporting to the bar it is given.
        title: The summary's title: the command that ran.

    Raises:
        ExportInterruptedError: on Ctrl-C, with the counts so far.
        CliError: the export did not verify.
    """
    bar = ExportBar(Console(stderr=True))
    try:
        with bar:
            result = asyncio.run(start(bar))
    except KeyboardInterrupt:
        raise ExportInterruptedError(bar.done, bar.total, "stopped by Ctrl-C") from None
    report = verify(job.out)
    Console().print(summary_table(result, report, title))
    if not report.ok:
        more = len(report.problems) - 1
        also = f" (and {more} more)" if more else ""
        raise CliError(
            f"export did not verify: {report.problems[0]}{also}", EXIT_VERIFY
        )


async def _export(settings: Settings, job: _Job, bar: ExportBar) -> ExportResult:
    """Export with a client configured by `settings`, under the bulk retry policy."""
    provider = ClientCredentialsTokenProvider.from_settings(
        settings, retry=BULK_TOKEN_RETRY
    )
    client = GoSmarterClient(settings, token_provider=provider, retry=BULK_RETRY)
    async with provider, client:
        company_ids = list(job.company_ids)
        if not company_ids:
            company_ids = await user_company_ids(client, provider)
        return await export_certificates(
            client,
            out_dir=job.out,
            company_ids=company_ids,
            include=job.include,
            status=job.status,
            since=job.since,
            concurrency=job.concurrency,
            progress=bar,
        )


async def _demo(sandbox: Sandbox, job: _Job, bar: ExportBar) -> ExportResult:
    """Start `sandbox`, then export all of its user's companies."""
    async with sandbox:
        return await _export(sandbox.settings, job, bar)
