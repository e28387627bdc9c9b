"""gosmarter-async: the asyncio Python SDK for the GoSmarter API."""

from ._clock import Clock, SystemClock
from ._config import Settings
from ._errors import (
    APIStatusError,
    AuthenticationError,
    BadRequestError,
    ClientClosedError,
    ConfigurationError,
    ConflictError,
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
    TokenRateLimitedError,
    TokenResponseError,
    TransportError,
    TransportTimeoutError,
    UnauthorizedClientError,
    UnauthorizedError,
)
from ._request import BinaryStream, SavedFile
from ._retry import RetryPolicy

__version__ = "0.1.0"

__all__ = [
    "APIStatusError",
    "AuthenticationError",
    "BadRequestError",
    "BinaryStream",
    "ClientClosedError",
    "Clock",
    "ConfigurationError",
    "ConflictError",
    "ForbiddenError",
    "GoSmarterError",
    "InvalidClientError",
    "InvalidScopeError",
    "NotFoundError",
    "ProblemDetails",
    "RateLimitError",
    "ResponseDecodeError",
    "RetryPolicy",
    "SavedFile",
    "ServerError",
    "Settings",
    "SystemClock",
    "TokenEndpointError",
    "TokenRateLimitedError",
    "TokenResponseError",
    "TransportError",
    "TransportTimeoutError",
    "UnauthorizedClientError",
    "UnauthorizedError",
]
