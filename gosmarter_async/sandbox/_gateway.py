"""The gateway: every operation of `openapi/gosmarter-gateway.yaml` over the store.

Each request under `/api/` goes through the same steps, in this order: injected
latency; an injected fault (503, 429, or a dropped connection); the bearer token
(signature, kid, aud, iss, exp and nbf against the server's clock, 5 s leeway);
the per-client rate limit (429 + Retry-After); then the operation. Errors are RFC
7807 problem details with `trace.requestId`, and every answer carries the same id in
an `x-request-id` header.

Assumptions where the spec is silent, chosen to be unsurprising:

- `listUserCompanies` with an empty id list answers every company of the user; ids
  the user does not belong to are left out (not a 404).
- `checkFeatureAccess` for an unknown feature key answers 200 with `hasAccess:
  false` and a message, rather than 404 (the 404 is for an unknown company).
- `updateUserProfile` applies the profile at once, so its 202 answer reports
  `isSynced: true`; missing optional fields replace the stored ones with null/false.
- `resolveApiKeyMetadata` answers 404 for a userId other than the sandbox user.
- `downloadMillCertification` ignores `groupBy` when `export=csv`.
- `approveMillCertification` answers 409 for any status but `extracted`.
- Uploads must be PDFs (`%PDF-`), at most 16 MiB (413 beyond).
"""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

from aiohttp import BodyPartReader, web

from ._http import REQUEST_ID, ProblemError, json_response, problem
from ._render import details_csv, mtc_pdf, scans_zip
from ._seed import Scan
from ._state import STATE, SandboxState, sandbox_log
from ._store import STATUSES, CertRecord, Company, StateConflictError
from ._tokens import InvalidTokenError
from ._views import (
    api_key_metadata,
    detail_json,
    entitlements_json,
    feature_access_json,
    summary_json,
)

__all__ = ["MAX_UPLOAD_BYTES", "OPERATIONS", "add_gateway_routes", "pipeline"]

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

CLAIMS = web.RequestKey("gosmarter_claims", dict[str, Any])

# Far above a scanned certificate (a few MB at most); guards the sandbox's memory.
MAX_UPLOAD_BYTES = 16 * 1024 * 1024

_CERTS = "/api/company/{companyId}/mill-certifications"
_CERT = _CERTS + "/{millCertificationId}"


# --- The request pipeline -----------------------------------------------------------


@web.middleware
async def pipeline(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Latency, faults, authentication, rate limit, then the operation.

    Args:
        request: The incoming request.
        handler: The matched route's handler.

    Returns:
        The answer, with an `x-request-id` header.
    """
    state = request.app[STATE]
    request_id = str(uuid.uuid4())
    request[REQUEST_ID] = request_id
    gateway = request.path.startswith("/api/")
    if gateway:
        operation = OPERATIONS.get(request.match_info.handler, "unknown")
        state.stats.requests[operation] += 1
    delay = state.injector.latency()
    if delay > 0:
        state.stats.faults["latency"] += 1
        await state.clock.sleep(delay)

    fault = state.injector.gateway_fault() if gateway else None
    if fault == "drop_before" and request.transport is not None:
        state.stats.faults[fault] += 1
        request.transport.close()
        return web.Response(status=503)

    response = await _answer(request, handler, state, fault, gateway=gateway)
    response.headers["x-request-id"] = request_id
    sandbox_log.debug(
        "%s %s -> %s request_id=%s",
        request.method,
        request.path,
        response.status,
        request_id,
    )
    if fault == "drop_midway" and isinstance(response, web.Response):
        state.stats.faults[fault] += 1
        return await _drop_midway(request, response)
    return response


async def _answer(
    request: web.Request,
    handler: Handler,
    state: SandboxState,
    fault: str | None,
    *,
    gateway: bool,
) -> web.StreamResponse:
    try:
        if fault in ("error", "throttle"):
            _inject(state, fault)
        if gateway:
            request[CLAIMS] = _authenticate(request, state)
            _rate_limit(request, state)
        state.store.settle(state.clock.monotonic())
        return await handler(request)
    except ProblemError as exc:
        return problem(request, exc.status, exc.detail, state.clock.now(), exc.headers)
    except web.HTTPException as exc:
        # The router's 404 and 405, and aiohttp's 413, as problem details too.
        headers = {"Allow": exc.headers["Allow"]} if "Allow" in exc.headers else None
        return problem(
            request, exc.status, exc.reason, state.clock.now(), headers=headers
        )


def _inject(state: SandboxState, fault: str) -> None:
    state.stats.faults[fault] += 1
    if fault == "error":
        raise ProblemError(503, "The gateway is temporarily unavailable.")
    retry_after = str(state.injector.faults.retry_after)
    raise ProblemError(
        429, "Too many requests; retry later.", {"Retry-After": retry_after}
    )


async def _drop_midway(
    request: web.Request, response: web.Response
) -> web.StreamResponse:
    # The headers promise the whole body; half of it is sent, then the connection
    # closes, so the client sees a short read and can never mistake it for a
    # complete answer (RFC 9112 §6.3).
    body = bytes(response.body) if isinstance(response.body, bytes | bytearray) else b""
    headers = {k: v for k, v in response.headers.items() if k != "Content-Length"}
    stream = web.StreamResponse(status=response.status, headers=headers)
    stream.content_length = len(body)
    await stream.prepare(request)
    await stream.write(body[: len(body) // 2])
    if request.transport is not None:
        request.transport.close()
    return stream


def _authenticate(request: web.Request, state: SandboxState) -> dict[str, Any]:
    header = request.headers.get("Authorization", "")
    if not header:
        raise ProblemError(
            401, "No access token was provided.", {"WWW-Authenticate": "Bearer"}
        )
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        # RFC 6750 §3.1: a malformed Authorization is invalid_request.
        raise ProblemError(
            401,
            "The Authorization header is not a bearer token.",
            {"WWW-Authenticate": 'Bearer error="invalid_request"'},
        )
    try:
        return state.identity.verify(token.strip())
    except InvalidTokenError as exc:
        challenge = f'Bearer error="invalid_token", error_description="{exc}"'
        raise ProblemError(401, str(exc), {"WWW-Authenticate": challenge}) from exc


def _rate_limit(request: web.Request, state: SandboxState) -> None:
    if state.limiter is None:
        return
    wait = state.limiter.take(str(request[CLAIMS].get("azp")), state.clock.monotonic())
    if wait is not None:
        state.stats.faults["rate_limited"] += 1
        raise ProblemError(
            429, "The client's rate limit is exceeded.", {"Retry-After": str(wait)}
        )


# --- Parameters and bodies ----------------------------------------------------------


def _uuid(request: web.Request, name: str) -> str:
    try:
        return str(uuid.UUID(request.match_info[name]))
    except ValueError as exc:
        raise ProblemError(400, f"The path parameter '{name}' is not a UUID.") from exc


def _user(request: web.Request) -> str:
    user_id = _uuid(request, "userId")
    if user_id != request[CLAIMS].get("oid"):
        raise ProblemError(403, "The userId does not match the authenticated user.")
    return user_id


def _company(request: web.Request, state: SandboxState) -> Company:
    company = state.store.company(_uuid(request, "companyId"))
    if company is None:
        raise ProblemError(404, "No company with this id.")
    return company


def _cert(request: web.Request, state: SandboxState) -> tuple[Company, CertRecord]:
    company = _company(request, state)
    cert_id = _uuid(request, "millCertificationId")
    record = state.store.certificate(company.company_id, cert_id)
    if record is None:
        raise ProblemError(404, "No mill certification with this id.")
    return company, record


async def _json_body(request: web.Request) -> Any:
    if request.content_type != "application/json":
        raise ProblemError(400, "The body must be application/json.")
    try:
        return json.loads(await request.read())
    except (ValueError, UnicodeDecodeError) as exc:
        raise ProblemError(400, "The body is not valid JSON.") from exc


def _int_query(request: web.Request, name: str, default: int, high: int) -> int:
    raw = request.query.get(name)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError as exc:
        raise ProblemError(400, f"'{name}' must be an integer.") from exc
    if not 1 <= value <= high:
        raise ProblemError(400, f"'{name}' must be between 1 and {high}.")
    return value


def _enum_query(
    request: web.Request, name: str, allowed: tuple[str, ...], default: str | None
) -> str | None:
    value = request.query.get(name, default)
    if value is not None and value not in allowed:
        raise ProblemError(400, f"'{name}' must be one of: {', '.join(allowed)}.")
    return value


def _instant_query(request: web.Request, name: str) -> datetime | None:
    raw = request.query.get(name)
    if raw is None:
        return None
    # An unencoded "+" of an offset arrives as a space in a query string.
    text = raw.strip().replace(" ", "+")
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        value = None
    if value is None or "T" not in text.upper() or value.tzinfo is None:
        raise ProblemError(
            400, f"'{name}' must be an RFC 3339 date-time with an offset."
        )
    return value


def _profile(body: Any, user_id: str) -> dict[str, Any]:
    if not isinstance(body, dict) or not isinstance(body.get("userId"), str):
        raise ProblemError(400, "The body must be a profile with a userId.")
    try:
        body_user = str(uuid.UUID(body["userId"]))
    except ValueError as exc:
        raise ProblemError(400, "The profile's userId is not a UUID.") from exc
    if body_user != user_id:
        raise ProblemError(400, "The profile's userId differs from the path's.")
    first, last = body.get("firstName"), body.get("lastName")
    tutorial = body.get("tutorialMode", False)
    names_ok = all(v is None or isinstance(v, str) for v in (first, last))
    if not names_ok or not isinstance(tutorial, bool):
        raise ProblemError(400, "firstName/lastName must be strings or null and"
                           " tutorialMode a boolean.")  # fmt: skip
    return {
        "userId": user_id,
        "firstName": first,
        "lastName": last,
        "tutorialMode": tutorial,
    }


# --- Operations ---------------------------------------------------------------------


async def resolve_api_key_metadata(request: web.Request) -> web.StreamResponse:
    """`POST /api/gateway/key-webhook`: the sandbox user's groups and roles."""
    state = request.app[STATE]
    body = await _json_body(request)
    if not isinstance(body, dict) or not isinstance(body.get("userId"), str):
        raise ProblemError(400, "The body must have a userId.")
    if body["userId"] != state.store.ids.user_id:
        raise ProblemError(404, "No user with this id.")
    return json_response(api_key_metadata(state.store))


async def check_user_sync(request: web.Request) -> web.StreamResponse:
    """`POST /api/user/{userId}/sync-check`: the stored profile, and if it matches."""
    state = request.app[STATE]
    user_id = _user(request)
    given = _profile(await _json_body(request), user_id)
    stored = state.store.profile
    return json_response({**stored, "isSynced": given == stored})


async def update_user_profile(request: web.Request) -> web.StreamResponse:
    """`PUT /api/user/{userId}`: replace the profile; 202 with the sync shape."""
    state = request.app[STATE]
    user_id = _user(request)
    state.store.profile = _profile(await _json_body(request), user_id)
    return json_response({**state.store.profile, "isSynced": True}, status=202)


async def list_user_companies(request: web.Request) -> web.StreamResponse:
    """`POST /api/user/{userId}/companies/list`: the named companies, or all."""
    state = request.app[STATE]
    _user(request)
    body = await _json_body(request)
    if not isinstance(body, list) or not all(isinstance(i, str) for i in body):
        raise ProblemError(400, "The body must be an array of company ids.")
    try:
        wanted = {str(uuid.UUID(i)) for i in body}
    except ValueError as exc:
        raise ProblemError(400, "Every company id must be a UUID.") from exc
    companies = state.store.all_companies()
    if wanted:
        companies = [c for c in companies if c.company_id in wanted]
    return json_response([c.to_json() for c in companies])


async def list_company_entitlements(request: web.Request) -> web.StreamResponse:
    """`GET /api/company/{companyId}/entitlements`."""
    company = _company(request, request.app[STATE])
    return json_response(entitlements_json(company))


async def check_feature_access(request: web.Request) -> web.StreamResponse:
    """`GET /api/company/{companyId}/entitlements/check/{featureKey}`."""
    company = _company(request, request.app[STATE])
    return json_response(feature_access_json(company, request.match_info["featureKey"]))


async def list_mill_certifications(request: web.Request) -> web.StreamResponse:
    """`GET .../mill-certifications`: one page, newest first, filtered."""
    state = request.app[STATE]
    company = _company(request, state)
    page = _int_query(request, "page", 1, 2**31 - 1)
    page_size = _int_query(request, "pageSize", 25, 100)
    status = _enum_query(request, "status", STATUSES, None)
    since = _instant_query(request, "updatedSince")
    records, total = state.store.page(
        company.company_id,
        page=page,
        page_size=page_size,
        status=status,
        updated_since=since,
    )
    return json_response(
        {
            "items": [summary_json(r) for r in records],
            "page": page,
            "pageSize": page_size,
            "totalCount": total,
        }
    )


async def _read_part(part: Any) -> bytes:
    data = bytearray()
    while chunk := await part.read_chunk():
        data += chunk
        if len(data) > MAX_UPLOAD_BYTES:
            raise ProblemError(413, "The file is larger than 16 MiB.")
    return bytes(data)


async def upload_mill_certification(request: web.Request) -> web.StreamResponse:
    """`POST .../mill-certifications`: a multipart PDF; 202 `processing`."""
    state = request.app[STATE]
    company = _company(request, state)
    if not request.content_type.startswith("multipart/"):
        raise ProblemError(400, "The body must be multipart/form-data.")
    data: bytes | None = None
    names: list[str | None] = [None, None]
    reader = await request.multipart()
    while (part := await reader.next()) is not None:
        if isinstance(part, BodyPartReader) and part.name == "file":
            data, names[1] = await _read_part(part), part.filename
        elif isinstance(part, BodyPartReader) and part.name == "fileName":
            names[0] = (await _read_part(part)).decode("utf-8", errors="replace")
        else:
            await part.release()
    if not data:
        raise ProblemError(400, "The 'file' part is required.")
    if not data.startswith(b"%PDF-"):
        raise ProblemError(400, "The file is not a PDF.")
    name = os.path.basename((names[0] or names[1] or "upload.pdf").replace("\\", "/"))
    record = state.store.add_upload(
        company.company_id,
        Scan(name=name or "upload.pdf", data=data),
        state.clock.now(),
        state.clock.monotonic(),
    )
    location = f"{request.path}/{record.cert_id}"
    return json_response(
        {"millCertificationId": record.cert_id, "status": record.status},
        status=202,
        headers={"Location": location},
    )


async def get_mill_certification(request: web.Request) -> web.StreamResponse:
    """`GET .../mill-certifications/{id}`: the details."""
    _, record = _cert(request, request.app[STATE])
    return json_response(detail_json(record))


def _attachment(body: bytes, content_type: str, filename: str) -> web.Response:
    return web.Response(
        body=body,
        content_type=content_type,
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


async def download_mill_certification(request: web.Request) -> web.StreamResponse:
    """`GET .../download`: a zip of the scans (by page or heat) or a CSV."""
    _, record = _cert(request, request.app[STATE])
    export = _enum_query(request, "export", ("scans", "csv"), "scans")
    group_by = _enum_query(request, "groupBy", ("page", "heat"), "page")
    if export == "csv":
        body = details_csv(detail_json(record))
        return _attachment(body, "text/csv", f"{record.cert_id}.csv")
    assert group_by is not None
    body = scans_zip(record, group_by)
    return _attachment(body, "application/zip", f"{record.cert_id}-{group_by}.zip")


async def generate_material_test_certificate(
    request: web.Request,
) -> web.StreamResponse:
    """`POST .../mtc`: a landscape A4 PDF, DRAFT unless approved."""
    company, record = _cert(request, request.app[STATE])
    body = mtc_pdf(detail_json(record), company.name)
    return _attachment(body, "application/pdf", f"{record.cert_id}-mtc.pdf")


async def approve_mill_certification(request: web.Request) -> web.StreamResponse:
    """`POST .../approve`: approve an extracted certification; 409 otherwise."""
    state = request.app[STATE]
    _, record = _cert(request, state)
    try:
        state.store.approve(record, state.clock.now())
    except StateConflictError as exc:
        raise ProblemError(409, str(exc)) from exc
    return json_response(detail_json(record))


# (method, path, handler, operationId), as in the spec.
_ROUTES: tuple[tuple[str, str, Handler, str], ...] = (
    ("POST", "/api/gateway/key-webhook", resolve_api_key_metadata,
     "resolveApiKeyMetadata"),
    ("POST", "/api/user/{userId}/sync-check", check_user_sync, "checkUserSync"),
    ("PUT", "/api/user/{userId}", update_user_profile, "updateUserProfile"),
    ("POST", "/api/user/{userId}/companies/list", list_user_companies,
     "listUserCompanies"),
    ("GET", "/api/company/{companyId}/entitlements", list_company_entitlements,
     "listCompanyEntitlements"),
    ("GET", "/api/company/{companyId}/entitlements/check/{featureKey}",
     check_feature_access, "checkFeatureAccess"),
    ("GET", _CERTS, list_mill_certifications, "listMillCertifications"),
    ("POST", _CERTS, upload_mill_certification, "uploadMillCertification"),
    ("GET", _CERT, get_mill_certification, "getMillCertification"),
    ("GET", _CERT + "/download", download_mill_certification,
     "downloadMillCertification"),
    ("POST", _CERT + "/mtc", generate_material_test_certificate,
     "generateMaterialTestCertificate"),
    ("POST", _CERT + "/approve", approve_mill_certification,
     "approveMillCertification"),
)  # fmt: skip

OPERATIONS: dict[Callable[..., Any], str] = {
    handler: operation for _, _, handler, operation in _ROUTES
}


def add_gateway_routes(app: web.Application) -> None:
    """Register every operation of the spec on `app`."""
    for method, path, handler, _ in _ROUTES:
        app.router.add_route(method, path, handler)
