"""The three clients compared side by side, behind one small interface.

(a) `raw`: aiohttp alone on a pool of the same size, doing only the JSON decoding
    (with the same decoder our transport picks, orjson when installed), so that it
    is the floor our stack is measured against.
(b) `ours`: `GoSmarterClient` with everything on: the client credentials token
    provider (against the server's token endpoint), the default retry policy, the
    retry budget, the concurrency semaphore and the attrs models.
(c) `stock`: the httpx client openapi-python-client generates from our spec, at
    bench time, into a temporary directory, with a static bearer token. Its httpx
    pool is given the same size as the others (httpx's default keeps only 20 idle
    connections, which would churn connections at concurrency 64 and 256 and
    measure a configuration choice rather than the client).
"""

from __future__ import annotations

import importlib
import json
import subprocess
import sys
import tempfile
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path
from types import ModuleType
from typing import Any, Protocol

import aiohttp
import httpx
from ruamel.yaml import YAML

from gosmarter_async import Settings
from gosmarter_async._client import GoSmarterClient

from ._procs import REPO
from ._static_server import STATIC_TOKEN

__all__ = [
    "POOL_SIZE",
    "BenchClient",
    "OursClient",
    "RawClient",
    "StockClient",
    "generate_stock_client",
]

# Every client gets a pool of this many connections: the SDK's default (aiohttp's).
POOL_SIZE = 100
STOCK_PACKAGE = "stock_gosmarter"

Call = Callable[[], Awaitable[Any]]


class BenchClient(Protocol):
    """One client under test."""

    name: str

    def call(self, endpoint: str, company_id: str, cert_id: str) -> Call:
        """A zero-argument coroutine function sending one request to `endpoint`."""
        ...

    async def aclose(self) -> None:
        """Close the client's pool."""
        ...


class RawClient:
    """(a) aiohttp with JSON decoding only: the limit we measure against."""

    name = "raw"

    def __init__(self, base_url: str) -> None:
        self._base = base_url
        self._loads = json_loads()
        self._session = aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(limit=POOL_SIZE),
            headers={"Authorization": f"Bearer {STATIC_TOKEN}"},
        )

    def call(self, endpoint: str, company_id: str, cert_id: str) -> Call:
        """See `BenchClient.call`."""
        url = _path(self._base, endpoint, company_id, cert_id)
        session, loads = self._session, self._loads

        async def once() -> Any:
            async with session.get(url) as response:
                body = await response.read()
                if response.status != 200:
                    raise RuntimeError(f"raw: {response.status}")
                return loads(body)

        return once

    async def aclose(self) -> None:
        """See `BenchClient.aclose`."""
        await self._session.close()


class OursClient:
    """(b) GoSmarterClient, token provider and retries included."""

    name = "ours"

    def __init__(self, base_url: str) -> None:
        settings = Settings(
            client_id="bench-client",
            client_secret="bench-secret",
            token_url=f"{base_url}/token",
            scope="api://bench/.default",
            gateway_url=base_url,
        )
        self.client = GoSmarterClient(settings, max_connections=POOL_SIZE)

    def call(self, endpoint: str, company_id: str, cert_id: str) -> Call:
        """See `BenchClient.call`."""
        if endpoint == "entitlements":
            entitlements = self.client.entitlements
            return lambda: entitlements.list_company_entitlements(company_id)
        certs = self.client.mill_certifications
        return lambda: certs.get_mill_certification(company_id, cert_id)

    async def aclose(self) -> None:
        """See `BenchClient.aclose`."""
        await self.client.aclose()


class StockClient:
    """(c) The stock openapi-python-client client, httpx underneath."""

    name = "stock"

    def __init__(self, base_url: str, package: ModuleType) -> None:
        client_module = importlib.import_module(f"{package.__name__}.client")
        api = f"{package.__name__}.api"
        self._entitlements = importlib.import_module(
            f"{api}.entitlements.list_company_entitlements"
        )
        self._certification = importlib.import_module(
            f"{api}.mill_certifications.get_mill_certification"
        )
        limits = httpx.Limits(
            max_connections=POOL_SIZE, max_keepalive_connections=POOL_SIZE
        )
        self._client = client_module.AuthenticatedClient(
            base_url=base_url, token=STATIC_TOKEN, httpx_args={"limits": limits}
        )

    def call(self, endpoint: str, company_id: str, cert_id: str) -> Call:
        """See `BenchClient.call`."""
        client = self._client
        company = uuid.UUID(company_id)
        if endpoint == "entitlements":
            fetch = self._entitlements.asyncio
            return lambda: _checked(fetch(company_id=company, client=client))
        cert = uuid.UUID(cert_id)
        get = self._certification.asyncio
        return lambda: _checked(
            get(company_id=company, mill_certification_id=cert, client=client)
        )

    async def aclose(self) -> None:
        """See `BenchClient.aclose`."""
        await self._client.get_async_httpx_client().aclose()


async def _checked(pending: Awaitable[Any]) -> Any:
    result = await pending
    # The stock client returns ProblemDetails (or None) instead of raising.
    if result is None or type(result).__name__ == "ProblemDetails":
        raise RuntimeError(f"stock: {result!r}")
    return result


def json_loads() -> Callable[[bytes], Any]:
    """orjson's decoder when installed, else the standard library's: our choice too."""
    try:
        import orjson  # noqa: PLC0415 (optional, as in the SDK)
    except ImportError:
        return json.loads
    return orjson.loads


def _path(base: str, endpoint: str, company_id: str, cert_id: str) -> str:
    company = f"{base}/api/company/{company_id}"
    if endpoint == "entitlements":
        return f"{company}/entitlements"
    return f"{company}/mill-certifications/{cert_id}"


def generate_stock_client(into: Path) -> ModuleType:
    """Generate the stock client from our spec into `into` and import it.

    The content-type overrides are those of codegen/config.yaml (the stock
    generator only knows JSON, text and octet-stream); nothing else of our
    generator's configuration (templates, names) is used.

    Args:
        into: An empty directory; the package is written beneath it.

    Returns:
        The imported package.
    """
    # ruamel.yaml: what openapi-python-client itself reads its config with.
    ours = YAML(typ="safe").load((REPO / "codegen" / "config.yaml").read_text())
    config = {
        "content_type_overrides": ours["content_type_overrides"],
        "post_hooks": [],
    }
    with tempfile.NamedTemporaryFile("w", suffix=".yaml", delete=False) as handle:
        # JSON is YAML (1.2), so the generator reads this as its config.
        json.dump(config, handle)
    generator = Path(sys.executable).with_name("openapi-python-client")
    command = [
        str(generator),
        "generate",
        "--path",
        str(REPO / "openapi" / "gosmarter-gateway.yaml"),
        "--output-path",
        str(into / STOCK_PACKAGE),
        "--meta",
        "none",
        "--config",
        handle.name,
    ]
    try:
        subprocess.run(command, check=True, capture_output=True, timeout=120)
    finally:
        Path(handle.name).unlink()
    sys.path.insert(0, str(into))
    return importlib.import_module(STOCK_PACKAGE)
