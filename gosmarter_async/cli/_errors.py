"""Exit codes, and the one line a user sees for each kind of failure.

Expected failures (bad configuration, a refused token, an unknown company, the
network, an unwritable output directory) become one readable line on stderr and an
exit code that says which kind it was; a traceback is shown only with `--verbose`.
"""

from __future__ import annotations

from .._errors import (
    APIStatusError,
    AuthenticationError,
    ConfigurationError,
    GoSmarterError,
    NotFoundError,
    TransportError,
)
from ..export import ExportError, ExportInterruptedError

__all__ = [
    "EXIT_API",
    "EXIT_AUTH",
    "EXIT_FAILURE",
    "EXIT_INTERRUPTED",
    "EXIT_NETWORK",
    "EXIT_USAGE",
    "EXIT_VERIFY",
    "CliError",
    "is_expected",
    "to_cli_error",
]

EXIT_FAILURE = 1  # anything unexpected
EXIT_USAGE = 2  # bad options or configuration, an unusable --out (click uses 2 too)
EXIT_AUTH = 3  # no token: wrong credentials, scope, token endpoint down
EXIT_API = 4  # the gateway refused or failed a request
EXIT_NETWORK = 5  # no answer: connection refused, reset, timed out
EXIT_VERIFY = 6  # the export's files do not match its manifest
EXIT_INTERRUPTED = 130  # Ctrl-C, as shells report SIGINT (128 + 2)


class CliError(Exception):
    """A failure the command group shows as `error: <message>`, exiting `exit_code`.

    Args:
        message: The line to show.
        exit_code: The process exit code.
    """

    def __init__(self, message: str, exit_code: int = EXIT_FAILURE) -> None:
        super().__init__(message)
        self.exit_code = exit_code


def _exit_code(exc: BaseException) -> int:
    """The exit code for an exception (the cause's, for an interrupted export)."""
    if isinstance(exc, ExportInterruptedError):
        cause = exc.__cause__
        return EXIT_INTERRUPTED if cause is None else _exit_code(cause)
    kinds: tuple[tuple[type[BaseException], int], ...] = (
        (ConfigurationError, EXIT_USAGE),
        (ExportError, EXIT_USAGE),
        (AuthenticationError, EXIT_AUTH),
        (APIStatusError, EXIT_API),
        (TransportError, EXIT_NETWORK),
        (KeyboardInterrupt, EXIT_INTERRUPTED),
        (OSError, EXIT_USAGE),
    )
    return next((code for kind, code in kinds if isinstance(exc, kind)), EXIT_FAILURE)


def _message(exc: BaseException) -> str:
    if isinstance(exc, NotFoundError) and "/company/" in exc.path:
        return f"{exc} (is the company id right, and is it one of yours?)"
    if isinstance(exc, KeyboardInterrupt):
        return "interrupted"
    if isinstance(exc, OSError) and exc.filename is not None:
        return f"{exc.filename}: {exc.strerror or exc}"
    text = str(exc).strip()
    first = text.splitlines()[0] if text else ""
    return first or type(exc).__name__


def to_cli_error(exc: BaseException) -> CliError:
    """The one-line `CliError` for an exception.

    Args:
        exc: What was raised.

    Returns:
        The error to show, with the exit code of its kind; an unexpected
        exception (a bug) is named as such, with `EXIT_FAILURE`.
    """
    if isinstance(exc, CliError):
        return exc
    if not is_expected(exc):
        return CliError(
            f"unexpected {type(exc).__name__}: {_message(exc)} "
            "(rerun with --verbose for the traceback)"
        )
    return CliError(_message(exc), _exit_code(exc))


def is_expected(exc: BaseException) -> bool:
    """Whether `exc` is a failure the user can act on, rather than a bug."""
    return isinstance(exc, GoSmarterError | OSError | KeyboardInterrupt)
