"""A tiny token endpoint on 127.0.0.1 for integration tests.

It counts requests, records their form bodies and headers, and answers from a
script: each entry is a status and a body (JSON or text), optionally held until the
test releases it, so that "a refresh in flight" lasts exactly as long as a test needs.
"""

from __future__ import annotations

import asyncio
import itertools
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from aiohttp import web
from aiohttp.test_utils import TestServer
from attrs import define, field


@define
class Answer:
    """One scripted answer."""

    status: int = 200
    body: Any = None
    headers: dict[str, str] = field(factory=dict)


@define
class TokenEndpoint:
    """The endpoint's script and what it saw."""

    script: list[Answer] = field(factory=list)
    prefix: str = "tok"
    hold: asyncio.Event | None = None
    forms: list[dict[str, str]] = field(factory=list)
    headers: list[dict[str, str]] = field(factory=list)
    queries: list[str] = field(factory=list)
    arrived: asyncio.Event = field(factory=asyncio.Event)
    _serial: itertools.count[int] = field(factory=lambda: itertools.count(1))

    @property
    def count(self) -> int:
        """Requests received."""
        return len(self.forms)

    async def handle(self, request: web.Request) -> web.Response:
        """Record the request, wait if held, then answer from the script."""
        self.forms.append(dict(await request.post()))  # type: ignore[arg-type]
        self.headers.append(dict(request.headers))
        self.queries.append(request.query_string)
        self.arrived.set()
        if self.hold is not None:
            await self.hold.wait()
        answer = self.script.pop(0) if self.script else self._default()
        if isinstance(answer.body, str):
            return web.Response(
                status=answer.status, text=answer.body, headers=answer.headers
            )
        return web.Response(
            status=answer.status,
            body=json.dumps(answer.body),
            content_type="application/json",
            headers=answer.headers,
        )

    def _default(self) -> Answer:
        n = next(self._serial)
        body = {
            "access_token": f"{self.prefix}-{n}",
            "token_type": "Bearer",
            "expires_in": 3600,
        }
        return Answer(200, body)


@asynccontextmanager
async def serve(
    endpoint: TokenEndpoint, port: int = 0
) -> AsyncIterator[tuple[TestServer, str]]:
    """Run `endpoint` on 127.0.0.1 until the block exits; yields the server and URL."""
    app = web.Application()
    app.router.add_post("/tenant/oauth2/v2.0/token", endpoint.handle)
    server = TestServer(app, host="127.0.0.1", port=port)
    await server.start_server()
    try:
        yield server, str(server.make_url("/tenant/oauth2/v2.0/token"))
    finally:
        if endpoint.hold is not None:
            endpoint.hold.set()
        await server.close()
