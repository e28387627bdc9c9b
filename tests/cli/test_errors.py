from __future__ import annotations

import pytest

from gosmarter_async import (
    ConfigurationError,
    InvalidClientError,
    NotFoundError,
    ServerError,
    TransportError,
)
from gosmarter_async.cli._errors import (
    EXIT_API,
    EXIT_AUTH,
    EXIT_FAILURE,
    EXIT_INTERRUPTED,
    EXIT_NETWORK,
    EXIT_USAGE,
    CliError,
    to_cli_error,
)
from gosmarter_async.export import ExportError, ExportInterruptedError


def interrupted(cause: BaseException | None) -> ExportInterruptedError:
    error = ExportInterruptedError(3, 9, "why")
    error.__cause__ = cause
    return error


NOT_FOUND = NotFoundError(
    method="GET", path="/api/company/x/mill-certifications", status=404
)


@pytest.mark.parametrize(
    ("exc", "code"),
    [
        (ConfigurationError("CLIENT_ID is not set"), EXIT_USAGE),
        (ExportError("cannot write to /x"), EXIT_USAGE),
        (PermissionError(13, "Permission denied", "/x"), EXIT_USAGE),
        (InvalidClientError("invalid_client", status=401), EXIT_AUTH),
        (NOT_FOUND, EXIT_API),
        (TransportError("connection reset"), EXIT_NETWORK),
        (KeyboardInterrupt(), EXIT_INTERRUPTED),
        (interrupted(None), EXIT_INTERRUPTED),
        (interrupted(TransportError("reset")), EXIT_NETWORK),
        (interrupted(ServerError(method="GET", path="/", status=503)), EXIT_API),
        (RuntimeError("a bug"), EXIT_FAILURE),
        (CliError("custom", 42), 42),
    ],
)
def test_to_cli_error_exit_code_per_kind(exc: BaseException, code: int) -> None:
    assert code == to_cli_error(exc).exit_code


def test_to_cli_error_hints_at_the_company_on_a_404() -> None:
    assert "is the company id right" in str(to_cli_error(NOT_FOUND))


def test_to_cli_error_names_a_bug_as_unexpected() -> None:
    message = str(to_cli_error(RuntimeError("boom\nsecond line")))

    assert "unexpected RuntimeError: boom (rerun with --verbose" in message
    assert "second line" not in message


def test_to_cli_error_keeps_the_interruption_message() -> None:
    assert (
        "export interrupted after 3 of 9 certificates listed so far (why); "
        "rerun the same command to resume"
    ) == str(to_cli_error(interrupted(None)))
