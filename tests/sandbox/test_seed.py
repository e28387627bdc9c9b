"""Seed data: real values untouched, deterministic ids and bytes, cheap at scale."""

from __future__ import annotations

import json
import time
from importlib import resources

import aiohttp

from gosmarter_async.sandbox import Sandbox
from gosmarter_async.sandbox._seed import (
    EXTRACTION_FILES,
    SCAN_FILES,
    UNKNOWN_HEAT,
    load_extractions,
)
from gosmarter_async.sandbox._store import Store
from tests.sandbox.helpers import Api, get_token

_DATA = resources.files("gosmarter_async.sandbox") / "data"


def test_seed_data_files_ship_with_the_attribution() -> None:
    notice = (_DATA / "README.md").read_text(encoding="utf-8")

    for name in (*EXTRACTION_FILES, *SCAN_FILES):
        assert (_DATA / name).is_file(), name
    assert "MIT License" in notice
    assert "GoSmarter.ai" in notice
    assert "Nightingale HQ" in notice


def test_translation_keeps_every_measured_value() -> None:
    raw = json.loads((_DATA / EXTRACTION_FILES[0]).read_text(encoding="utf-8"))

    extraction = load_extractions()[0]

    heats = {h["heatNumber"]: h for h in extraction.heats}
    for row in raw["chemical_composition"]:
        assert row["elements"] == heats[row["heat_number"]]["chemicalComposition"]
    tests = [t for h in extraction.heats for t in h["mechanicalTests"]]
    assert len(raw["mechanical_properties"]) == len(tests)
    by_heat = {h: list(heats[h]["mechanicalTests"]) for h in heats}
    for row in raw["mechanical_properties"]:
        test = by_heat[row["heat_number"]].pop(0)
        assert row["yield_point_mpa"] == test["yieldStrengthMpa"]
        assert row["tensile_strength_mpa"] == test["tensileStrengthMpa"]
        assert row["agt_percent"] == test["agtPercent"]
        assert row["percentage_elongation"] == test["elongationPercent"]


def test_translation_of_flat_shape_is_one_unnamed_heat() -> None:
    flat = load_extractions()[EXTRACTION_FILES.index("certificate_001_flat.json")]

    (heat,) = flat.heats

    assert UNKNOWN_HEAT == heat["heatNumber"]
    assert 0.19 == heat["chemicalComposition"]["C"]
    assert 0.3 == heat["chemicalComposition"]["Ce"]
    assert 583 == heat["mechanicalTests"][0]["yieldStrengthMpa"]
    assert heat["mechanicalTests"][0]["agtPercent"] is None


def test_store_same_seed_same_ids_other_seed_other_ids() -> None:
    first = Store(seed=3, companies=2, per_company=5, upload_delay=1)
    again = Store(seed=3, companies=2, per_company=5, upload_delay=1)
    other = Store(seed=4, companies=2, per_company=5, upload_delay=1)

    def ids(store: Store) -> list[str]:
        company = store.company_ids[0]
        records, _ = store.page(
            company, page=1, page_size=100, status=None, updated_since=None
        )
        return [r.cert_id for r in records]

    assert first.company_ids == again.company_ids
    assert ids(first) == ids(again)
    assert not set(first.company_ids) & set(other.company_ids)
    assert not set(ids(first)) & set(ids(other))


def test_store_scales_to_ten_thousand_per_company() -> None:
    store = Store(seed=0, companies=3, per_company=10_000, upload_delay=1)
    started = time.perf_counter()

    records, total = store.page(
        store.company_ids[2], page=100, page_size=100, status=None, updated_since=None
    )

    elapsed = time.perf_counter() - started
    assert 10_000 == total
    assert 100 == len(records)
    # Measured ~0.15 s on the shared 2-core machine; a generous bound.
    assert elapsed < 3.0


async def _snapshot(seed: int) -> list[bytes]:
    async with (
        Sandbox(seed=seed, companies=2, certificates_per_company=8) as sandbox,
        aiohttp.ClientSession() as session,
    ):
        api = Api(session, sandbox, await get_token(session, sandbox))
        return await _all_answers(api)


async def _all_answers(api: Api) -> list[bytes]:
    bodies = []
    user = api.sandbox.user_id
    bodies.append(
        (await api.call("POST", f"/api/user/{user}/companies/list", json=[]))[2]
    )
    for company in api.sandbox.company_ids:
        bodies.append(
            (await api.call("GET", f"/api/company/{company}/entitlements"))[2]
        )
        status, _, listing = await api.call("GET", api.certs(company) + "?pageSize=100")
        assert 200 == status
        bodies.append(listing)
        for item in json.loads(listing)["items"]:
            url = f"{api.certs(company)}/{item['millCertificationId']}"
            suffixes = (
                "",
                "/download",
                "/download?export=csv",
                "/download?groupBy=heat",
            )
            bodies += [(await api.call("GET", url + s))[2] for s in suffixes]
            bodies.append((await api.call("POST", url + "/mtc"))[2])
    return bodies


async def test_same_seed_gives_identical_bytes() -> None:
    first = await _snapshot(5)
    second = await _snapshot(5)
    other = await _snapshot(6)

    assert 1 + 2 * (2 + 8 * 5) == len(first)
    assert first == second
    assert first != other


async def test_seed_statuses_and_extractions_vary() -> None:
    async with (
        Sandbox(seed=1, companies=1, certificates_per_company=40) as sandbox,
        aiohttp.ClientSession() as session,
    ):
        api = Api(session, sandbox, await get_token(session, sandbox))
        _, _, raw = await api.call(
            "GET", api.certs(sandbox.company_ids[0]) + "?pageSize=100"
        )

    items = json.loads(raw)["items"]
    numbers = [i["certificateNumber"] for i in items if i["status"] != "failed"]
    assert {"approved", "extracted"} <= {i["status"] for i in items}
    assert len({i["heatCount"] for i in items}) > 1
    assert len(numbers) == len(set(numbers))
