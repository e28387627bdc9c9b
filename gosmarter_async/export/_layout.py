"""Where the export puts things: one directory per certificate under its company.

::

    out/
      manifest.jsonl            the journal, one line per completed certificate
      manifest.json             written at the end: every certificate, sorted, totals
      details.jsonl             written at the end: every details.json, sorted
      <companyId>/<certId>/
        details.json            the certification as JSON (sorted keys)
        <certId>.csv            the extracted details as CSV
        scans.zip               the scanned PDFs, one per page
        mtc.pdf                 the material test certificate
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path

__all__ = [
    "ALL_KINDS",
    "DETAILS_NAME",
    "JOURNAL_NAME",
    "MANIFEST_NAME",
    "cert_dir",
    "check_include",
    "file_name",
    "safe_segment",
]

JOURNAL_NAME = "manifest.jsonl"
MANIFEST_NAME = "manifest.json"
DETAILS_NAME = "details.jsonl"

# The kinds of file per certificate, in the order they are fetched and recorded.
ALL_KINDS = ("details", "csv", "scans", "mtc")

# Ids become directory names, and they come from the gateway: anything but a plain
# name (an id such as "../x" or "/etc") would let an answer write outside `out`.
_SAFE_SEGMENT = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")


def check_include(include: Iterable[str]) -> tuple[str, ...]:
    """Validate the kinds to export and put them in fetch order.

    Raises:
        ValueError: a kind is unknown, or none is given.
    """
    wanted = set(include)
    unknown = sorted(wanted - set(ALL_KINDS))
    if unknown:
        raise ValueError(
            f"unknown export kind(s) {', '.join(unknown)}; "
            f"choose from {', '.join(ALL_KINDS)}"
        )
    if not wanted:
        raise ValueError("nothing to export: include at least one kind")
    return tuple(kind for kind in ALL_KINDS if kind in wanted)


def file_name(kind: str, cert_id: str) -> str:
    """The file name of one kind of file of a certificate."""
    return {
        "details": "details.json",
        "csv": f"{cert_id}.csv",
        "scans": "scans.zip",
        "mtc": "mtc.pdf",
    }[kind]


def safe_segment(value: str, what: str) -> str:
    """Return `value` if it is safe as one path segment.

    Raises:
        ValueError: it is empty, too long, or holds a separator or dot-dot.
    """
    if not _SAFE_SEGMENT.match(value) or ".." in value:
        raise ValueError(f"{what} {value!r} is not a valid id")
    return value


def cert_dir(out_dir: Path, company_id: str, cert_id: str) -> Path:
    """The directory of one certificate's files.

    Raises:
        ValueError: an id is not safe as a directory name.
    """
    company = safe_segment(company_id, "company id")
    return out_dir / company / safe_segment(cert_id, "certificate id")
