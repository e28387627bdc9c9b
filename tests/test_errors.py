from __future__ import annotations

import pytest

from gosmarter_async import _errors as errors


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        (400, errors.BadRequestError),
        (401, errors.UnauthorizedError),
        (403, errors.ForbiddenError),
        (404, errors.NotFoundError),
        (409, errors.ConflictError),
        (429, errors.RateLimitError),
        (500, errors.ServerError),
        (503, errors.ServerError),
        (520, errors.ServerError),
        (418, errors.APIStatusError),
    ],
)
def test_error_for_status_maps_every_code_to_a_class(
    status: int, expected: type[errors.APIStatusError]
) -> None:
    assert expected is errors.error_for_status(status)


def test_api_status_error_message_names_method_path_detail_and_request_id() -> None:
    problem = errors.ProblemDetails.from_json(
        {
            "title": "Not Found",
            "status": 404,
            "detail": "no such certificate",
            "trace": {"requestId": "req-1", "timestamp": "t", "buildId": "b"},
        }
    )

    error = errors.NotFoundError(
        method="GET",
        path="/api/company/{companyId}",
        status=404,
        request_id="req-1",
        problem=problem,
    )

    expected = "GET /api/company/{companyId} answered 404: no such certificate"
    assert expected in str(error)
    assert "req-1" in str(error)
    assert problem is not None
    assert "req-1" == problem.request_id


def test_problem_details_tolerates_wrong_types() -> None:
    problem = errors.ProblemDetails.from_json(
        {"title": 5, "status": True, "trace": "nope", "detail": "d"}
    )

    assert problem is not None
    assert problem.title is None
    assert problem.status is None
    assert problem.request_id is None
    assert "d" == problem.detail
    assert errors.ProblemDetails.from_json(["not", "an", "object"]) is None


def test_timeout_error_is_also_builtin_timeout_error() -> None:
    error = errors.TransportTimeoutError("read timed out", method="GET", path="/x")

    assert isinstance(error, TimeoutError)
    assert isinstance(error, errors.TransportError)
    assert "GET /x: read timed out" == str(error)


def test_configuration_error_is_a_value_error_naming_every_problem() -> None:
    error = errors.ConfigurationError(["CLIENT_ID is not set", "API_SCOPE is not set"])

    assert isinstance(error, ValueError)
    assert ["CLIENT_ID is not set", "API_SCOPE is not set"] == error.problems
    assert "CLIENT_ID is not set; API_SCOPE is not set" in str(error)


def test_token_endpoint_error_message_carries_ids_and_hint() -> None:
    error = errors.InvalidScopeError(
        "invalid_scope",
        status=400,
        error_description="AADSTS70011: The provided scope is invalid.\nTrace ID: x",
        error_codes=(70011,),
        trace_id="trace-1",
        correlation_id="corr-1",
        hint="use api://<id>/.default",
    )

    message = str(error)

    assert message.startswith("token endpoint answered 400 invalid_scope: AADSTS70011")
    assert "Trace ID: x" not in message
    assert "trace_id=trace-1" in message
    assert "correlation_id=corr-1" in message
    assert message.endswith("Hint: use api://<id>/.default")
