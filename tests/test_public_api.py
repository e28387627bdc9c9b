from __future__ import annotations

import gosmarter_async
from gosmarter_async import _generated, models

EXPECTED = {
    "APIStatusError",
    "AccessToken",
    "AuthenticationError",
    "BadRequestError",
    "BearerToken",
    "BinaryStream",
    "ClientClosedError",
    "ClientCredentialsTokenProvider",
    "ClientStats",
    "Clock",
    "ConfigurationError",
    "ConflictError",
    "ConnectError",
    "ConnectTimeoutError",
    "DownloadExport",
    "DownloadGroupBy",
    "ForbiddenError",
    "GoSmarterClient",
    "GoSmarterError",
    "InMemoryTokenCache",
    "InvalidClientError",
    "InvalidScopeError",
    "MillCertificationStatus",
    "NotFoundError",
    "ProblemDetails",
    "RateLimitError",
    "ResponseDecodeError",
    "RetryPolicy",
    "SavedFile",
    "ServerError",
    "Settings",
    "SystemClock",
    "TokenCache",
    "TokenEndpointError",
    "TokenEndpointUnavailableError",
    "TokenProvider",
    "TokenRateLimitedError",
    "TokenResponseError",
    "TransportError",
    "TransportTimeoutError",
    "UnauthorizedClientError",
    "UnauthorizedError",
}


def test_public_api_all_is_pinned() -> None:
    assert EXPECTED == set(gosmarter_async.__all__)
    assert len(gosmarter_async.__all__) == len(set(gosmarter_async.__all__))


def test_public_api_every_name_resolves() -> None:
    missing = [n for n in gosmarter_async.__all__ if not hasattr(gosmarter_async, n)]

    assert [] == missing


def test_public_api_exceptions_share_one_root() -> None:
    exceptions = [
        getattr(gosmarter_async, n)
        for n in gosmarter_async.__all__
        if isinstance(getattr(gosmarter_async, n), type)
        and issubclass(getattr(gosmarter_async, n), BaseException)
    ]

    assert len(exceptions) > 20
    assert all(issubclass(e, gosmarter_async.GoSmarterError) for e in exceptions)


def test_public_models_module_reexports_every_generated_model() -> None:
    assert set(_generated.models.__all__) == set(models.__all__)
    assert models.MillCertification is _generated.models.MillCertification
