"""Every generated operation: the RequestSpec it builds and how it parses answers."""

from __future__ import annotations

import datetime
import importlib
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest

from gosmarter_async._generated import (
    RESOURCES,
    ApiKeyMetadata,
    ApiKeyWebhookRequest,
    DownloadExport,
    DownloadGroupBy,
    EntitlementsResource,
    GatewayResource,
    MillCertificationsResource,
    MillCertificationStatus,
    UserProfile,
    UsersResource,
)
from gosmarter_async._request import CallOptions, FilePart, Multipart
from tests.generated.fakes import FakeTransport
from tests.generated.payloads import (
    CERT_ID,
    COMPANY_ID,
    STAMP,
    USER_ID,
    entitlement,
    mill_certification,
    summary,
)

JSON = "application/json"
COMPANY_PATH = f"/api/company/{COMPANY_ID}"
CERT_PATH = f"{COMPANY_PATH}/mill-certifications/{CERT_ID}"
CERT_TEMPLATE = "/api/company/{companyId}/mill-certifications/{millCertificationId}"
UTC = datetime.UTC


def sync_status() -> dict[str, Any]:
    return {
        "userId": USER_ID,
        "firstName": "Ada",
        "lastName": None,
        "tutorialMode": False,
        "isSynced": True,
    }


def test_resources_mapping_names_every_tag() -> None:
    assert {
        "gateway": GatewayResource,
        "users": UsersResource,
        "entitlements": EntitlementsResource,
        "mill_certifications": MillCertificationsResource,
    } == RESOURCES


async def test_resolve_api_key_metadata_posts_an_idempotent_json_body() -> None:
    answer = {"userId": "u-1", "groups": ["admins"], "roles": [], "extra": 1}
    transport = FakeTransport(answer)

    result = await GatewayResource(transport).resolve_api_key_metadata(
        body=ApiKeyWebhookRequest(user_id="u-1")
    )

    spec = transport.spec
    assert "resolveApiKeyMetadata" == spec.operation_id
    assert ("POST", "/api/gateway/key-webhook") == (spec.method, spec.path)
    assert "/api/gateway/key-webhook" == spec.path_template
    assert spec.idempotent
    assert {"userId": "u-1"} == spec.json
    assert () == spec.params
    assert frozenset({200}) == spec.ok_status
    assert JSON == spec.accept
    assert isinstance(result, ApiKeyMetadata)
    assert ("u-1", ["admins"], []) == (result.user_id, result.groups, result.roles)
    assert {"extra": 1} == result.additional_properties


async def test_check_user_sync_is_an_idempotent_post() -> None:
    transport = FakeTransport(sync_status())
    profile = UserProfile(user_id=UUID(USER_ID), first_name="Ada", tutorial_mode=True)

    result = await UsersResource(transport).check_user_sync(USER_ID, body=profile)

    spec = transport.spec
    assert ("POST", f"/api/user/{USER_ID}/sync-check") == (spec.method, spec.path)
    assert "/api/user/{userId}/sync-check" == spec.path_template
    assert spec.idempotent
    assert {"userId": USER_ID, "firstName": "Ada", "tutorialMode": True} == spec.json
    assert frozenset({200}) == spec.ok_status
    assert (UUID(USER_ID), "Ada", None, True) == (
        result.user_id,
        result.first_name,
        result.last_name,
        result.is_synced,
    )


async def test_update_user_profile_is_an_idempotent_put_answered_with_202() -> None:
    transport = FakeTransport(sync_status())
    profile = UserProfile(user_id=UUID(USER_ID), first_name=None, last_name="L")

    result = await UsersResource(transport).update_user_profile(USER_ID, body=profile)

    spec = transport.spec
    assert ("PUT", f"/api/user/{USER_ID}") == (spec.method, spec.path)
    assert spec.idempotent
    assert {"userId": USER_ID, "firstName": None, "lastName": "L"} == spec.json
    assert frozenset({202}) == spec.ok_status
    assert result.is_synced


async def test_list_user_companies_sends_ids_and_parses_companies() -> None:
    company = {
        "companyId": COMPANY_ID,
        "companyName": "MW Steel",
        "address": None,
        "createdAt": "2025-07-07T08:00:00Z",
        "updatedAt": "2025-07-07T09:30:00+01:00",
        "vatNumber": "GB1",
    }
    transport = FakeTransport([company])

    result = await UsersResource(transport).list_user_companies(
        USER_ID, body=[UUID(COMPANY_ID)]
    )

    spec = transport.spec
    assert ("POST", f"/api/user/{USER_ID}/companies/list") == (spec.method, spec.path)
    assert spec.idempotent
    assert [COMPANY_ID] == spec.json
    (parsed,) = result
    assert (UUID(COMPANY_ID), None) == (parsed.company_id, parsed.address)
    assert datetime.datetime(2025, 7, 7, 8, tzinfo=UTC) == parsed.created_at
    assert datetime.timedelta(hours=1) == parsed.updated_at.utcoffset()
    assert {"vatNumber": "GB1"} == parsed.additional_properties


async def test_list_company_entitlements_parses_nullable_fields_as_none() -> None:
    answer = [
        entitlement(),
        entitlement(featureId=8, unlockedAt=STAMP, expiresAt=STAMP, notes="trial"),
    ]
    transport = FakeTransport(answer)

    first, second = await EntitlementsResource(transport).list_company_entitlements(
        UUID(COMPANY_ID)
    )

    spec = transport.spec
    assert ("GET", f"{COMPANY_PATH}/entitlements") == (spec.method, spec.path)
    assert "/api/company/{companyId}/entitlements" == spec.path_template
    assert spec.idempotent
    assert spec.json is None
    assert (None, None, None, None, None) == (
        first.description,
        first.category,
        first.unlocked_at,
        first.expires_at,
        first.notes,
    )
    assert {"tier": "gold"} == first.additional_properties
    assert datetime.datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC) == second.unlocked_at
    assert "trial" == second.notes


async def test_entitlements_round_trip_keeps_unknown_keys() -> None:
    transport = FakeTransport([entitlement()])

    (parsed,) = await EntitlementsResource(transport).list_company_entitlements(
        COMPANY_ID
    )

    assert entitlement() == parsed.to_dict()


async def test_check_feature_access_percent_encodes_path_parameters() -> None:
    answer = {"featureKey": "a/b c", "hasAccess": True, "message": None}
    transport = FakeTransport(answer)

    result = await EntitlementsResource(transport).check_feature_access(
        "../x?y", "a/b c"
    )

    spec = transport.spec
    assert "/api/company/..%2Fx%3Fy/entitlements/check/a%2Fb%20c" == spec.path
    assert "/api/company/{companyId}/entitlements/check/{featureKey}" == (
        spec.path_template
    )
    assert spec.idempotent
    assert (True, None) == (result.has_access, result.message)


async def test_list_mill_certifications_serializes_query_parameters() -> None:
    answer = {"items": [summary(1)], "page": 2, "pageSize": 10, "totalCount": 11}
    transport = FakeTransport(answer)
    since = datetime.datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)

    result = await MillCertificationsResource(transport).list_mill_certifications(
        COMPANY_ID,
        page=2,
        page_size=10,
        status=MillCertificationStatus.APPROVED,
        updated_since=since,
    )

    spec = transport.spec
    assert ("GET", f"{COMPANY_PATH}/mill-certifications") == (spec.method, spec.path)
    assert spec.idempotent
    assert (
        ("page", "2"),
        ("pageSize", "10"),
        ("status", "approved"),
        ("updatedSince", "2026-01-02T03:04:05+00:00"),
    ) == spec.params
    (item,) = result.items
    assert (2, 10, 11) == (result.page, result.page_size, result.total_count)
    assert MillCertificationStatus.EXTRACTED == item.status
    assert (None, None) == (item.supplier, item.certificate_date)
    assert datetime.datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC) == item.updated_at


async def test_list_mill_certifications_sends_defaults_and_drops_none() -> None:
    answer = {"items": [], "page": 1, "pageSize": 25, "totalCount": 0}
    transport = FakeTransport(answer)

    await MillCertificationsResource(transport).list_mill_certifications(
        COMPANY_ID, status=None
    )

    assert (("page", "1"), ("pageSize", "25")) == transport.spec.params


async def test_get_mill_certification_parses_the_ground_truth_certificate() -> None:
    transport = FakeTransport(mill_certification())

    cert = await MillCertificationsResource(transport).get_mill_certification(
        COMPANY_ID, UUID(CERT_ID)
    )

    spec = transport.spec
    assert ("GET", CERT_PATH) == (spec.method, spec.path)
    assert CERT_TEMPLATE == spec.path_template
    assert spec.idempotent
    assert "25-3133/01MNF/EXP" == cert.document.certificate_number
    assert datetime.date(2025, 7, 7) == cert.document.certificate_date
    assert ("011001", True) == (
        cert.approval.approval_number,
        cert.approval.cares_approved,
    )
    assert "MV WHITE IVY" == cert.traceability.vessel_name
    assert (None, None) == (cert.supplier, cert.mill)
    assert 20 == len(cert.heats)
    assert 70 == sum(len(heat.mechanical_tests) for heat in cert.heats)
    first = cert.heats[0]
    assert ("25990085", 0.19) == (first.heat_number, first.chemical_composition["C"])
    assert ("13", 583) == (
        first.mechanical_tests[0].test_sample,
        first.mechanical_tests[0].yield_strength_mpa,
    )
    assert first.mechanical_tests[1].test_sample is None
    unread = next(heat for heat in cert.heats if heat.heat_number == "25990031")
    assert unread.chemical_composition["Mn"] is None
    assert {"extractionModel": "reference"} == cert.additional_properties
    assert datetime.datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC) == cert.approved_at
    assert mill_certification() == cert.to_dict()


async def test_get_mill_certification_accepts_a_null_approval_time() -> None:
    transport = FakeTransport({**mill_certification(), "approvedAt": None})

    cert = await MillCertificationsResource(transport).get_mill_certification(
        COMPANY_ID, CERT_ID
    )

    assert cert.approved_at is None


async def test_approve_mill_certification_is_not_idempotent() -> None:
    transport = FakeTransport(mill_certification())

    cert = await MillCertificationsResource(transport).approve_mill_certification(
        COMPANY_ID, CERT_ID
    )

    spec = transport.spec
    assert ("POST", f"{CERT_PATH}/approve") == (spec.method, spec.path)
    assert not spec.idempotent
    assert spec.json is None
    assert spec.multipart is None
    assert frozenset({200}) == spec.ok_status
    assert MillCertificationStatus.APPROVED == cert.status


async def test_download_mill_certification_streams_zip_or_csv() -> None:
    transport = FakeTransport(body=b"PK\x03\x04" + bytes(100))

    stream = MillCertificationsResource(transport).download_mill_certification(
        COMPANY_ID, CERT_ID, export=DownloadExport.CSV, group_by=DownloadGroupBy.HEAT
    )

    spec = transport.spec
    assert ("GET", f"{CERT_PATH}/download") == (spec.method, spec.path)
    assert spec.idempotent
    assert (("export", "csv"), ("groupBy", "heat")) == spec.params
    assert "application/zip, text/csv" == spec.accept
    assert spec.parse is None
    assert frozenset({200}) == spec.ok_status
    async with stream:
        chunks = [chunk async for chunk in stream.iter_chunks(50)]
    assert [50, 50, 4] == [len(chunk) for chunk in chunks]


async def test_download_mill_certification_leaves_defaults_to_the_server() -> None:
    transport = FakeTransport()

    MillCertificationsResource(transport).download_mill_certification(
        COMPANY_ID, CERT_ID
    )

    assert () == transport.spec.params


async def test_generate_material_test_certificate_streams_a_pdf() -> None:
    transport = FakeTransport(body=b"%PDF-1.7")

    stream = MillCertificationsResource(transport).generate_material_test_certificate(
        COMPANY_ID, CERT_ID, timeout=5.0
    )

    spec = transport.spec
    assert ("POST", f"{CERT_PATH}/mtc") == (spec.method, spec.path)
    assert not spec.idempotent
    assert "application/pdf" == spec.accept
    assert spec.parse is None
    assert CallOptions(timeout=5.0) == transport.options[0]
    assert b"%PDF-1.7" == await stream.read()


async def test_upload_mill_certification_sends_bytes_as_multipart() -> None:
    answer = {"millCertificationId": CERT_ID, "status": "processing"}
    transport = FakeTransport(answer)

    result = await MillCertificationsResource(transport).upload_mill_certification(
        COMPANY_ID, file=b"%PDF-1.7", file_name="cert.pdf"
    )

    spec = transport.spec
    assert ("POST", f"{COMPANY_PATH}/mill-certifications") == (spec.method, spec.path)
    assert not spec.idempotent
    assert spec.json is None
    assert (
        Multipart(
            fields=(("fileName", "cert.pdf"),),
            files=(FilePart("file", b"%PDF-1.7", "cert.pdf", "application/pdf"),),
        )
        == spec.multipart
    )
    assert frozenset({202}) == spec.ok_status
    assert (UUID(CERT_ID), MillCertificationStatus.PROCESSING) == (
        result.mill_certification_id,
        result.status,
    )


async def test_upload_mill_certification_names_a_path_upload_after_the_file(
    tmp_path: Path,
) -> None:
    answer = {"millCertificationId": CERT_ID, "status": "processing"}
    transport = FakeTransport(answer)
    pdf = tmp_path / "sample_cert_001.pdf"

    await MillCertificationsResource(transport).upload_mill_certification(
        COMPANY_ID, file=pdf
    )

    multipart = transport.spec.multipart
    assert multipart is not None
    assert () == multipart.fields
    assert (
        FilePart("file", pdf, "sample_cert_001.pdf", "application/pdf"),
    ) == multipart.files


async def test_resource_methods_pass_timeout_and_retry_as_call_options() -> None:
    transport = FakeTransport([])
    retry = object()

    await EntitlementsResource(transport).list_company_entitlements(
        COMPANY_ID,
        timeout=2.5,
        retry=retry,  # type: ignore[arg-type]  # any object stands in for a policy
    )

    assert [CallOptions(timeout=2.5, retry=retry)] == transport.options  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("module_name", "method", "idempotent", "assumed"),
    [
        ("gateway.resolve_api_key_metadata", "POST", True, False),
        ("users.check_user_sync", "POST", True, False),
        ("users.update_user_profile", "PUT", True, False),
        ("users.list_user_companies", "POST", True, False),
        ("entitlements.list_company_entitlements", "GET", True, False),
        ("entitlements.check_feature_access", "GET", True, False),
        ("mill_certifications.list_mill_certifications", "GET", True, True),
        ("mill_certifications.get_mill_certification", "GET", True, False),
        ("mill_certifications.download_mill_certification", "GET", True, False),
        (
            "mill_certifications.generate_material_test_certificate",
            "POST",
            False,
            False,
        ),
        ("mill_certifications.upload_mill_certification", "POST", False, True),
        ("mill_certifications.approve_mill_certification", "POST", False, True),
    ],
)
def test_operation_module_constants_follow_the_spec(
    module_name: str, method: str, idempotent: bool, assumed: bool
) -> None:
    module = importlib.import_module(f"gosmarter_async._generated.api.{module_name}")

    assert (method, idempotent, assumed) == (
        module.METHOD,
        module.IDEMPOTENT,
        module.ASSUMED,
    )
