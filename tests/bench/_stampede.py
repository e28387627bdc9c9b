"""Part 2: the token stampede, single flight against a naive provider.

Two views, each with our provider and with a naive one (and, for the provider,
the loop's own floor: a timer instead of a token endpoint):

- provider: `callers` coroutines call `get_token()` at once on a cold cache; the
  time from the first call until the last caller holds a token is compared with
  the token endpoint's own latency (the target: within twice that latency, with
  exactly one request);
- client: `callers` coroutines call listCompanyEntitlements through a fresh
  `GoSmarterClient`; the token requests and the time until every call returned.
  At most `POOL_SIZE` calls are in flight (the client's semaphore), so this time is
  bounded by throughput, not by the token endpoint; it is reported, not targeted.
"""

from __future__ import annotations

import asyncio
import gc
import statistics
import time
from typing import Any

import aiohttp
from attrs import frozen

from gosmarter_async import ClientCredentialsTokenProvider
from gosmarter_async._client import GoSmarterClient

from ._clients import POOL_SIZE

__all__ = ["NaiveTokenProvider", "measure_stampede"]

_FORM = {
    "grant_type": "client_credentials",
    "client_id": "bench-client",
    "client_secret": "bench-secret",
    "scope": "api://bench/.default",
}


@frozen(repr=False)
class _Token:
    value: str


class NaiveTokenProvider:
    """A hand-rolled provider: a cache, but every caller that misses it fetches.

    What the single flight replaces: with a cold cache, N concurrent callers send
    N token requests.

    Args:
        token_url: The token endpoint.
    """

    def __init__(self, token_url: str) -> None:
        self._url = token_url
        self._token: _Token | None = None
        self._session: aiohttp.ClientSession | None = None

    async def get_token(self, *, force_refresh: bool = False) -> _Token:
        """The cached token, or a new one fetched by this caller."""
        if self._token is not None and not force_refresh:
            return self._token
        if self._session is None:
            self._session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(limit=POOL_SIZE)
            )
        async with self._session.post(self._url, data=_FORM) as response:
            answer = await response.json()
        self._token = _Token(answer["access_token"])
        return self._token

    async def invalidate(self, token: Any) -> None:
        """Forget the cached token."""
        del token
        self._token = None

    async def aclose(self) -> None:
        """Close the session."""
        if self._session is not None:
            await self._session.close()


class FloorProvider:
    """No HTTP at all: one shared timer of the token latency, single flight.

    Its time is the floor this loop sets for `callers` coroutines: creating and
    scheduling the tasks and waking them all, on this machine, under this load.

    Args:
        latency: Seconds until the shared token is ready.
    """

    def __init__(self, latency: float) -> None:
        self._latency = latency
        self._ready: asyncio.Future[_Token] | None = None

    async def get_token(self, *, force_refresh: bool = False) -> _Token:
        """The shared token, once the timer has fired."""
        del force_refresh
        if self._ready is None:
            loop = asyncio.get_running_loop()
            self._ready = loop.create_future()
            loop.call_later(self._latency, self._ready.set_result, _Token("floor"))
        return await asyncio.shield(self._ready)

    async def aclose(self) -> None:
        """Nothing to release."""


def _ours(url: str) -> ClientCredentialsTokenProvider:
    return ClientCredentialsTokenProvider(
        f"{url}/token", _FORM["client_id"], _FORM["client_secret"], _FORM["scope"]
    )


async def _token_requests(url: str) -> int:
    async with (
        aiohttp.ClientSession() as session,
        session.get(f"{url}/_bench/stats") as response,
    ):
        answer: dict[str, float] = await response.json()
    return int(answer["token_requests"])


async def token_latency(url: str, samples: int = 5) -> float:
    """The token endpoint's own latency: the median of single requests.

    Each sample opens its own session, as our provider does by default, so the
    connection setup is in both this and the stampede's time.
    """
    times = []
    for _ in range(samples):
        began = time.perf_counter()
        async with (
            aiohttp.ClientSession() as session,
            session.post(f"{url}/token", data=_FORM) as response,
        ):
            await response.read()
        times.append(time.perf_counter() - began)
    return statistics.median(times)


async def _provider_run(provider: Any, callers: int) -> float:
    """Seconds from the first `get_token()` call until every caller holds a token.

    The clock starts when the first caller calls, not before the bench creates
    the `callers` tasks (about 25 ms for 10,000 here): creating them is the
    bench's work, and a real stampede's callers exist before they call. Garbage
    from earlier runs is collected first, so that no run pays for another's.
    """
    served = [0.0] * callers
    first_call: list[float] = []

    async def one(number: int) -> None:
        if not first_call:
            first_call.append(time.perf_counter())
        await provider.get_token()
        served[number] = time.perf_counter()

    gc.collect()
    try:
        await asyncio.gather(*(one(n) for n in range(callers)))
    finally:
        await provider.aclose()
    return max(served) - first_call[0]


async def _client_run(url: str, provider: Any, company_id: str, callers: int) -> float:
    client = GoSmarterClient(
        token_provider=provider, base_url=url, max_connections=POOL_SIZE
    )
    began = time.perf_counter()
    try:
        async with client:
            entitlements = client.entitlements
            await asyncio.gather(
                *(
                    entitlements.list_company_entitlements(company_id)
                    for _ in range(callers)
                )
            )
    finally:
        await provider.aclose()
    return time.perf_counter() - began


async def measure_stampede(url: str, company_id: str, callers: int) -> dict[str, Any]:
    """Run the four stampedes (provider/client x ours/naive) on cold caches.

    Args:
        url: The static server's base URL.
        company_id: The company whose entitlements the client view fetches.
        callers: Concurrent callers.

    Returns:
        The token endpoint latency and, per run, token requests and seconds.
    """
    latency = await token_latency(url)
    floor = await _provider_run(FloorProvider(latency), callers)
    runs: list[dict[str, Any]] = [
        {
            "view": "provider",
            "provider": "floor (timer, no HTTP)",
            "callers": callers,
            "token_requests": 0,
            "all_served_s": floor,
            "vs_latency": floor / latency,
        }
    ]
    for view in ("provider", "client"):
        for name in ("ours", "naive"):
            provider = (
                _ours(url) if name == "ours" else NaiveTokenProvider(f"{url}/token")
            )
            before = await _token_requests(url)
            if view == "provider":
                seconds = await _provider_run(provider, callers)
            else:
                seconds = await _client_run(url, provider, company_id, callers)
            requests = await _token_requests(url) - before
            runs.append(
                {
                    "view": view,
                    "provider": name,
                    "callers": callers,
                    "token_requests": requests,
                    "all_served_s": seconds,
                    "vs_latency": seconds / latency,
                }
            )
    return {"token_latency_s": latency, "runs": runs}
