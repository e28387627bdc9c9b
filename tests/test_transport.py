"""The transport against a real aiohttp.web server: requests, answers, auth, errors."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest

from gosmarter_async._errors import (
    APIStatusError,
    ConfigurationError,
    ForbiddenError,
    NotFoundError,
    ResponseDecodeError,
    ServerError,
    UnauthorizedError,
)
from gosmarter_async._generated.api.entitlements.list_company_entitlements import (
    build_list_company_entitlements,
)
from gosmarter_async._generated.api.mill_certifications import (
    upload_mill_certification as upload_op,
)
from gosmarter_async._generated.api.mill_certifications.get_mill_certification import (
    build_get_mill_certification,
)
from gosmarter_async._generated.models import Entitlement
from gosmarter_async._request import CallOptions, FilePart, Multipart
from gosmarter_async._retry import RetryPolicy
from gosmarter_async._transport import AiohttpTransport
from tests.helpers_server import (
    BigBody,
    FakeTokenProvider,
    ScriptedServer,
    answer,
    spec,
)

# The fixtures server, tokens and transport.
pytest_plugins = ["tests.helpers_fixtures"]

COMPANY = UUID("7d1f0b5e-8a4e-4a57-9d0c-3f1f6b7e2a10")
NO_RETRY = CallOptions(retry=RetryPolicy.disabled())


# -- request shape and success bodies ---------------------------------------------


async def test_send_sends_bearer_accept_query_and_user_agent(
    server: ScriptedServer, transport: AiohttpTransport
) -> None:
    server.script("GET", "/things", answer(json_body={"ok": True}))

    result = await transport.send(spec(params=(("page", "2"), ("status", "approved"))))

    seen = server.seen[0]
    assert {"ok": True} == result
    assert "Bearer secret-token-1" == seen.headers["Authorization"]
    assert "application/json" == seen.headers["Accept"]
    assert [("page", "2"), ("status", "approved")] == seen.query
    assert seen.headers["User-Agent"].startswith("gosmarter-async/")


async def test_send_posts_a_json_body(
    server: ScriptedServer, transport: AiohttpTransport
) -> None:
    server.script("POST", "/things", answer(json_body={"id": 1}))

    await transport.send(spec("POST", json={"name": "heat 42", "ok": True}))

    seen = server.seen[0]
    assert b'{"name":"heat 42","ok":true}' == seen.body
    assert "application/json" == seen.headers["Content-Type"]


async def test_send_empty_success_body_decodes_to_none(
    server: ScriptedServer, transport: AiohttpTransport
) -> None:
    server.script("PUT", "/things", answer(202, body=b""))

    assert await transport.send(spec("PUT")) is None


async def test_send_generated_operation_parses_models(
    server: ScriptedServer, transport: AiohttpTransport
) -> None:
    path = f"/api/company/{COMPANY}/entitlements"
    entitlement = {
        "featureId": 3,
        "featureKey": "mill-certs",
        "featureName": "Mill certificates",
        "description": "Upload and search",
        "category": "quality",
        "requiresUnlock": False,
        "displayOrder": 1,
        "isEnabled": True,
        "unlockedAt": None,
        "expiresAt": None,
        "notes": None,
        "hasAccess": True,
        "futureField": "kept",
    }
    server.script("GET", path, answer(json_body=[entitlement]))

    result = await transport.send(build_list_company_entitlements(COMPANY))

    assert [Entitlement] == [type(item) for item in result]
    assert ("mill-certs", None) == (result[0].feature_key, result[0].unlocked_at)


async def test_send_invalid_json_raises_decode_error_keeping_the_body(
    server: ScriptedServer, transport: AiohttpTransport
) -> None:
    server.script("GET", "/things", answer(body="<html>oops</html>"))

    with pytest.raises(ResponseDecodeError) as caught:
        await transport.send(spec())

    assert (200, b"<html>oops</html>") == (caught.value.status, caught.value.body)
    assert "not valid JSON" in str(caught.value)


async def test_send_parse_failure_names_the_missing_field(
    server: ScriptedServer, transport: AiohttpTransport
) -> None:
    server.script("GET", "/things", answer(json_body={"other": 1}))

    def parse(data: Any) -> str:
        return str(data["certificateNumber"])

    with pytest.raises(ResponseDecodeError, match="missing field 'certificateNumber'"):
        await transport.send(spec(parse=parse))


# -- multipart --------------------------------------------------------------------


async def test_send_multipart_upload_from_bytes(
    server: ScriptedServer, transport: AiohttpTransport
) -> None:
    path = f"/api/company/{COMPANY}/mill-certifications"
    accepted = {"millCertificationId": str(COMPANY), "status": "processing"}
    server.script("POST", path, answer(202, json_body=accepted))

    result = await transport.send(
        upload_op.build_upload_mill_certification(
            COMPANY, file=b"%PDF-1.7 scan", file_name="c.pdf"
        )
    )

    seen = server.seen[0]
    assert seen.headers["Content-Type"].startswith("multipart/form-data; boundary=")
    assert b'name="file"; filename="c.pdf"' in seen.body
    assert b"%PDF-1.7 scan" in seen.body
    assert "processing" == str(result.status)


async def test_send_multipart_from_a_path_is_reopened_on_retry(
    server: ScriptedServer, transport: AiohttpTransport, tmp_path: Path
) -> None:
    pdf = tmp_path / "cert.pdf"
    pdf.write_bytes(b"%PDF-1.7 " + b"s" * 200_000)
    rate_limited = answer(429, headers={"Retry-After": "1"}, body=b"")
    server.script("POST", "/upload", rate_limited, answer(202, json_body={}))
    upload = Multipart(
        fields=(("note", "first heat"),),
        files=(FilePart("file", pdf, "cert.pdf", "application/pdf"),),
    )

    await transport.send(
        spec("POST", "/upload", multipart=upload, ok_status=frozenset({202}))
    )

    assert 2 == len(server.seen)
    for seen in server.seen:
        assert pdf.read_bytes() in seen.body
        assert b"first heat" in seen.body


# -- the 401 replay ---------------------------------------------------------------


async def test_send_401_invalidates_the_rejected_token_and_replays_once(
    server: ScriptedServer, transport: AiohttpTransport, tokens: FakeTokenProvider
) -> None:
    server.script("GET", "/things", answer(401, body=b""), answer(json_body=[1]))

    result = await transport.send(spec())

    assert [1] == result
    assert ["secret-token-1"] == [t.value for t in tokens.invalidated]
    sent = [s.headers["Authorization"] for s in server.seen]
    assert ["Bearer secret-token-1", "Bearer secret-token-2"] == sent


async def test_send_second_401_raises_unauthorized_after_one_replay(
    server: ScriptedServer, transport: AiohttpTransport, tokens: FakeTokenProvider
) -> None:
    problem = {"title": "Unauthorized", "status": 401, "trace": {"requestId": "r-401"}}
    server.script("GET", "/things", answer(401, json_body=problem))

    with pytest.raises(UnauthorizedError) as caught:
        await transport.send(spec())

    assert 2 == len(server.seen)
    assert 1 == len(tokens.invalidated)
    assert "r-401" == caught.value.request_id


# -- error mapping ----------------------------------------------------------------


async def test_error_html_502_page_from_a_proxy(
    server: ScriptedServer, transport: AiohttpTransport
) -> None:
    page = "<html><head><title>502 Bad Gateway</title></head><body>nginx</body></html>"
    server.script(
        "GET",
        "/things",
        answer(
            502, body=page, content_type="text/html", headers={"X-Request-Id": "px-9"}
        ),
    )

    with pytest.raises(ServerError) as caught:
        await transport.send(spec(), NO_RETRY)

    error = caught.value
    assert (502, None, "px-9") == (error.status, error.problem, error.request_id)
    assert "502 Bad Gateway" in error.body_excerpt
    assert "GET /things answered 502" in str(error)


async def test_error_empty_body(
    server: ScriptedServer, transport: AiohttpTransport
) -> None:
    server.script("GET", "/things", answer(503, body=b""))

    with pytest.raises(ServerError) as caught:
        await transport.send(spec(), NO_RETRY)

    assert (503, "", None) == (
        caught.value.status,
        caught.value.body_excerpt,
        caught.value.problem,
    )


async def test_error_unknown_5xx_code_520(
    server: ScriptedServer, transport: AiohttpTransport
) -> None:
    server.script("GET", "/things", answer(520, body="origin error"))

    with pytest.raises(ServerError) as caught:
        await transport.send(spec())

    assert 520 == caught.value.status
    assert 1 == len(server.seen)


async def test_error_unknown_4xx_code_is_an_api_status_error(
    server: ScriptedServer, transport: AiohttpTransport
) -> None:
    server.script("GET", "/things", answer(418, body="teapot"))

    with pytest.raises(APIStatusError) as caught:
        await transport.send(spec())

    assert (APIStatusError, 418) == (type(caught.value), caught.value.status)


async def test_error_problem_json_with_request_id(
    server: ScriptedServer, transport: AiohttpTransport
) -> None:
    problem = {
        "type": "https://api.gosmarter.ai/problems/not-found",
        "title": "Not Found",
        "status": 404,
        "detail": "No mill certification 42",
        "instance": "/api/company/x/mill-certifications/42",
        "trace": {"timestamp": "2026-12-03T12:00:00Z", "requestId": "req-123"},
    }
    server.script(
        "GET",
        "/things",
        answer(404, json_body=problem, content_type="application/problem+json"),
    )

    with pytest.raises(NotFoundError) as caught:
        await transport.send(spec(params=(("q", "1"),)))

    error = caught.value
    assert ("req-123", "No mill certification 42") == (
        error.request_id,
        error.problem.detail,
    )
    assert "/things" == error.path
    assert (
        "GET /things answered 404: No mill certification 42 (request id req-123)"
        == str(error)
    )


async def test_error_request_id_from_headers_when_body_has_none(
    server: ScriptedServer, transport: AiohttpTransport
) -> None:
    server.script(
        "GET", "/things", answer(403, body=b"", headers={"x-ms-request-id": "ms-7"})
    )

    with pytest.raises(ForbiddenError) as caught:
        await transport.send(spec())

    assert "ms-7" == caught.value.request_id


async def test_error_100mb_body_is_read_bounded(
    server: ScriptedServer, transport: AiohttpTransport
) -> None:
    big = BigBody(total=100 * 1024 * 1024)
    server.script("GET", "/things", big)

    with pytest.raises(ServerError) as caught:
        await transport.send(spec(), NO_RETRY)
    async with asyncio.timeout(5):
        await big.done.wait()

    assert len(caught.value.body_excerpt) <= 503
    assert caught.value.body_excerpt.endswith("...")
    assert big.sent < 16 * 1024 * 1024


# -- security ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "url", ["http://api.gosmarter.ai", "http://10.0.0.5:8080", "ftp://api.gosmarter.ai"]
)
def test_transport_refuses_plain_http_except_loopback(
    url: str, tokens: FakeTokenProvider
) -> None:
    with pytest.raises(ConfigurationError):
        AiohttpTransport(url, tokens)


@pytest.mark.parametrize(
    "url", ["https://api.gosmarter.ai/", "http://127.0.0.1:8080", "http://localhost"]
)
def test_transport_accepts_https_and_loopback_http(
    url: str, tokens: FakeTokenProvider
) -> None:
    assert url.rstrip("/") == AiohttpTransport(url, tokens).base_url


async def test_redirect_to_another_origin_drops_authorization(
    server: ScriptedServer, transport: AiohttpTransport
) -> None:
    async with ScriptedServer() as elsewhere:
        elsewhere.script("GET", "/blob", answer(json_body={"at": "elsewhere"}))
        server.script(
            "GET", "/things", answer(302, headers={"Location": f"{elsewhere.url}/blob"})
        )

        result = await transport.send(spec())

    assert {"at": "elsewhere"} == result
    assert "Authorization" in server.seen[0].headers
    assert "Authorization" not in elsewhere.seen[0].headers


async def test_redirect_within_the_origin_keeps_authorization(
    server: ScriptedServer, transport: AiohttpTransport
) -> None:
    server.script("GET", "/things", answer(307, headers={"Location": "/moved"}))
    server.script("GET", "/moved", answer(json_body=[]))

    await transport.send(spec())

    assert (
        "Bearer secret-token-1"
        == server.requests_to("/moved")[0].headers["Authorization"]
    )


async def test_tokens_never_reach_logs_errors_or_reprs(
    server: ScriptedServer,
    transport: AiohttpTransport,
    caplog: pytest.LogCaptureFixture,
) -> None:
    echo = {"detail": "bad token Bearer secret-token-2", "trace": {"requestId": "r"}}
    server.script("GET", "/things", answer(401, body=b""), answer(400, json_body=echo))

    with pytest.raises(APIStatusError) as caught:
        await transport.send(spec())

    shown = caplog.text + str(caught.value) + repr(caught.value) + repr(transport)
    shown += caught.value.body_excerpt
    assert "secret-token" not in shown


async def test_debug_line_per_attempt_names_template_status_attempt_and_request_id(
    server: ScriptedServer,
    transport: AiohttpTransport,
    caplog: pytest.LogCaptureFixture,
) -> None:
    server.script(
        "GET",
        "/api/company/c-1/entitlements",
        answer(503, body=b""),
        answer(json_body=[], headers={"x-request-id": "rid-5"}),
    )
    request = spec(path="/api/company/c-1/entitlements")
    request = type(request)(
        operation_id="listCompanyEntitlements",
        method="GET",
        path_template="/api/company/{companyId}/entitlements",
        path="/api/company/c-1/entitlements",
        idempotent=True,
    )

    await transport.send(request)

    lines = [
        r.getMessage() for r in caplog.records if r.name == "gosmarter_async.transport"
    ]
    assert 2 == len(lines)
    assert lines[0].startswith("GET /api/company/{companyId}/entitlements -> 503 in ")
    assert lines[1].endswith("(attempt 2, request id rid-5)")
    retry_lines = [r for r in caplog.records if r.name == "gosmarter_async.retry"]
    assert [logging.INFO] == [r.levelno for r in retry_lines]


async def test_transport_rate_limit_spaces_requests_evenly(
    server: ScriptedServer, tokens: FakeTokenProvider
) -> None:
    # Pacing is a lower bound on time, so load on the machine cannot make this fail:
    # 5 requests at 20 per second need at least 4 gaps of 50 ms.
    server.script("GET", "/things", *[answer(json_body={"ok": True})] * 5)
    paced = AiohttpTransport(server.url, tokens, rate_limit=20.0)
    loop = asyncio.get_running_loop()

    try:
        started = loop.time()
        await asyncio.gather(*(paced.send(spec()) for _ in range(5)))
        elapsed = loop.time() - started
    finally:
        await paced.aclose()

    assert 5 == len(server.seen)
    assert elapsed >= 0.19


async def test_transport_decode_error_names_the_nested_model_of_a_missing_field(
    server: ScriptedServer, transport: AiohttpTransport
) -> None:
    company = "00000000-0000-0000-0000-000000000001"
    cert = "00000000-0000-0000-0000-000000000002"
    body = {
        "millCertificationId": cert,
        "companyId": company,
        "status": "extracted",
        "document": {},
    }
    path = f"/api/company/{company}/mill-certifications/{cert}"
    server.script("GET", path, answer(json_body=body))

    with pytest.raises(ResponseDecodeError) as caught:
        await transport.send(build_get_mill_certification(company, cert))

    expected = "missing field 'certificateNumber' of CertificateDocument"
    assert expected in str(caught.value)
