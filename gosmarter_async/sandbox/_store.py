"""The sandbox's in-memory store: companies, certifications, the user's profile.

Certifications are small records (ids, dates, status, which extraction and which
scans); their JSON shapes are built on demand from the shared real extractions, so a
company of 10,000 certifications costs a few megabytes and is built on first use.
Everything seeded is a pure function of the seed: two stores with the same seed
answer with the same bytes.
"""

from __future__ import annotations

import hashlib
import math
import random
from collections.abc import Iterable
from datetime import UTC, date, datetime, timedelta
from typing import Any

from attrs import define, field, frozen

from ._seed import (
    Extraction,
    Scan,
    SeedIds,
    load_extractions,
    load_scans,
    seed_ids,
    stable_uuid,
)

__all__ = [
    "STATUSES",
    "CertRecord",
    "Company",
    "StateConflictError",
    "Store",
    "extraction_of",
    "iso",
    "pages_of",
]

STATUSES = ("processing", "extracted", "approved", "failed")

# The seeded certifications were created over most of 2025, after the real one.
_EPOCH = datetime(2025, 1, 6, 8, 0, tzinfo=UTC)
_SPAN_MINUTES = 330 * 24 * 60

# How often each extraction (in EXTRACTION_FILES order) seeds a certification: the
# ground truth most, the flat one-heat shape least.
_EXTRACTION_WEIGHTS = (4, 2, 2, 2, 1)

# Fictional company names; the address is left null for every third to exercise
# nullable fields.
_COMPANY_NAMES = (
    "Thamesport Rebar Ltd",
    "Northgate Steel Stockholders",
    "Severn Reinforcement Co.",
    "Humber Bar & Mesh",
    "Clyde Structural Supplies",
)


def iso(moment: datetime) -> str:
    """Format an instant as RFC 3339 in UTC, milliseconds only when present."""
    moment = moment.astimezone(UTC)
    spec = "milliseconds" if moment.microsecond else "seconds"
    return moment.replace(tzinfo=None).isoformat(timespec=spec) + "Z"


class StateConflictError(Exception):
    """The operation conflicts with the certification's state (HTTP 409)."""


@frozen
class Company:
    """A company the sandbox user belongs to."""

    company_id: str
    index: int
    name: str
    address: str | None
    created_at: datetime
    updated_at: datetime

    def to_json(self) -> dict[str, Any]:
        """The spec's `Company` shape."""
        return {
            "companyId": self.company_id,
            "companyName": self.name,
            "address": self.address,
            "createdAt": iso(self.created_at),
            "updatedAt": iso(self.updated_at),
        }


@define(slots=True)
class CertRecord:
    """One certification: the few values that differ from its extraction."""

    cert_id: str
    company_id: str
    number: str | None
    status: str
    extraction: int
    scans: tuple[int, ...]
    certificate_date: date | None
    created_at: datetime
    updated_at: datetime
    approved_at: datetime | None = None
    upload: Scan | None = None
    ready_at: float | None = None

    def sort_key(self) -> tuple[datetime, str]:
        """Newest first, then by id, so that pages never overlap or skip."""
        return (self.created_at, self.cert_id)


@define
class Store:
    """Companies, certifications and the user's profile, built from a seed.

    Args:
        seed: The seed every id, date and status derives from.
        companies: How many companies the user belongs to.
        per_company: How many certifications each company holds at start.
        upload_delay: Seconds (on the server's clock) an upload stays `processing`.
    """

    seed: int
    companies: int
    per_company: int
    upload_delay: float
    ids: SeedIds = field(init=False)
    profile: dict[str, Any] = field(init=False)
    _companies: dict[str, Company] = field(init=False, factory=dict)
    _certs: dict[str, dict[str, CertRecord]] = field(init=False, factory=dict)
    _ordered: dict[str, list[CertRecord]] = field(init=False, factory=dict)
    _pending: list[CertRecord] = field(init=False, factory=list)
    _uploads: int = field(init=False, default=0)

    def __attrs_post_init__(self) -> None:
        self.ids = seed_ids(self.seed)
        self.profile = {
            "userId": self.ids.user_id,
            "firstName": "Sandbox",
            "lastName": "User",
            "tutorialMode": False,
        }
        for index in range(self.companies):
            company = _company(self.seed, index)
            self._companies[company.company_id] = company

    @property
    def company_ids(self) -> list[str]:
        """Every company id, in seed order."""
        return list(self._companies)

    def all_companies(self) -> list[Company]:
        """Every company, in seed order."""
        return list(self._companies.values())

    def company(self, company_id: str) -> Company | None:
        """The company with `company_id`, or None."""
        return self._companies.get(company_id)

    def certificate(self, company_id: str, cert_id: str) -> CertRecord | None:
        """The certification `cert_id` of a company, or None."""
        return self._by_id(company_id).get(cert_id)

    def settle(self, now_mono: float) -> None:
        """Move uploads whose extraction delay has passed to `extracted`.

        Args:
            now_mono: The server clock's monotonic time.
        """
        due = [r for r in self._pending if r.ready_at is not None]
        for record in due:
            assert record.ready_at is not None
            if record.ready_at <= now_mono:
                record.status = "extracted"
                record.updated_at = record.created_at + timedelta(
                    seconds=self.upload_delay
                )
                record.ready_at = None
                self._pending.remove(record)

    def page(
        self,
        company_id: str,
        *,
        page: int,
        page_size: int,
        status: str | None,
        updated_since: datetime | None,
    ) -> tuple[list[CertRecord], int]:
        """One page of a company's certifications, newest first.

        Args:
            company_id: The company.
            page: The page number, from 1.
            page_size: Items per page.
            status: Only this status, or None for all.
            updated_since: Only those updated at or after this instant, or None.

        Returns:
            The page's records and the number of records matching the filters.
        """
        matching: Iterable[CertRecord] = self._ordered_for(company_id)
        if status is not None:
            matching = (r for r in matching if r.status == status)
        if updated_since is not None:
            since = updated_since
            matching = (r for r in matching if r.updated_at >= since)
        selected = list(matching)
        start = (page - 1) * page_size
        return selected[start : start + page_size], len(selected)

    def add_upload(
        self, company_id: str, scan: Scan, now: datetime, now_mono: float
    ) -> CertRecord:
        """Store an uploaded scan as a new certification in `processing`.

        Args:
            company_id: The company it belongs to.
            scan: The uploaded file name and bytes.
            now: The server's wall time.
            now_mono: The server's monotonic time.

        Returns:
            The new record.
        """
        self._uploads += 1
        digest = hashlib.sha256(scan.data).digest()
        record = CertRecord(
            cert_id=stable_uuid(self.seed, "upload", company_id, self._uploads),
            company_id=company_id,
            number=None,
            status="processing",
            extraction=digest[0] % len(load_extractions()),
            scans=(),
            certificate_date=None,
            created_at=now,
            updated_at=now,
            upload=scan,
            ready_at=now_mono + self.upload_delay,
        )
        # The ordered view first: built lazily from the ids, it must not see the
        # new record before the append below.
        ordered = self._ordered_for(company_id)
        self._by_id(company_id)[record.cert_id] = record
        ordered.append(record)
        ordered.sort(key=CertRecord.sort_key, reverse=True)
        self._pending.append(record)
        return record

    def approve(self, record: CertRecord, now: datetime) -> None:
        """Approve an extracted certification.

        Args:
            record: The certification.
            now: The server's wall time, the approval instant.

        Raises:
            StateConflictError: when it is not `extracted` (already approved,
                still processing, or failed).
        """
        if record.status != "extracted":
            raise StateConflictError(
                f"The certification is {record.status}; only an extracted"
                " certification can be approved."
            )
        record.status = "approved"
        record.approved_at = now
        record.updated_at = now

    def _by_id(self, company_id: str) -> dict[str, CertRecord]:
        if company_id not in self._certs:
            company = self._companies.get(company_id)
            records = [] if company is None else self._generate(company)
            self._certs[company_id] = {r.cert_id: r for r in records}
        return self._certs[company_id]

    def _ordered_for(self, company_id: str) -> list[CertRecord]:
        if company_id not in self._ordered:
            records = list(self._by_id(company_id).values())
            records.sort(key=CertRecord.sort_key, reverse=True)
            self._ordered[company_id] = records
        return self._ordered[company_id]

    def _generate(self, company: Company) -> list[CertRecord]:
        # One generator per company, seeded by a string (random.seed hashes it with
        # SHA-512, independent of PYTHONHASHSEED), so companies do not shift each
        # other when the per-company count changes.
        rng = random.Random(f"gosmarter-sandbox:{self.seed}:{company.index}")  # noqa: S311 (seed data, not secrets)
        return [
            _seeded_record(rng, seed=self.seed, company=company, i=i)
            for i in range(self.per_company)
        ]


def _company(seed: int, index: int) -> Company:
    name = _COMPANY_NAMES[index % len(_COMPANY_NAMES)]
    if index >= len(_COMPANY_NAMES):
        name = f"{name} {index // len(_COMPANY_NAMES) + 1}"
    created = _EPOCH - timedelta(days=90 + 7 * index)
    return Company(
        company_id=stable_uuid(seed, "company", index),
        index=index,
        name=name,
        address=None if index % 3 == 2 else f"Unit {index + 1}, Dock Road, London",
        created_at=created,
        updated_at=created + timedelta(days=30),
    )


def _seeded_record(
    rng: random.Random, *, seed: int, company: Company, i: int
) -> CertRecord:
    extractions = range(len(load_extractions()))
    scan_count = len(load_scans())
    created = _EPOCH + timedelta(minutes=rng.randrange(_SPAN_MINUTES))
    roll = rng.random()
    status = "approved" if roll < 0.55 else "extracted" if roll < 0.95 else "failed"
    settle_minutes = rng.randrange(5, 10 * 24 * 60)
    updated = created + timedelta(minutes=settle_minutes)
    first_scan = rng.randrange(scan_count)
    pages = 1 + rng.randrange(3)
    extraction = rng.choices(extractions, weights=_EXTRACTION_WEIGHTS)[0]
    issued = (created - timedelta(days=1 + rng.randrange(20))).date()
    failed = status == "failed"
    return CertRecord(
        cert_id=stable_uuid(seed, "cert", company.index, i),
        company_id=company.company_id,
        number=None
        if failed
        else f"{issued:%y}-{3000 + i}/{company.index + 1:02d}MNF/EXP",
        status=status,
        extraction=extraction,
        scans=tuple((first_scan + p) % scan_count for p in range(pages)),
        certificate_date=None if failed else issued,
        created_at=created,
        updated_at=updated,
        approved_at=updated if status == "approved" else None,
    )


def extraction_of(record: CertRecord) -> Extraction | None:
    """The extraction a record serves, or None while processing or after failure."""
    if record.status in ("processing", "failed"):
        return None
    return load_extractions()[record.extraction]


def pages_of(record: CertRecord) -> list[tuple[Scan, list[str]]]:
    """Each page's scan and the heat numbers it covers, in page order.

    Heats are spread over the pages in contiguous runs, as a multi-page certificate
    lists them.
    """
    extraction = extraction_of(record)
    heats = [] if extraction is None else [h["heatNumber"] for h in extraction.heats]
    scans = [record.upload] if record.upload is not None else []
    scans += [load_scans()[i] for i in record.scans]
    run = math.ceil(len(heats) / len(scans)) if scans and heats else 0
    return [
        (scan, heats[n * run : (n + 1) * run] if run else [])
        for n, scan in enumerate(scans)
    ]
