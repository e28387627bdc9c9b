"""Hostile answers from a real server: truncated, huge, mistyped, undecodable, slow.

Each ends in the SDK's typed error, in bounded time and memory, with the raw body
kept (bounded) where it helps the caller see what came back (issue 6, item 4).
"""

from __future__ import annotations

import asyncio
import time
import tracemalloc
from collections.abc import AsyncIterator

import pytest
from aiohttp import web

from gosmarter_async import (
    GoSmarterClient,
    ResponseDecodeError,
    RetryPolicy,
    ServerError,
    TransportError,
    TransportTimeoutError,
)
from tests.helpers_server import (
    BigBody,
    FakeTokenProvider,
    ScriptedServer,
    answer,
    cut_body,
)

COMPANY = "0b1e5e3c-7a51-4d8e-9a0c-3f2b1d4e5a6f"
CERT = "5d0b2c3a-1f4e-4a6b-8c7d-9e0f1a2b3c4d"
CERT_PATH = f"/api/company/{COMPANY}/mill-certifications/{CERT}"
HUNDRED_MB = 100 * 1024 * 1024


@pytest.fixture
async def server() -> AsyncIterator[ScriptedServer]:
    async with ScriptedServer() as running:
        yield running


@pytest.fixture
async def client(server: ScriptedServer) -> AsyncIterator[GoSmarterClient]:
    async with GoSmarterClient(
        token_provider=FakeTokenProvider(),
        base_url=server.url,
        retry=RetryPolicy(max_attempts=2).without_waits(),
    ) as client:
        yield client


async def test_truncated_body_is_a_transport_error_after_retries(
    server: ScriptedServer, client: GoSmarterClient
) -> None:
    body = b'{"millCertificationId": "' + b"x" * 5000 + b'"}'
    server.script("GET", CERT_PATH, cut_body(body, 100, "application/json"))

    with pytest.raises(TransportError) as caught:
        await client.mill_certifications.get_mill_certification(COMPANY, CERT)

    assert "cut off" in str(caught.value) or "hung up" in str(caught.value)
    assert 2 == len(server.requests_to(CERT_PATH))


async def test_huge_error_body_is_read_bounded_with_a_short_excerpt(
    server: ScriptedServer, client: GoSmarterClient
) -> None:
    big = BigBody(total=HUNDRED_MB, status=500)
    server.script("GET", CERT_PATH, big)
    tracemalloc.start()
    started = time.monotonic()

    try:
        with pytest.raises(ServerError) as caught:
            await client.mill_certifications.get_mill_certification(
                COMPANY, CERT, retry=RetryPolicy.disabled()
            )
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()

    assert 500 == caught.value.status
    assert len(caught.value.body_excerpt) <= 503
    assert peak < 16 * 1024 * 1024
    assert time.monotonic() - started < 10
    await big.done.wait()
    assert big.sent < HUNDRED_MB


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        (b"<html><body>Gateway maintenance</body></html>", "text/html"),
        (b"\xff\xfe\x00{not utf-8", "application/json"),
        (b'{"millCertificationId": ', "application/json"),
    ],
    ids=["html", "invalid-utf8", "truncated-json"],
)
async def test_undecodable_success_body_is_a_decode_error_keeping_the_body(
    server: ScriptedServer, client: GoSmarterClient, body: bytes, content_type: str
) -> None:
    server.script("GET", CERT_PATH, answer(200, body=body, content_type=content_type))

    with pytest.raises(ResponseDecodeError) as caught:
        await client.mill_certifications.get_mill_certification(COMPANY, CERT)

    assert 200 == caught.value.status
    assert body == caught.value.body
    assert "getMillCertification" in str(caught.value)


async def test_invalid_utf8_error_body_still_gives_the_status_error(
    server: ScriptedServer, client: GoSmarterClient
) -> None:
    server.script("GET", CERT_PATH, answer(404, body=b"\xff\xfe{bad \xc3\x28 bytes"))

    with pytest.raises(Exception) as caught:  # noqa: PT011 (checked just below)
        await client.mill_certifications.get_mill_certification(COMPANY, CERT)

    assert 404 == caught.value.status  # type: ignore[attr-defined]
    assert "\ufffd" in caught.value.body_excerpt  # type: ignore[attr-defined]


# The generated models convert fields with uuid.UUID, fromisoformat and enum calls;
# a wrong type or a malformed value fails inside the conversion, and the error names
# the model and the JSON field, not only the converter's message.
@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "millCertificationId"),
        (
            {"millCertificationId": 12, "companyId": COMPANY},
            "MillCertification.millCertificationId",
        ),
        (
            {"millCertificationId": "not-a-uuid", "companyId": COMPANY},
            "MillCertification.millCertificationId",
        ),
    ],
    ids=["missing-fields", "wrong-type", "malformed-value"],
)
async def test_json_not_matching_the_spec_names_the_field_and_keeps_the_body(
    server: ScriptedServer, client: GoSmarterClient, body: object, field: str
) -> None:
    server.script("GET", CERT_PATH, answer(200, json_body=body))

    with pytest.raises(ResponseDecodeError) as caught:
        await client.mill_certifications.get_mill_certification(COMPANY, CERT)

    assert caught.value.body.startswith(b"{")
    assert field in str(caught.value)


@pytest.mark.parametrize(
    "body",
    [
        {"millCertificationId": 12, "companyId": COMPANY},
        {"millCertificationId": "not-a-uuid", "companyId": COMPANY},
        {"millCertificationId": None},
        [],
    ],
    ids=["int-for-uuid", "malformed-uuid", "null", "array"],
)
async def test_json_of_the_wrong_shape_is_a_typed_decode_error(
    server: ScriptedServer, client: GoSmarterClient, body: object
) -> None:
    server.script("GET", CERT_PATH, answer(200, json_body=body))

    with pytest.raises(ResponseDecodeError) as caught:
        await client.mill_certifications.get_mill_certification(COMPANY, CERT)

    assert 200 == caught.value.status
    assert caught.value.body


async def _stall_after_headers(request: web.Request) -> web.StreamResponse:
    response = web.StreamResponse(status=200)
    response.content_type = "application/json"
    response.content_length = 1000
    await response.prepare(request)
    await response.write(b'{"millCertificationId": "')
    # Far longer than the client's timeout; stopping the server cancels it.
    await asyncio.sleep(5)
    return response


async def test_slow_body_trips_the_read_timeout(
    server: ScriptedServer, client: GoSmarterClient
) -> None:
    server.script("GET", CERT_PATH, _stall_after_headers)
    started = time.monotonic()

    with pytest.raises(TransportTimeoutError):
        await client.mill_certifications.get_mill_certification(
            COMPANY, CERT, timeout=0.3, retry=RetryPolicy.disabled()
        )

    assert time.monotonic() - started < 3


async def test_slow_download_trips_the_read_timeout_between_chunks(
    server: ScriptedServer, client: GoSmarterClient
) -> None:
    download = CERT_PATH + "/download"
    server.script("GET", download, _stall_after_headers)
    started = time.monotonic()

    with pytest.raises(TransportTimeoutError):
        await client.mill_certifications.download_mill_certification(
            COMPANY, CERT, timeout=0.3, retry=RetryPolicy.disabled()
        ).read()

    assert time.monotonic() - started < 3
