"""The static-payload server process for the throughput, stampede and streaming runs.

`python -m tests.bench._static_server` serves, on 127.0.0.1:

- `POST /token`: an OAuth 2.0 token answer after `--token-latency` seconds (so the
  stampede has a known token-endpoint latency), counting requests;
- `GET /api/company/{companyId}/entitlements` and
  `GET /api/company/{companyId}/mill-certifications/{id}`: the sandbox's seed
  payloads, rendered once at start and served as pre-encoded bytes;
- `GET .../mill-certifications/{id}/download`: `--download-bytes` of zip-typed
  noise, streamed in 256 KiB writes so the server never holds the body;
- `GET /_bench/stats`: this process's CPU seconds and the token request count.

Why not the sandbox: its gateway verifies an RS256 JWT on every request, which
costs the server more CPU per request than the clients spend, so the server (not
the client under test) would set the pace and hide the differences between
clients. Nothing here checks the bearer token. The first stdout line is
`URL http://127.0.0.1:<port>`; SIGTERM or SIGINT stops the process.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import signal
import sys
import time
from collections.abc import Sequence

from aiohttp import web

from gosmarter_async.sandbox._store import Store
from gosmarter_async.sandbox._views import detail_json, entitlements_json

# The certificates whose details are served; requests cycle through them so that
# the clients parse several real shapes, not one cached body.
DETAIL_COUNT = 16
# Large enough that a write per chunk costs little, small enough to stay flat.
_CHUNK = 256 * 1024
STATIC_TOKEN = "bench-static-token"

PAYLOADS = web.AppKey("payloads", dict[str, bytes])
COUNTERS = web.AppKey("counters", dict[str, float])


def _encode(data: object) -> bytes:
    return json.dumps(data, separators=(",", ":")).encode()


def seed_payloads(seed: int) -> tuple[str, list[str], dict[str, bytes]]:
    """Render the seed data's entitlements and certification details once.

    Args:
        seed: The sandbox seed.

    Returns:
        The company id, the certificate ids, and the encoded bodies by path.
    """
    store = Store(seed=seed, companies=1, per_company=DETAIL_COUNT, upload_delay=0.0)
    company_id = store.company_ids[0]
    company = store.company(company_id)
    assert company is not None
    records, _ = store.page(
        company_id, page=1, page_size=DETAIL_COUNT, status=None, updated_since=None
    )
    base = f"/api/company/{company_id}"
    bodies = {f"{base}/entitlements": _encode(entitlements_json(company))}
    for record in records:
        path = f"{base}/mill-certifications/{record.cert_id}"
        bodies[path] = _encode(detail_json(record))
    return company_id, [r.cert_id for r in records], bodies


async def _static(request: web.Request) -> web.Response:
    body = request.app[PAYLOADS].get(request.path)
    if body is None:
        raise web.HTTPNotFound
    return web.Response(body=body, content_type="application/json")


async def _token(request: web.Request) -> web.Response:
    counters = request.app[COUNTERS]
    counters["token_requests"] += 1
    await request.read()
    await asyncio.sleep(counters["token_latency"])
    answer = {"access_token": STATIC_TOKEN, "token_type": "Bearer", "expires_in": 3600}
    return web.Response(body=_encode(answer), content_type="application/json")


async def _download(request: web.Request) -> web.StreamResponse:
    size = int(request.app[COUNTERS]["download_bytes"])
    block = os.urandom(_CHUNK)
    response = web.StreamResponse(headers={"Content-Type": "application/zip"})
    response.content_length = size
    await response.prepare(request)
    left = size
    while left > 0:
        piece = block if left >= _CHUNK else block[:left]
        await response.write(piece)
        left -= len(piece)
    await response.write_eof()
    return response


async def _stats(request: web.Request) -> web.Response:
    counters = request.app[COUNTERS]
    answer = {"cpu": time.process_time(), "token_requests": counters["token_requests"]}
    return web.Response(body=_encode(answer), content_type="application/json")


def build_app(args: argparse.Namespace) -> web.Application:
    """The server's routes over the pre-rendered payloads."""
    _, _, bodies = seed_payloads(args.seed)
    app = web.Application()
    app[PAYLOADS] = bodies
    app[COUNTERS] = {
        "token_requests": 0.0,
        "token_latency": args.token_latency,
        "download_bytes": float(args.download_bytes),
    }
    cert = "/api/company/{companyId}/mill-certifications/{certId}"
    app.router.add_post("/token", _token)
    app.router.add_get("/api/company/{companyId}/entitlements", _static)
    app.router.add_get(cert, _static)
    app.router.add_get(cert + "/download", _download)
    app.router.add_get("/_bench/stats", _stats)
    return app


async def serve(args: argparse.Namespace) -> None:
    """Listen on 127.0.0.1, print the URL, and serve until a signal."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    # backlog: the stampede opens hundreds of connections at once.
    runner = web.AppRunner(build_app(args), access_log=None, shutdown_timeout=1.0)
    await runner.setup()
    try:
        await web.TCPSite(runner, "127.0.0.1", 0, backlog=4096).start()
        host, port = runner.addresses[0][:2]
        print(f"URL http://{host}:{port}", flush=True)
        await stop.wait()
    finally:
        await runner.cleanup()


def main(argv: Sequence[str] | None = None) -> int:
    """Parse the options and serve."""
    parser = argparse.ArgumentParser(prog="python -m tests.bench._static_server")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--token-latency", type=float, default=0.2)
    parser.add_argument("--download-bytes", type=int, default=512 * 1024 * 1024)
    args = parser.parse_args(argv)
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(serve(args))
    return 0


if __name__ == "__main__":
    sys.exit(main())
