"""The bulk export: walk every page, fetch each certificate's files, journal them.

One producer walks the listing lazily and feeds a queue bounded by the concurrency;
a fixed pool of workers takes certificates off it. Memory is therefore bounded by
the concurrency (plus one id per certificate, for de-duplication and the final
sort), never by the certificates' details or files, which go straight to disk.
"""

from __future__ import annotations

import asyncio
import datetime
import logging
import os
import time
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from attrs import define, evolve, field, frozen

from .._errors import (
    RateLimitError,
    ServerError,
    TokenRateLimitedError,
    TransportError,
)
from .._generated.models import DownloadExport, DownloadGroupBy, MillCertificationStatus
from ._errors import ExportError, ExportInterruptedError
from ._files import FileRecord, canonical_json, remove_stale_temps, write_atomic
from ._journal import CertificateRecord, Journal
from ._layout import (
    ALL_KINDS,
    JOURNAL_NAME,
    cert_dir,
    check_include,
    file_name,
    safe_segment,
)
from ._manifest import Totals, check_record, write_outputs

if TYPE_CHECKING:
    from .._client import ClientStats, GoSmarterClient
    from .._generated.models import MillCertification

__all__ = ["ExportProgress", "ExportResult", "export_certificates"]

log = logging.getLogger("gosmarter_async.export")

# 8 parallel certificates keep a gateway round trip of ~100 ms busy without
# tripping per-client rate limits; 100 per page is the spec's maximum pageSize.
DEFAULT_CONCURRENCY = 8
PAGE_SIZE = 100

# Failures after which a rerun may well succeed: the network, or a gateway that is
# failing or throttling beyond the retry policy. Anything else (a 404 for an unknown
# company, a 403, bad credentials) would fail again and is raised as it is.
_TRANSIENT: tuple[type[BaseException], ...] = (
    TransportError,
    ServerError,
    RateLimitError,
    TokenRateLimitedError,
    OSError,
)


class ExportProgress(Protocol):
    """Receives the export's progress; every method is called on the event loop."""

    def listed(self, total: int) -> None:
        """`total` certificates have been listed so far (the count only grows)."""
        ...

    def completed(self, record: CertificateRecord, *, skipped: bool) -> None:
        """One certificate is complete; `skipped` when resumed from the journal."""
        ...


@frozen(kw_only=True)
class ExportResult:
    """What an export did.

    Args:
        out_dir: Where it wrote.
        certificates: Certificates in the export, resumed ones included.
        skipped: Certificates resumed from an earlier run (verified, not fetched).
        heats: Heats across all certificates.
        files: Files written, across all certificates.
        bytes: Bytes of those files.
        fetched_bytes: Bytes downloaded by this run.
        duration: Seconds the run took.
        requests: The client's count of gateway requests at the end (with any
            calls made on the same client before the export).
        retries: The client's count of retries, likewise.
        token_requests: The client's count of token requests, when its provider
            counts them.
    """

    out_dir: Path
    certificates: int
    skipped: int
    heats: int
    files: int
    bytes: int
    fetched_bytes: int
    duration: float
    requests: int
    retries: int
    token_requests: int | None

    @property
    def throughput(self) -> float:
        """Bytes downloaded per second by this run."""
        return self.fetched_bytes / self.duration if self.duration > 0 else 0.0


@frozen
class _Job:
    company_id: str
    cert_id: str
    heats: int


@define
class _Run:
    """The state of one export run, shared by the producer and the workers."""

    client: GoSmarterClient
    out_dir: Path
    kinds: tuple[str, ...]
    journal: Journal
    progress: ExportProgress | None
    # The company of every certificate listed by this run: the de-duplication set,
    # and the list the final outputs are written from.
    companies: dict[str, str] = field(factory=dict)
    done: int = 0
    skipped: int = 0
    fetched_bytes: int = 0

    async def produce(
        self,
        queue: asyncio.Queue[_Job | None],
        company_ids: Sequence[str],
        filters: dict[str, Any],
        workers: int,
    ) -> None:
        """List every certificate of every company onto the queue, once each."""
        for company_id in company_ids:
            pages = self.client.mill_certifications.iter_mill_certifications(
                company_id, page_size=PAGE_SIZE, **filters
            )
            async for summary in pages:
                cert_id = str(summary.mill_certification_id)
                # Offset pages can repeat an item that moved while we paged.
                if cert_id in self.companies:
                    continue
                self.companies[cert_id] = company_id
                if self.progress is not None:
                    self.progress.listed(len(self.companies))
                await queue.put(_Job(company_id, cert_id, summary.heat_count))
        for _ in range(workers):
            await queue.put(None)

    async def work(self, queue: asyncio.Queue[_Job | None]) -> None:
        """Export certificates off the queue until the end marker."""
        while (job := await queue.get()) is not None:
            record = await self._resumed(job)
            skipped = record is not None
            if record is None:
                record = await self._export(job)
                self.fetched_bytes += record.size
            self.done += 1
            self.skipped += skipped
            if self.progress is not None:
                self.progress.completed(record, skipped=skipped)

    async def _resumed(self, job: _Job) -> CertificateRecord | None:
        """The journal's record of `job` if its files are all still intact."""
        if job.cert_id not in self.journal:
            return None
        record = await asyncio.to_thread(self.journal.read, job.cert_id)
        problems = await asyncio.to_thread(
            check_record, self.out_dir, record, self.kinds
        )
        if record.company_id != job.company_id:
            problems.append(f"it was exported under company {record.company_id}")
        if not problems:
            return record
        log.warning(
            "certificate %s failed verification, fetching it again: %s",
            job.cert_id,
            problems[0],
        )
        return None

    async def _export(self, job: _Job) -> CertificateRecord:
        """Fetch every file of one certificate, then journal it."""
        directory = cert_dir(self.out_dir, job.company_id, job.cert_id)
        await asyncio.to_thread(_prepare_dir, directory)
        files = [await self._fetch(kind, job, directory) for kind in self.kinds]
        record = CertificateRecord(
            cert_id=job.cert_id,
            company_id=job.company_id,
            heats=job.heats,
            files=tuple(files),
        )
        # Only now, with every file in place, does the certificate count as done.
        await asyncio.to_thread(self.journal.append, record)
        return record

    async def _fetch(self, kind: str, job: _Job, directory: Path) -> FileRecord:
        path = directory / file_name(kind, job.cert_id)
        resource = self.client.mill_certifications
        if kind == "details":
            model = await resource.get_mill_certification(job.company_id, job.cert_id)
            return await asyncio.to_thread(_write_details, path, model)
        if kind == "mtc":
            # The spec does not mark this POST idempotent, but an MTC is a render
            # of stored data: asking again has no side effect, so the export may
            # retry it like a GET rather than stop on one 503.
            retry = evolve(self.client.retry_policy, assume_idempotent=True)
            stream = resource.generate_material_test_certificate(
                job.company_id, job.cert_id, retry=retry
            )
        else:
            stream = resource.download_mill_certification(
                job.company_id,
                job.cert_id,
                export=DownloadExport(kind),
                group_by=DownloadGroupBy.PAGE if kind == "scans" else None,
            )
        saved = await stream.save(path)
        return FileRecord(name=path.name, size=saved.size, sha256=saved.sha256)


def _write_details(path: Path, model: MillCertification) -> FileRecord:
    """Write a certification's canonical JSON; in a thread, off the loop.

    Serializing a 21 KB certification takes about 0.4 ms of CPU, during which
    the loop would serve no other download in flight (issue 5).
    """
    return write_atomic(path, canonical_json(model.to_dict()))


def _prepare_dir(directory: Path) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    # Ours are removed here; the ".<name>.*.part" files a killed download left are
    # swept by the SDK's next save of the same name (the rerun's).
    remove_stale_temps(directory)


async def export_certificates(
    client: GoSmarterClient,
    *,
    out_dir: str | os.PathLike[str],
    company_ids: Iterable[str],
    include: Iterable[str] = ALL_KINDS,
    status: str | None = None,
    since: datetime.datetime | None = None,
    concurrency: int = DEFAULT_CONCURRENCY,
    progress: ExportProgress | None = None,
) -> ExportResult:
    """Export every mill certification of the given companies into `out_dir`.

    Resumable: certificates the journal (`out_dir/manifest.jsonl`) already holds
    are verified on disk (size and sha256) and skipped, or fetched again if they
    fail. Cancellation stops the workers and propagates; what completed is kept.

    Args:
        client: An open client.
        out_dir: The directory to write into; created if missing.
        company_ids: The companies to export.
        include: Which files to export per certificate: any of details, csv,
            scans, mtc.
        status: Only certifications in this status.
        since: Only certifications updated at or after this instant.
        concurrency: Certificates fetched at once.
        progress: Told about each listed and completed certificate.

    Returns:
        What the export holds and what this run fetched.

    Raises:
        ValueError: an argument is invalid (unknown kind, concurrency below 1).
        ExportError: `out_dir` cannot be created or written.
        ExportInterruptedError: the network, the gateway or the disk failed midway;
            its `__cause__` is the failure.
        APIStatusError: the gateway refused a request (an unknown company: 404).
        AuthenticationError: no token could be acquired.
    """
    kinds = check_include(include)
    companies = list(dict.fromkeys(company_ids))
    for company_id in companies:
        safe_segment(company_id, "company id")
    if concurrency < 1:
        raise ValueError("concurrency must be at least 1")
    filters: dict[str, Any] = {
        "status": MillCertificationStatus(status) if status else None,
        "updated_since": since,
    }
    root = Path(out_dir)
    started = time.monotonic()
    with _open_journal(root) as journal:
        run = _Run(client, root, kinds, journal, progress)
        await _run_workers(run, companies, filters, concurrency)
        totals = await asyncio.to_thread(
            write_outputs, root, journal, run.companies, details="details" in kinds
        )
    return _result(run, totals, time.monotonic() - started, client.stats)


def _open_journal(root: Path) -> Journal:
    try:
        root.mkdir(parents=True, exist_ok=True)
        return Journal.open(root / JOURNAL_NAME)
    except OSError as exc:
        raise ExportError(f"cannot write to {root}: {exc.strerror or exc}") from exc


async def _run_workers(
    run: _Run, companies: list[str], filters: dict[str, Any], concurrency: int
) -> None:
    """Run the producer and the workers until done, or until one fails."""
    queue: asyncio.Queue[_Job | None] = asyncio.Queue(maxsize=concurrency)
    try:
        async with asyncio.TaskGroup() as group:
            group.create_task(run.produce(queue, companies, filters, concurrency))
            for _ in range(concurrency):
                group.create_task(run.work(queue))
    except BaseExceptionGroup as failed:
        # The first failure cancelled the other tasks; it is the one to report.
        first = _first_error(failed)
        if isinstance(first, _TRANSIENT):
            reason = str(first).splitlines()[0] if str(first) else type(first).__name__
            raise ExportInterruptedError(
                run.done, len(run.companies), reason
            ) from first
        raise first from None


def _first_error(group: BaseExceptionGroup[BaseException]) -> BaseException:
    error: BaseException = group
    while isinstance(error, BaseExceptionGroup):
        error = error.exceptions[0]
    return error


def _result(
    run: _Run, totals: Totals, duration: float, stats: ClientStats
) -> ExportResult:
    return ExportResult(
        out_dir=run.out_dir,
        certificates=totals.certificates,
        skipped=run.skipped,
        heats=totals.heats,
        files=totals.files,
        bytes=totals.bytes,
        fetched_bytes=run.fetched_bytes,
        duration=duration,
        requests=stats.requests,
        retries=stats.retries,
        token_requests=stats.token_requests,
    )
