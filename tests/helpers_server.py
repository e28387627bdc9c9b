"""Test helpers: a scripted aiohttp.web server on 127.0.0.1, fake tokens, clocks.

`ScriptedServer` answers each (method, path) with the handlers a test scripts, in
order (the last one repeats), and records every request it sees. It listens on an
ephemeral loopback port and is stopped by the test's fixture.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from types import TracebackType
from typing import Any

from aiohttp import web

from gosmarter_async._request import RequestSpec
from tests.clock import FakeClock

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

# Every wait inside a handler is bounded, so a failing test cannot hang the suite.
MAX_HANDLER_WAIT = 5.0


@dataclass
class Seen:
    """One request as the server received it."""

    method: str
    path: str
    query: list[tuple[str, str]]
    headers: dict[str, str]
    body: bytes


@dataclass
class ScriptedServer:
    """An aiohttp.web app whose answers each test scripts."""

    seen: list[Seen] = field(default_factory=list)
    arrived: asyncio.Event = field(default_factory=asyncio.Event)
    _scripts: dict[tuple[str, str], list[Handler]] = field(default_factory=dict)
    _runner: web.AppRunner | None = None
    port: int = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def script(self, method: str, path: str, *handlers: Handler) -> None:
        self._scripts[(method.upper(), path)] = list(handlers)

    def requests_to(self, path: str) -> list[Seen]:
        return [s for s in self.seen if s.path == path]

    async def wait_for_requests(self, count: int, within: float = 2.0) -> None:
        async with asyncio.timeout(within):
            while len(self.seen) < count:
                self.arrived.clear()
                await self.arrived.wait()

    @property
    def started(self) -> bool:
        return self._runner is not None

    async def start(self) -> None:
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self._dispatch)
        self._runner = web.AppRunner(app, shutdown_timeout=0.2, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", self.port)
        await site.start()
        self.port = self._runner.addresses[0][1]

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    async def __aenter__(self) -> ScriptedServer:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()

    async def _dispatch(self, request: web.Request) -> web.StreamResponse:
        body = await request.read()
        self.seen.append(
            Seen(
                request.method,
                request.path,
                list(request.query.items()),
                dict(request.headers),
                body,
            )
        )
        self.arrived.set()
        handlers = self._scripts.get((request.method, request.path))
        if not handlers:
            return web.Response(status=599, text="not scripted")
        handler = handlers.pop(0) if len(handlers) > 1 else handlers[0]
        return await handler(request)


def answer(
    status: int = 200,
    *,
    json_body: object = None,
    body: bytes | str | None = None,
    headers: Mapping[str, str] | None = None,
    content_type: str | None = None,
) -> Handler:
    """A handler that answers at once."""

    async def handler(request: web.Request) -> web.StreamResponse:
        data = body
        ctype = content_type
        if json_body is not None:
            data = json.dumps(json_body)
            ctype = ctype or "application/json"
        raw = data.encode() if isinstance(data, str) else data
        return web.Response(
            status=status, body=raw, headers=headers, content_type=ctype
        )

    return handler


def hang(release: asyncio.Event | None = None, then: Handler | None = None) -> Handler:
    """A handler that waits for `release` (at most MAX_HANDLER_WAIT), then answers."""

    async def handler(request: web.Request) -> web.StreamResponse:
        try:
            async with asyncio.timeout(MAX_HANDLER_WAIT):
                await (release or asyncio.Event()).wait()
        except TimeoutError:
            pass
        return await (then or answer(200, json_body={}))(request)

    return handler


def cut_body(
    full: bytes, sent: int, content_type: str = "application/octet-stream"
) -> Handler:
    """A handler that announces `full` but hangs up after `sent` bytes of it."""

    async def handler(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse(status=200)
        response.content_type = content_type
        response.content_length = len(full)
        await response.prepare(request)
        await response.write(full[:sent])
        assert request.transport is not None
        request.transport.close()
        return response

    return handler


@dataclass
class BigBody:
    """A handler streaming up to `total` bytes, counting what it managed to send."""

    total: int
    status: int = 500
    chunk: int = 64 * 1024
    sent: int = 0
    done: asyncio.Event = field(default_factory=asyncio.Event)

    async def __call__(self, request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse(status=self.status)
        response.content_type = "text/plain"
        response.content_length = self.total
        await response.prepare(request)
        block = b"x" * self.chunk
        try:
            while self.sent < self.total:
                await response.write(block)
                self.sent += len(block)
        except (ConnectionError, RuntimeError):
            pass
        finally:
            self.done.set()
        return response


@dataclass(frozen=True)
class FakeToken:
    """An access token as the provider hands it out."""

    value: str = field(repr=False)
    token_type: str = "Bearer"
    expires_at: datetime = field(
        default_factory=lambda: datetime.now(UTC) + timedelta(hours=1)
    )


class FakeTokenProvider:
    """Tokens `secret-token-1`, `secret-token-2`, ...: a new one after invalidate."""

    def __init__(self) -> None:
        self.issued = 0
        self.gets = 0
        self.invalidated: list[FakeToken] = []
        self.closed = False
        self._current: FakeToken | None = None

    async def get_token(self, *, force_refresh: bool = False) -> FakeToken:
        self.gets += 1
        if self._current is None or force_refresh:
            self.issued += 1
            self._current = FakeToken(f"secret-token-{self.issued}")
        return self._current

    async def invalidate(self, token: FakeToken) -> None:
        self.invalidated.append(token)
        if token == self._current:
            self._current = None

    async def aclose(self) -> None:
        self.closed = True


class ManualClock(FakeClock):
    """A fake clock whose sleep blocks until the test advances time past it."""

    def __init__(self) -> None:
        super().__init__()
        self.sleeping = 0
        self._moved = asyncio.Event()
        self._fell_asleep = asyncio.Event()

    def advance(self, seconds: float) -> None:
        super().advance(seconds)
        moved, self._moved = self._moved, asyncio.Event()
        moved.set()

    async def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        wake = self.monotonic() + seconds
        self.sleeping += 1
        self._fell_asleep.set()
        try:
            while self.monotonic() < wake:
                await self._moved.wait()
        finally:
            self.sleeping -= 1

    async def wait_for_sleepers(self, count: int, within: float = 2.0) -> None:
        async with asyncio.timeout(within):
            while self.sleeping < count:
                self._fell_asleep.clear()
                await self._fell_asleep.wait()


def spec(
    method: str = "GET",
    path: str = "/things",
    *,
    idempotent: bool | None = None,
    **kwargs: Any,
) -> RequestSpec[Any]:
    """A request spec for `path`; idempotent by method unless told."""
    if idempotent is None:
        idempotent = method in {"GET", "HEAD", "PUT", "DELETE"}
    return RequestSpec(
        operation_id=f"{method.lower()}Things",
        method=method,
        path_template=path,
        path=path,
        idempotent=idempotent,
        **kwargs,
    )
