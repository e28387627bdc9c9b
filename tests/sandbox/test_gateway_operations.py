"""Every operation of the spec: happy path, shape, and its 4xx answers."""

from __future__ import annotations

import json
from typing import Any

import aiohttp
import pytest

from gosmarter_async.sandbox import _gateway
from tests.clock import FakeClock
from tests.sandbox.helpers import (
    Api,
    _spec,
    array_of,
    operation_ids,
    response_schema,
    schema_ref,
    validate,
)

_MISSING = "00000000-0000-4000-8000-000000000000"


def _json(raw: bytes) -> Any:
    return json.loads(raw)


def test_routes_match_every_path_and_method_of_the_spec() -> None:
    spec_routes = {
        (method.upper(), path, op["operationId"])
        for path, item in _spec()["paths"].items()
        for method, op in item.items()
        if method in {"get", "put", "post", "delete", "patch"}
    }

    routes = {(m, p, op) for m, p, _, op in _gateway._ROUTES}

    assert spec_routes == routes
    assert operation_ids() == set(_gateway.OPERATIONS.values())


async def test_resolve_api_key_metadata_returns_groups_and_roles(api: Api) -> None:
    status, _, raw = await api.call(
        "POST", "/api/gateway/key-webhook", json={"userId": api.sandbox.user_id}
    )

    body = _json(raw)
    assert 200 == status
    validate(body, schema_ref("ApiKeyMetadata"))
    assert api.sandbox.user_id == body["userId"]
    assert body["roles"]


async def test_resolve_api_key_metadata_unknown_user_is_404(api: Api) -> None:
    status, _, _ = await api.call(
        "POST", "/api/gateway/key-webhook", json={"userId": _MISSING}
    )

    assert 404 == status


async def test_check_user_sync_compares_with_stored_profile(api: Api) -> None:
    user = api.sandbox.user_id
    stored = {"userId": user, "firstName": "Sandbox", "lastName": "User"}
    changed = {**stored, "firstName": "Ada"}

    synced = await api.call("POST", f"/api/user/{user}/sync-check", json=stored)
    differs = await api.call("POST", f"/api/user/{user}/sync-check", json=changed)

    assert 200 == synced[0] == differs[0]
    validate(_json(synced[2]), schema_ref("UserSyncStatus"))
    assert _json(synced[2])["isSynced"] is True
    assert _json(differs[2])["isSynced"] is False
    assert "Sandbox" == _json(differs[2])["firstName"]


async def test_update_user_profile_is_202_and_then_in_sync(api: Api) -> None:
    user = api.sandbox.user_id
    profile = {"userId": user, "firstName": "Ada", "lastName": None}

    status, _, raw = await api.call("PUT", f"/api/user/{user}", json=profile)
    check = await api.call("POST", f"/api/user/{user}/sync-check", json=profile)

    assert 202 == status
    validate(_json(raw), schema_ref("UserSyncStatus"))
    assert _json(check[2])["isSynced"] is True
    assert "Ada" == _json(check[2])["firstName"]


@pytest.mark.parametrize(
    "body",
    [
        {"firstName": "no id"},
        {"userId": "not-a-uuid"},
        {"userId": _MISSING},
        {"userId": "SELF", "tutorialMode": "yes"},
        [1, 2],
    ],
)
async def test_update_user_profile_bad_body_is_400(api: Api, body: Any) -> None:
    user = api.sandbox.user_id
    if isinstance(body, dict) and body.get("userId") == "SELF":
        body = {**body, "userId": user}

    status, _, raw = await api.call("PUT", f"/api/user/{user}", json=body)

    assert 400 == status
    validate(_json(raw), schema_ref("ProblemDetails"))


async def test_list_user_companies_empty_list_returns_all(api: Api) -> None:
    user = api.sandbox.user_id

    status, _, raw = await api.call("POST", f"/api/user/{user}/companies/list", json=[])

    body = _json(raw)
    assert 200 == status
    validate(body, array_of("Company"))
    assert api.sandbox.company_ids == [c["companyId"] for c in body]


async def test_list_user_companies_filters_by_ids(api: Api) -> None:
    user = api.sandbox.user_id
    wanted = [api.sandbox.company_ids[1], _MISSING]

    status, _, raw = await api.call(
        "POST", f"/api/user/{user}/companies/list", json=wanted
    )

    assert 200 == status
    assert [api.sandbox.company_ids[1]] == [c["companyId"] for c in _json(raw)]


async def test_list_user_companies_bad_id_is_400(api: Api) -> None:
    user = api.sandbox.user_id

    status, _, _ = await api.call(
        "POST", f"/api/user/{user}/companies/list", json=["nope"]
    )

    assert 400 == status


async def test_list_company_entitlements_shape(api: Api) -> None:
    company = api.sandbox.company_ids[1]

    status, _, raw = await api.call("GET", f"/api/company/{company}/entitlements")

    body = _json(raw)
    assert 200 == status
    validate(body, array_of("Entitlement"))
    assert {"mill-certs", "inventory"} <= {e["featureKey"] for e in body}


@pytest.mark.parametrize(
    ("feature", "has_access"),
    [("mill-certs", True), ("inventory", False), ("no-such-feature", False)],
)
async def test_check_feature_access(api: Api, feature: str, has_access: bool) -> None:
    company = api.sandbox.company_ids[1]

    status, _, raw = await api.call(
        "GET", f"/api/company/{company}/entitlements/check/{feature}"
    )

    body = _json(raw)
    assert 200 == status
    validate(body, schema_ref("FeatureAccess"))
    assert has_access is body["hasAccess"]
    assert feature == body["featureKey"]


@pytest.mark.parametrize("suffix", ["/entitlements", "/mill-certifications"])
async def test_unknown_company_is_404(api: Api, suffix: str) -> None:
    status, _, raw = await api.call("GET", f"/api/company/{_MISSING}{suffix}")

    assert 404 == status
    validate(_json(raw), schema_ref("ProblemDetails"))


async def test_list_mill_certifications_shape_and_order(api: Api) -> None:
    company = api.sandbox.company_ids[0]

    status, _, raw = await api.call("GET", api.certs(company) + "?pageSize=100")

    body = _json(raw)
    assert 200 == status
    validate(body, schema_ref("MillCertificationList"))
    assert 12 == body["totalCount"] == len(body["items"])
    keys = [(i["createdAt"], i["millCertificationId"]) for i in body["items"]]
    assert sorted(keys, reverse=True) == keys


async def test_list_mill_certifications_pages_cover_all_once(api: Api) -> None:
    company = api.sandbox.company_ids[0]
    seen: list[str] = []

    for page in (1, 2, 3):
        _, _, raw = await api.call(
            "GET", api.certs(company) + f"?page={page}&pageSize=5"
        )
        seen += [i["millCertificationId"] for i in _json(raw)["items"]]

    assert 12 == len(seen) == len(set(seen))


async def test_list_mill_certifications_filters_status_and_updated_since(
    api: Api,
) -> None:
    company = api.sandbox.company_ids[0]
    _, _, raw = await api.call("GET", api.certs(company) + "?pageSize=100")
    items = _json(raw)["items"]
    cutoff = sorted(i["updatedAt"] for i in items)[6]

    _, _, approved = await api.call("GET", api.certs(company) + "?status=approved")
    _, _, recent = await api.call(
        "GET", api.certs(company), params={"updatedSince": cutoff, "pageSize": "100"}
    )

    expected_approved = {
        i["millCertificationId"] for i in items if i["status"] == "approved"
    }
    expected_recent = {
        i["millCertificationId"] for i in items if i["updatedAt"] >= cutoff
    }
    assert expected_approved == {
        i["millCertificationId"] for i in _json(approved)["items"]
    }
    assert expected_recent == {i["millCertificationId"] for i in _json(recent)["items"]}
    assert 0 < len(expected_recent) < len(items)


@pytest.mark.parametrize(
    "query",
    [
        "page=0",
        "page=x",
        "pageSize=0",
        "pageSize=101",
        "status=done",
        "updatedSince=yesterday",
        "updatedSince=2025-01-01",
        "updatedSince=2025-01-01T00:00:00",
    ],
)
async def test_list_mill_certifications_bad_query_is_400(api: Api, query: str) -> None:
    company = api.sandbox.company_ids[0]

    status, _, raw = await api.call("GET", api.certs(company) + "?" + query)

    assert 400 == status
    validate(_json(raw), schema_ref("ProblemDetails"))


async def test_list_mill_certifications_offset_with_plus_sign_is_accepted(
    api: Api,
) -> None:
    company = api.sandbox.company_ids[0]

    status, _, _ = await api.call(
        "GET", api.certs(company) + "?updatedSince=2025-01-01T00:00:00+00:00"
    )

    assert 200 == status


async def _first_with(api: Api, status: str) -> dict[str, Any]:
    company = api.sandbox.company_ids[0]
    _, _, raw = await api.call("GET", api.certs(company) + f"?status={status}")
    return dict(_json(raw)["items"][0])


async def test_get_mill_certification_shape_and_real_values(api: Api) -> None:
    company = api.sandbox.company_ids[0]
    summary = await _first_with(api, "approved")
    cert_id = summary["millCertificationId"]

    status, _, raw = await api.call("GET", f"{api.certs(company)}/{cert_id}")

    body = _json(raw)
    assert 200 == status
    validate(body, schema_ref("MillCertification"))
    validate(body, response_schema("getMillCertification", "200") or {})
    assert summary["heatCount"] == len(body["heats"])
    assert body["approvedAt"] is not None
    page_heats = [h for p in body["pages"] for h in p["heatNumbers"]]
    assert [h["heatNumber"] for h in body["heats"]] == page_heats


async def test_get_mill_certification_unknown_or_malformed_id(api: Api) -> None:
    company = api.sandbox.company_ids[0]

    missing = await api.call("GET", f"{api.certs(company)}/{_MISSING}")
    malformed = await api.call("GET", f"{api.certs(company)}/not-a-uuid")

    assert 404 == missing[0]
    assert 400 == malformed[0]


async def test_approve_mill_certification_then_409(api: Api) -> None:
    company = api.sandbox.company_ids[0]
    cert_id = (await _first_with(api, "extracted"))["millCertificationId"]
    url = f"{api.certs(company)}/{cert_id}/approve"

    first = await api.call("POST", url)
    second = await api.call("POST", url)

    body = _json(first[2])
    assert 200 == first[0]
    validate(body, schema_ref("MillCertification"))
    assert "approved" == body["status"]
    assert body["approvedAt"] == body["updatedAt"]
    assert 409 == second[0]
    validate(_json(second[2]), schema_ref("ProblemDetails"))


def _pdf_form(data: bytes, name: str = "scan.pdf") -> aiohttp.FormData:
    form = aiohttp.FormData()
    form.add_field("file", data, filename=name, content_type="application/pdf")
    return form


async def test_upload_is_processing_then_extracted_after_delay(
    fake_api: Api, clock: FakeClock
) -> None:
    company = fake_api.sandbox.company_ids[0]
    scan = b"%PDF-1.4\n% a scanned certificate\n%%EOF\n"

    status, headers, raw = await fake_api.call(
        "POST", fake_api.certs(company), data=_pdf_form(scan)
    )
    accepted = _json(raw)
    url = f"{fake_api.certs(company)}/{accepted['millCertificationId']}"
    _, _, before = await fake_api.call("GET", url)
    clock.advance(0.05)
    _, _, after = await fake_api.call("GET", url)

    assert 202 == status
    validate(accepted, schema_ref("MillCertificationUploadAccepted"))
    assert "processing" == accepted["status"]
    assert headers["Location"] == url
    validate(_json(before), schema_ref("MillCertification"))
    assert "processing" == _json(before)["status"]
    assert [] == _json(before)["heats"]
    extracted = _json(after)
    validate(extracted, schema_ref("MillCertification"))
    assert "extracted" == extracted["status"]
    assert extracted["heats"]
    assert "scan.pdf" == extracted["pages"][0]["fileName"]


async def test_upload_appears_first_in_the_list(fake_api: Api) -> None:
    company = fake_api.sandbox.company_ids[0]
    _, _, raw = await fake_api.call(
        "POST", fake_api.certs(company), data=_pdf_form(b"%PDF-1.4 x")
    )

    _, _, listing = await fake_api.call("GET", fake_api.certs(company))

    body = _json(listing)
    assert 13 == body["totalCount"]
    assert _json(raw)["millCertificationId"] == body["items"][0]["millCertificationId"]


async def test_upload_processing_cannot_be_approved(fake_api: Api) -> None:
    company = fake_api.sandbox.company_ids[0]
    _, _, raw = await fake_api.call(
        "POST", fake_api.certs(company), data=_pdf_form(b"%PDF-1.4 x")
    )
    cert_id = _json(raw)["millCertificationId"]

    status, _, _ = await fake_api.call(
        "POST", f"{fake_api.certs(company)}/{cert_id}/approve"
    )

    assert 409 == status


@pytest.mark.parametrize(
    ("field", "data"), [("file", b"not a pdf"), ("other", b"%PDF-1.4"), ("file", b"")]
)
async def test_upload_without_a_pdf_is_400(api: Api, field: str, data: bytes) -> None:
    company = api.sandbox.company_ids[0]
    form = aiohttp.FormData()
    form.add_field(field, data, filename="x.pdf", content_type="application/pdf")

    status, _, raw = await api.call("POST", api.certs(company), data=form)

    assert 400 == status
    validate(_json(raw), schema_ref("ProblemDetails"))


async def test_upload_json_body_is_400(api: Api) -> None:
    company = api.sandbox.company_ids[0]

    status, _, _ = await api.call("POST", api.certs(company), json={"file": "x"})

    assert 400 == status


async def test_method_not_in_spec_is_405_problem(api: Api) -> None:
    company = api.sandbox.company_ids[0]

    status, headers, raw = await api.call("DELETE", api.certs(company))

    assert 405 == status
    assert "GET" in headers["Allow"]
    validate(_json(raw), schema_ref("ProblemDetails"))


async def test_stats_count_requests_per_operation(api: Api) -> None:
    company = api.sandbox.company_ids[0]

    await api.call("GET", api.certs(company))
    await api.call("GET", api.certs(company))
    await api.call("GET", f"/api/company/{company}/entitlements")

    assert 2 == api.sandbox.stats.requests["listMillCertifications"]
    assert 1 == api.sandbox.stats.requests["listCompanyEntitlements"]
    assert 3 == api.sandbox.stats.total_requests
    assert 1 == api.sandbox.stats.token_requests
