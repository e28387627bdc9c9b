"""Every operation through GoSmarterClient, validated by Prism against the spec.

The token comes from the sandbox directly (the token endpoint is not part of the
gateway spec); every gateway call goes through Prism, which fails it (422 for the
request, 500 for the response) on any violation and logs what it found. A test
passes only if its calls succeed and Prism logged no violation meanwhile.
"""

from __future__ import annotations

import datetime
from collections.abc import AsyncIterator
from uuid import UUID

import pytest

from gosmarter_async import (
    APIStatusError,
    ClientCredentialsTokenProvider,
    NotFoundError,
    RetryPolicy,
)
from gosmarter_async._client import GoSmarterClient
from gosmarter_async._generated.models import (
    ApiKeyWebhookRequest,
    DownloadExport,
    DownloadGroupBy,
    MillCertificationStatus,
    UserProfile,
)
from gosmarter_async.export._companies import token_user_id
from tests.conformance.conftest import Proxied
from tests.conformance.prism import PRISM_ERROR_TYPE

MISSING = "00000000-0000-4000-8000-000000000000"
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


@pytest.fixture
async def client(proxied: Proxied) -> AsyncIterator[GoSmarterClient]:
    # One attempt: a Prism 422/500 must surface, not be retried away.
    async with GoSmarterClient(
        proxied.settings, base_url=proxied.prism.url, retry=RetryPolicy.disabled()
    ) as client:
        yield client


@pytest.fixture
def no_new_violations(proxied: Proxied) -> object:
    before = len(proxied.prism.violations())
    yield
    # A short wait: Prism's log line may trail its answer.
    assert [] == proxied.prism.new_violations(before, within=0.3)


async def _user_id(client: GoSmarterClient) -> str:
    # The client does not expose its provider; the token names the user.
    provider = client._token_provider
    assert isinstance(provider, ClientCredentialsTokenProvider)
    token = await provider.get_token()
    user = token_user_id(token)
    assert user is not None
    return user


async def _companies(client: GoSmarterClient) -> list[str]:
    companies = await client.users.list_user_companies(await _user_id(client), body=[])
    return [str(c.company_id) for c in companies]


@pytest.mark.usefixtures("no_new_violations")
async def test_prism_gateway_and_users_operations_conform(
    client: GoSmarterClient,
) -> None:
    user = await _user_id(client)

    metadata = await client.gateway.resolve_api_key_metadata(
        body=ApiKeyWebhookRequest(user_id=user)
    )
    sync = await client.users.check_user_sync(
        user, body=UserProfile(user_id=UUID(user))
    )
    updated = await client.users.update_user_profile(
        user,
        body=UserProfile(user_id=UUID(user), first_name="Ada", tutorial_mode=False),
    )
    companies = await client.users.list_user_companies(user, body=[])

    assert user == str(metadata.user_id)
    assert sync is not None
    assert updated is not None
    assert 2 == len(companies)


@pytest.mark.usefixtures("no_new_violations")
async def test_prism_entitlements_operations_conform(client: GoSmarterClient) -> None:
    company = (await _companies(client))[0]

    entitlements = await client.entitlements.list_company_entitlements(company)
    access = await client.entitlements.check_feature_access(company, "mill-certs")

    assert entitlements
    assert access is not None


@pytest.mark.usefixtures("no_new_violations")
async def test_prism_listing_and_reading_certifications_conform(
    client: GoSmarterClient,
) -> None:
    company = (await _companies(client))[0]
    resource = client.mill_certifications

    first = await resource.list_mill_certifications(company, page=1, page_size=5)
    filtered = await resource.list_mill_certifications(
        company,
        status=MillCertificationStatus.EXTRACTED,
        updated_since=datetime.datetime(2020, 1, 1, tzinfo=datetime.UTC),
    )
    every = [s async for s in resource.iter_mill_certifications(company, page_size=5)]
    cert = str(every[0].mill_certification_id)
    details = await resource.get_mill_certification(company, cert)
    csv = await resource.download_mill_certification(
        company, cert, export=DownloadExport.CSV
    ).read()
    scans = await resource.download_mill_certification(
        company, cert, export=DownloadExport.SCANS, group_by=DownloadGroupBy.HEAT
    ).read()
    original = await resource.download_mill_certification(company, cert).read()
    mtc = await resource.generate_material_test_certificate(company, cert).read()

    assert 5 == len(first.items)
    assert all(s.status == MillCertificationStatus.EXTRACTED for s in filtered.items)
    assert 12 == len(every)
    assert cert == str(details.mill_certification_id)
    assert csv
    assert scans.startswith(b"PK")
    assert original
    assert mtc.startswith(b"%PDF")


@pytest.mark.usefixtures("no_new_violations")
async def test_prism_upload_and_approve_conform(client: GoSmarterClient) -> None:
    company = (await _companies(client))[1]
    resource = client.mill_certifications
    extracted = await resource.list_mill_certifications(
        company, status=MillCertificationStatus.EXTRACTED
    )
    target = str(extracted.items[0].mill_certification_id)

    accepted = await resource.upload_mill_certification(
        company, file=PDF, file_name="mill-cert.pdf"
    )
    approved = await resource.approve_mill_certification(company, target)

    assert accepted is not None
    assert MillCertificationStatus.APPROVED == approved.status


@pytest.mark.usefixtures("no_new_violations")
async def test_prism_error_answers_conform(client: GoSmarterClient) -> None:
    company = (await _companies(client))[0]

    with pytest.raises(NotFoundError) as missing:
        await client.mill_certifications.get_mill_certification(company, MISSING)

    assert 404 == missing.value.status
    assert missing.value.request_id


async def test_prism_rejects_a_request_that_breaks_the_spec(
    client: GoSmarterClient, proxied: Proxied
) -> None:
    # The proof that the checks above can fail: pageSize is at most 100.
    company = (await _companies(client))[0]
    before = len(proxied.prism.violations())

    with pytest.raises(APIStatusError) as caught:
        await client.request(
            "GET", f"/api/company/{company}/mill-certifications?pageSize=1000"
        )

    assert 422 == caught.value.status
    assert caught.value.problem is not None
    assert (caught.value.problem.type or "").startswith(PRISM_ERROR_TYPE)
    assert proxied.prism.new_violations(before)
