"""Downloads (zip of scans, CSV) and the MTC PDF: contents and reproducibility."""

from __future__ import annotations

import csv
import io
import json
import re
import zipfile
from typing import Any

import aiohttp

from gosmarter_async.sandbox._seed import load_scans
from tests.sandbox.helpers import Api


async def _detail(api: Api, status: str) -> dict[str, Any]:
    company = api.sandbox.company_ids[0]
    _, _, raw = await api.call("GET", api.certs(company) + f"?status={status}")
    cert_id = json.loads(raw)["items"][0]["millCertificationId"]
    _, _, raw = await api.call("GET", f"{api.certs(company)}/{cert_id}")
    return dict(json.loads(raw))


async def _download(
    api: Api, detail: dict[str, Any], query: str
) -> tuple[int, Any, bytes]:
    url = (
        f"{api.certs(detail['companyId'])}/{detail['millCertificationId']}"
        f"/download{query}"
    )
    return await api.call("GET", url)


async def test_download_scans_by_page_holds_each_real_scan(api: Api) -> None:
    detail = await _detail(api, "approved")
    real = {scan.name: scan.data for scan in load_scans()}

    status, headers, body = await _download(api, detail, "")

    assert 200 == status
    assert "application/zip" == headers["Content-Type"]
    assert "attachment" in headers["Content-Disposition"]
    with zipfile.ZipFile(io.BytesIO(body)) as archive:
        names = archive.namelist()
        contents = [archive.read(n) for n in names]
    assert [f"page-{n:02d}.pdf" for n in range(1, len(detail["pages"]) + 1)] == names
    assert [real[p["fileName"]] for p in detail["pages"]] == contents


async def test_download_scans_by_heat_has_one_entry_per_heat(api: Api) -> None:
    detail = await _detail(api, "approved")
    real = {scan.name: scan.data for scan in load_scans()}
    page_of = {h: p["fileName"] for p in detail["pages"] for h in p["heatNumbers"]}

    status, _, body = await _download(api, detail, "?export=scans&groupBy=heat")

    assert 200 == status
    with zipfile.ZipFile(io.BytesIO(body)) as archive:
        names = archive.namelist()
        assert [f"heat-{h['heatNumber']}.pdf" for h in detail["heats"]] == names
        for heat in detail["heats"]:
            entry = archive.read(f"heat-{heat['heatNumber']}.pdf")
            assert real[page_of[heat["heatNumber"]]] == entry


async def test_download_bad_export_or_group_is_400(api: Api) -> None:
    detail = await _detail(api, "approved")

    bad_export = await _download(api, detail, "?export=pdf")
    bad_group = await _download(api, detail, "?groupBy=lot")

    assert 400 == bad_export[0]
    assert 400 == bad_group[0]


async def test_download_csv_has_one_row_per_test_with_heat_chemistry(api: Api) -> None:
    detail = await _detail(api, "approved")

    status, headers, body = await _download(api, detail, "?export=csv")

    assert 200 == status
    assert headers["Content-Type"].startswith("text/csv")
    assert b"\r\n" in body
    rows = list(csv.DictReader(io.StringIO(body.decode("utf-8"))))
    tests = [(h, t) for h in detail["heats"] for t in h["mechanicalTests"] or [{}]]
    assert len(tests) == len(rows)
    for row, (heat, test) in zip(rows, tests, strict=True):
        assert heat["heatNumber"] == row["heatNumber"]
        assert detail["document"]["certificateNumber"] == row["certificateNumber"]
        expected_yield = test.get("yieldStrengthMpa")
        assert ("" if expected_yield is None else str(expected_yield)) == row[
            "yieldStrengthMpa"
        ]
        for element, value in heat["chemicalComposition"].items():
            assert ("" if value is None else str(value)) == row[element]


async def test_download_csv_while_processing_is_header_only(api: Api) -> None:
    company = api.sandbox.company_ids[0]
    form = aiohttp.FormData()
    form.add_field("file", b"%PDF-1.4 x", filename="x.pdf")
    _, _, raw = await api.call("POST", api.certs(company), data=form)
    detail = {"companyId": company, **json.loads(raw)}

    status, _, body = await _download(api, detail, "?export=csv")

    assert 200 == status
    assert 1 == body.count(b"\r\n")
    assert body.startswith(b"millCertificationId,")


async def _mtc(api: Api, detail: dict[str, Any]) -> tuple[int, Any, bytes]:
    url = f"{api.certs(detail['companyId'])}/{detail['millCertificationId']}/mtc"
    return await api.call("POST", url)


def _check_pdf_structure(pdf: bytes) -> None:
    # The xref table's offsets must point at each "N 0 obj" (a reader relies on it).
    assert pdf.startswith(b"%PDF-1.4\n")
    assert pdf.rstrip().endswith(b"%%EOF")
    startxref = int(pdf.rsplit(b"startxref\n", 1)[1].split(b"\n", 1)[0])
    assert pdf[startxref:].startswith(b"xref\n")
    entries = re.findall(rb"(\d{10}) 00000 n ", pdf[startxref:])
    for number, offset in enumerate(entries, start=1):
        assert pdf[int(offset) :].startswith(f"{number} 0 obj".encode())
    for match in re.finditer(rb"/Length (\d+) >>\nstream\n", pdf):
        end = match.end() + int(match.group(1))
        assert pdf[end:].startswith(b"\nendstream")


async def test_mtc_is_landscape_a4_pdf_with_draft_until_approved(api: Api) -> None:
    detail = await _detail(api, "extracted")

    draft_status, headers, draft = await _mtc(api, detail)
    approve_url = f"{api.certs(detail['companyId'])}/{detail['millCertificationId']}"
    await api.call("POST", approve_url + "/approve")
    _, _, final = await _mtc(api, detail)

    assert 200 == draft_status
    assert "application/pdf" == headers["Content-Type"]
    _check_pdf_structure(draft)
    _check_pdf_structure(final)
    assert b"/MediaBox [0 0 842 595]" in draft
    assert b"(DRAFT) Tj" in draft
    assert b"(DRAFT) Tj" not in final
    number = detail["document"]["certificateNumber"].encode()
    assert b"(" + number + b") Tj" in final
    first_heat = detail["heats"][0]["heatNumber"].encode()
    assert b"(" + first_heat + b") Tj" in final


async def test_mtc_is_reproducible(api: Api) -> None:
    detail = await _detail(api, "approved")

    _, _, first = await _mtc(api, detail)
    _, _, second = await _mtc(api, detail)

    assert first == second
