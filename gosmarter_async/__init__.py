"""gosmarter-async: the asyncio Python SDK for the GoSmarter API."""

from ._client import ClientStats, GoSmarterClient
from ._clock import Clock, SystemClock
from ._config import Settings
from ._errors import (
    APIStatusError,
    AuthenticationError,
    BadRequestError,
    ClientClosedError,
    ConfigurationError,
    ConflictError,
    ConnectError,
    ConnectTimeoutError,
    ForbiddenError,
    GoSmarterError,
    InvalidClientError,
    InvalidScopeError,
    NotFoundError,
    ProblemDetails,
    RateLimitError,
    ResponseDecodeError,
    ServerError,
    TokenEndpointError,
    TokenEndpointUnavailableError,
    TokenRateLimitedError,
    TokenResponseError,
    TransportError,
    TransportTimeoutError,
    UnauthorizedClientError,
    UnauthorizedError,
)
from ._generated.models import DownloadExport, DownloadGroupBy, MillCertificationStatus
from ._request import BinaryStream, SavedFile
from ._retry import RetryPolicy
from .auth import (
    AccessToken,
    ClientCredentialsTokenProvider,
    InMemoryTokenCache,
    TokenCache,
    TokenProvider,
)

__version__ = "0.1.0"

__all__ = [
    "APIStatusError",
    "AccessToken",
    "AuthenticationError",
    "BadRequestError",
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
]
