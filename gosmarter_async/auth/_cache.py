"""Where tokens are kept between calls: a small protocol and an in-memory default."""

from __future__ import annotations

from typing import Protocol

from attrs import define, field, frozen

from ._token import AccessToken

__all__ = ["CacheKey", "InMemoryTokenCache", "TokenCache"]


@frozen
class CacheKey:
    """What a token is valid for: one client, one scope, one issuer.

    Args:
        token_url: The token endpoint that issued it.
        client_id: The client it was issued to.
        scope: The scope it was issued for.
    """

    token_url: str
    client_id: str
    scope: str


class TokenCache(Protocol):
    """A store of tokens by `CacheKey`.

    The contract the provider relies on: `get` returns what the last `set` stored (or
    None), and `delete` removes the entry only if it still holds that very token, so
    that a late invalidation never drops a newer token.

    A cache shared between processes must store `expires_at` and rebuild the
    monotonic deadlines on load, since monotonic clocks differ between processes.
    """

    async def get(self, key: CacheKey) -> AccessToken | None:
        """The token stored for `key`, or None."""
        ...

    async def set(self, key: CacheKey, token: AccessToken) -> None:
        """Store `token` for `key`, replacing any other."""
        ...

    async def delete(self, key: CacheKey, token: AccessToken) -> None:
        """Remove the entry for `key` if it is still `token` (compared by value)."""
        ...


@define
class InMemoryTokenCache:
    """A token cache in this process's memory, the default.

    Each method completes without awaiting, so on one event loop every call is
    atomic. Tokens are kept until replaced or deleted; expiry is the provider's
    concern.
    """

    _tokens: dict[CacheKey, AccessToken] = field(factory=dict, repr=False)

    async def get(self, key: CacheKey) -> AccessToken | None:
        """The token stored for `key`, or None."""
        return self._tokens.get(key)

    async def set(self, key: CacheKey, token: AccessToken) -> None:
        """Store `token` for `key`, replacing any other."""
        self._tokens[key] = token

    async def delete(self, key: CacheKey, token: AccessToken) -> None:
        """Remove the entry for `key` if it is still `token` (compared by value)."""
        current = self._tokens.get(key)
        if current is not None and current.value == token.value:
            del self._tokens[key]
