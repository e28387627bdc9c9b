"""The end-of-run outputs (manifest.json, details.jsonl) and their verification.

Both are streamed from the journal and the per-certificate files, one certificate at
a time, in (company, id) order, into temporary files renamed into place: memory
stays flat however many certificates there are, and the output depends only on the
data, never on the order the workers finished in.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from pathlib import Path

from attrs import define, frozen

from ._files import FileRecord, atomic_writer, canonical_json, check_file
from ._journal import CertificateRecord, Journal
from ._layout import DETAILS_NAME, MANIFEST_NAME, cert_dir, file_name, safe_segment

__all__ = ["Totals", "VerifyReport", "check_record", "verify", "write_outputs"]

MANIFEST_FORMAT = 1


@define
class Totals:
    """What an export holds, summed over its certificates."""

    certificates: int = 0
    heats: int = 0
    files: int = 0
    bytes: int = 0

    def add(self, record: CertificateRecord) -> None:
        """Count one certificate."""
        self.certificates += 1
        self.heats += record.heats
        self.files += len(record.files)
        self.bytes += record.size

    def to_json(self) -> dict[str, int]:
        """The totals as plain JSON data."""
        return {
            "bytes": self.bytes,
            "certificates": self.certificates,
            "files": self.files,
            "heats": self.heats,
        }


@frozen
class VerifyReport:
    """What `verify` found.

    Args:
        certificates: Certificates in the manifest.
        files: Files checked.
        bytes: Bytes checked.
        problems: One line per missing or mismatching file; empty when all match.
    """

    certificates: int
    files: int
    bytes: int
    problems: tuple[str, ...]

    @property
    def ok(self) -> bool:
        """Whether every file matched the manifest."""
        return not self.problems


def check_record(
    out_dir: Path, record: CertificateRecord, kinds: Iterable[str] = ()
) -> list[str]:
    """Check one certificate's files against its record.

    Args:
        out_dir: The export's root directory.
        record: What the journal or manifest says was written.
        kinds: Kinds of file that must be in the record (for a resumed export
            that now includes more).

    Returns:
        One line per problem; empty when every file matches.
    """
    try:
        directory = cert_dir(out_dir, record.company_id, record.cert_id)
        for item in record.files:
            safe_segment(item.name, "file name")
    except ValueError as exc:
        return [str(exc)]
    names = {f.name for f in record.files}
    problems = [
        f"{directory / file_name(kind, record.cert_id)} was not exported"
        for kind in kinds
        if file_name(kind, record.cert_id) not in names
    ]
    for item in record.files:
        problem = check_file(directory / item.name, item)
        if problem:
            problems.append(problem)
    return problems


def write_outputs(
    out_dir: Path, journal: Journal, companies: Mapping[str, str], *, details: bool
) -> Totals:
    """Write details.jsonl (when details were exported), then manifest.json.

    Args:
        out_dir: The export's root directory.
        journal: The run's journal, holding a record of every certificate.
        companies: The company of each certificate of this run, by id.
        details: Whether details.json files were exported.

    Returns:
        The totals written into the manifest.
    """
    order = sorted(companies, key=lambda cert_id: (companies[cert_id], cert_id))
    outputs: list[FileRecord] = []
    if details:
        outputs.append(_write_details(out_dir, order, companies))
    totals = Totals()
    with atomic_writer(out_dir / MANIFEST_NAME) as handle:
        handle.write(b'{\n"certificates": [')
        for index, record in enumerate(journal.read_many(order)):
            handle.write(b"\n" if index == 0 else b",\n")
            handle.write(canonical_json(record.to_json()))
            totals.add(record)
        tail = {
            "format": MANIFEST_FORMAT,
            "outputs": [f.to_json() for f in outputs],
            "totals": totals.to_json(),
        }
        # The tail object without its opening brace closes the manifest object.
        handle.write(b"\n],\n" + canonical_json(tail)[1:] + b"\n")
    return totals


def _write_details(
    out_dir: Path, order: list[str], companies: Mapping[str, str]
) -> FileRecord:
    digest = hashlib.sha256()
    size = 0
    with atomic_writer(out_dir / DETAILS_NAME) as handle:
        for cert_id in order:
            source = cert_dir(out_dir, companies[cert_id], cert_id) / "details.json"
            # details.json is one line of compact JSON, so it is one JSONL line.
            line = source.read_bytes().rstrip(b"\n") + b"\n"
            handle.write(line)
            digest.update(line)
            size += len(line)
    return FileRecord(name=DETAILS_NAME, size=size, sha256=digest.hexdigest())


def verify(out_dir: str | Path) -> VerifyReport:
    """Check every file listed in `out_dir/manifest.json` against its size and sha256.

    Args:
        out_dir: The directory an export wrote.

    Returns:
        The counts checked and the problems found (missing, resized or changed
        files, or a missing or unreadable manifest).
    """
    root = Path(out_dir)
    try:
        manifest = json.loads((root / MANIFEST_NAME).read_bytes())
        records = [CertificateRecord.from_json(c) for c in manifest["certificates"]]
        outputs = [FileRecord.from_json(o) for o in manifest["outputs"]]
        for output in outputs:
            safe_segment(output.name, "file name")
    except (OSError, ValueError, KeyError, TypeError) as exc:
        unreadable = f"{root / MANIFEST_NAME} cannot be read: {exc}"
        return VerifyReport(certificates=0, files=0, bytes=0, problems=(unreadable,))
    problems: list[str] = []
    for record in records:
        problems.extend(check_record(root, record))
    for output in outputs:
        problem = check_file(root / output.name, output)
        if problem:
            problems.append(problem)
    return VerifyReport(
        certificates=len(records),
        files=sum(len(r.files) for r in records) + len(outputs),
        bytes=sum(r.size for r in records) + sum(o.size for o in outputs),
        problems=tuple(problems),
    )
