"""The sandbox's file outputs: a zip of scans, a CSV of details, the MTC PDF.

Every output is reproducible byte for byte from the same certification: zip entries
carry a fixed timestamp and fixed attributes and are stored (the PDFs inside are
already compressed), the CSV has a fixed column order, and the PDF carries no
generation time.
"""

from __future__ import annotations

import csv
import io
import re
import zipfile
from collections.abc import Iterable
from typing import Any

from ._store import CertRecord, pages_of

__all__ = ["CSV_TEST_COLUMNS", "ELEMENTS", "details_csv", "mtc_pdf", "scans_zip"]

# The zip format cannot store dates before 1980; every entry gets this one, so
# the same scans always give the same bytes.
_ZIP_TIME = (1980, 1, 1, 0, 0, 0)
_UNIX = 3  # ZipInfo.create_system: entries look the same whichever OS built them

# The elements in the order mill certificates print them; others follow, sorted.
ELEMENTS = ("C", "Si", "Mn", "P", "S", "Ni", "Cr", "Mo", "Cu", "V", "N", "B", "Ce")
CSV_TEST_COLUMNS = (
    "testSample",
    "weightKgPerM",
    "crossSectionalAreaMm2",
    "yieldStrengthMpa",
    "tensileStrengthMpa",
    "rmReRatio",
    "elongationPercent",
    "agtPercent",
)

_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def _safe(name: str) -> str:
    return _UNSAFE.sub("_", name).strip("_") or "unnamed"


def scans_zip(record: CertRecord, group_by: str) -> bytes:
    """A zip of a certification's scanned pages, one entry per page or per heat.

    Args:
        record: The certification.
        group_by: `page` (entries `page-<n>.pdf`) or `heat` (entries
            `heat-<number>.pdf`, each the scan of the page that lists the heat).

    Returns:
        The zip archive's bytes.
    """
    entries: list[tuple[str, bytes]] = []
    for number, (scan, heats) in enumerate(pages_of(record), start=1):
        if group_by == "page":
            entries.append((f"page-{number:02d}.pdf", scan.data))
        else:
            entries.extend((f"heat-{_safe(heat)}.pdf", scan.data) for heat in heats)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as archive:
        for name, data in entries:
            info = zipfile.ZipInfo(name, date_time=_ZIP_TIME)
            info.create_system = _UNIX
            info.external_attr = 0o100644 << 16
            archive.writestr(info, data)
    return buffer.getvalue()


def _cell(value: Any) -> str:
    # Numbers keep the spelling the JSON answer uses (repr), so CSV and JSON agree.
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _element_columns(heats: Iterable[dict[str, Any]]) -> list[str]:
    seen = {symbol for heat in heats for symbol in heat["chemicalComposition"]}
    return [e for e in ELEMENTS if e in seen] + sorted(seen - set(ELEMENTS))


def details_csv(detail: dict[str, Any]) -> bytes:
    """The certification's details as CSV: one row per mechanical test.

    Each row repeats the certificate's number and date and its heat's chemistry; a
    heat without tests gets one row with empty test columns. RFC 4180: CRLF line
    ends, a header row, UTF-8.

    Args:
        detail: The certification in the spec's `MillCertification` shape.

    Returns:
        The CSV bytes.
    """
    heats = detail["heats"]
    elements = _element_columns(heats)
    out = io.StringIO(newline="")
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(
        [
            "millCertificationId",
            "certificateNumber",
            "certificateDate",
            "heatNumber",
            *CSV_TEST_COLUMNS,
            *elements,
        ]
    )
    document = detail["document"]
    for heat in heats:
        head = [
            detail["millCertificationId"],
            _cell(document["certificateNumber"]),
            _cell(document["certificateDate"]),
            heat["heatNumber"],
        ]
        chemistry = [_cell(heat["chemicalComposition"].get(e)) for e in elements]
        for test in heat["mechanicalTests"] or [{}]:
            row = [_cell(test.get(c)) for c in CSV_TEST_COLUMNS]
            writer.writerow(head + row + chemistry)
    return out.getvalue().encode("utf-8")


# --- The MTC PDF -------------------------------------------------------------------
# A minimal PDF 1.4 written by hand (ISO 32000-1): a catalog, a page tree, one or more
# landscape A4 pages (842 x 595 points) with uncompressed content streams, the two
# standard Helvetica fonts, an info dictionary and a cross-reference table.

_PAGE_W, _PAGE_H = 842, 595
_ROWS_PER_PAGE = 24
_HEAT_HEAD = ("Heat", "C", "Mn", "Si", "S", "P", "Ce", "Tests", "Re", "Rm", "Agt")
_HEAT_X = (40, 130, 180, 230, 280, 330, 380, 430, 480, 540, 600)


def _pdf_text(text: str) -> str:
    # PDF literal strings escape backslash and parentheses (ISO 32000-1 §7.3.4.2);
    # the standard fonts cover Latin-1 only.
    safe = text.encode("latin-1", errors="replace").decode("latin-1")
    return safe.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")


def _text(x: float, y: float, size: int, text: str, font: str = "F1") -> str:
    return f"BT /{font} {size} Tf {x} {y} Td ({_pdf_text(text)}) Tj ET\n"


def _heat_row(heat: dict[str, Any]) -> list[str]:
    chem = heat["chemicalComposition"]
    tests = heat["mechanicalTests"]

    def lowest(name: str) -> str:
        values = [t[name] for t in tests if isinstance(t.get(name), int | float)]
        return _cell(min(values)) if values else "-"

    cells = [heat["heatNumber"]]
    cells += [_cell(chem.get(e)) or "-" for e in ("C", "Mn", "Si", "S", "P", "Ce")]
    cells += [
        str(len(tests)),
        lowest("yieldStrengthMpa"),
        lowest("tensileStrengthMpa"),
        lowest("agtPercent"),
    ]
    return cells


def _header_lines(detail: dict[str, Any], company: str) -> list[tuple[str, str]]:
    doc = detail["document"]
    product = detail["product"]
    return [
        ("Company", company),
        ("Certificate", _cell(doc["certificateNumber"]) or "-"),
        ("Date", _cell(doc["certificateDate"]) or "-"),
        ("Standard", _cell(doc["standard"]) or "-"),
        ("Mill", _cell(detail["mill"]) or "-"),
        ("Product", " ".join(_cell(v) for v in product.values() if v) or "-"),
        ("Status", detail["status"]),
    ]


def _page_content(
    detail: dict[str, Any], company: str, rows: list[list[str]], number: int, of: int
) -> str:
    parts = []
    if detail["status"] != "approved":
        # The watermark first, so the text is drawn over it: light grey, 30 degrees.
        parts.append(
            "q 0.85 g BT /F2 150 Tf 0.866 0.5 -0.5 0.866 230 90 Tm (DRAFT) Tj ET Q\n"
        )
    parts.append(_text(40, 550, 20, "Material Test Certificate", "F2"))
    parts.append(_text(620, 555, 9, f"GoSmarter sandbox - page {number} of {of}"))
    y = 520
    for label, value in _header_lines(detail, company):
        parts.append(_text(40, y, 10, f"{label}:", "F2"))
        parts.append(_text(130, y, 10, value))
        y -= 14
    y -= 10
    for x, head in zip(_HEAT_X, _HEAT_HEAD, strict=True):
        parts.append(_text(x, y, 9, head, "F2"))
    for row in rows:
        y -= 13
        for x, cell in zip(_HEAT_X, row, strict=True):
            parts.append(_text(x, y, 9, cell))
    return "".join(parts)


def mtc_pdf(detail: dict[str, Any], company: str) -> bytes:
    """A landscape A4 material test certificate, watermarked DRAFT unless approved.

    Args:
        detail: The certification in the spec's `MillCertification` shape.
        company: The company's name, printed in the header.

    Returns:
        The PDF bytes.
    """
    rows = [_heat_row(h) for h in detail["heats"]]
    chunks = [
        rows[i : i + _ROWS_PER_PAGE] for i in range(0, len(rows), _ROWS_PER_PAGE)
    ] or [[]]
    count = len(chunks)
    # Objects: 1 catalog, 2 pages, 3 and 4 fonts, 5 info, then a page and its
    # content stream per chunk.
    page_ids = [6 + 2 * i for i in range(count)]
    objects: dict[int, bytes] = {
        1: b"<< /Type /Catalog /Pages 2 0 R >>",
        2: (
            f"<< /Type /Pages /Count {count} /Kids ["
            + " ".join(f"{p} 0 R" for p in page_ids)
            + "] >>"
        ).encode(),
        3: b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica"
        b" /Encoding /WinAnsiEncoding >>",
        4: b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica-Bold"
        b" /Encoding /WinAnsiEncoding >>",
        5: (
            "<< /Title (Material Test Certificate "
            + _pdf_text(detail["millCertificationId"])
            + ") /Producer (gosmarter-async sandbox) >>"
        ).encode("latin-1"),
    }
    for number, (page_id, chunk) in enumerate(zip(page_ids, chunks, strict=True), 1):
        content = _page_content(detail, company, chunk, number, count).encode("latin-1")
        objects[page_id] = (
            f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 {_PAGE_W} {_PAGE_H}]"
            f" /Resources << /Font << /F1 3 0 R /F2 4 0 R >> >>"
            f" /Contents {page_id + 1} 0 R >>"
        ).encode()
        objects[page_id + 1] = (
            f"<< /Length {len(content)} >>\nstream\n".encode()
            + content
            + b"\nendstream"
        )
    return _assemble(objects)


def _assemble(objects: dict[int, bytes]) -> bytes:
    # The header's second line holds bytes above 127 so that transfer tools treat
    # the file as binary (ISO 32000-1 §7.5.2).
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = {}
    for number in sorted(objects):
        offsets[number] = len(out)
        out += f"{number} 0 obj\n".encode() + objects[number] + b"\nendobj\n"
    xref = len(out)
    size = max(objects) + 1
    out += f"xref\n0 {size}\n0000000000 65535 f \n".encode()
    for number in range(1, size):
        out += f"{offsets[number]:010d} 00000 n \n".encode()
    out += (
        f"trailer\n<< /Size {size} /Root 1 0 R /Info 5 0 R >>\n"
        f"startxref\n{xref}\n%%EOF\n"
    ).encode()
    return bytes(out)
