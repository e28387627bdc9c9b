from __future__ import annotations

from datetime import UTC, datetime

from gosmarter_async.auth import AccessToken, CacheKey, InMemoryTokenCache

KEY = CacheKey("https://login.example.test/token", "client", "api://x/.default")


def _token(value: str) -> AccessToken:
    return AccessToken(
        value=value,
        token_type="Bearer",
        expires_at=datetime(2026, 12, 3, 13, 0, tzinfo=UTC),
        obtained_at_mono=0.0,
        expires_at_mono=3600.0,
    )


async def test_in_memory_cache_returns_what_was_set() -> None:
    cache = InMemoryTokenCache()
    token = _token("a")

    await cache.set(KEY, token)

    assert token is await cache.get(KEY)
    assert await cache.get(CacheKey(KEY.token_url, KEY.client_id, "other")) is None


async def test_in_memory_cache_delete_removes_the_current_token() -> None:
    cache = InMemoryTokenCache()
    await cache.set(KEY, _token("a"))

    await cache.delete(KEY, _token("a"))

    assert await cache.get(KEY) is None


async def test_in_memory_cache_delete_keeps_a_newer_token() -> None:
    cache = InMemoryTokenCache()
    newer = _token("b")
    await cache.set(KEY, newer)

    await cache.delete(KEY, _token("a"))

    assert newer is await cache.get(KEY)


def test_in_memory_cache_repr_shows_no_token() -> None:
    cache = InMemoryTokenCache()
    cache._tokens[KEY] = _token("value-xyz")

    assert "value-xyz" not in repr(cache)
