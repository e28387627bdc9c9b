"""Bearer tokens for the GoSmarter API: the provider, the token, and the cache."""

from ._cache import CacheKey, InMemoryTokenCache, TokenCache
from ._provider import (
    BearerToken,
    ClientCredentialsTokenProvider,
    TokenProvider,
    TokenStats,
)
from ._token import AccessToken

__all__ = [
    "AccessToken",
    "BearerToken",
    "CacheKey",
    "ClientCredentialsTokenProvider",
    "InMemoryTokenCache",
    "TokenCache",
    "TokenProvider",
    "TokenStats",
]
