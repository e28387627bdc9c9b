"""`Sandbox`: the emulator as an async context manager, and the process runner."""

from __future__ import annotations

import asyncio
import secrets
import shlex
import signal
import sys
from types import TracebackType
from typing import TextIO

from aiohttp import web

from .._clock import Clock, SystemClock
from .._config import Settings
from ._faults import FaultInjector, Faults, RateLimit, TokenBucket
from ._gateway import MAX_UPLOAD_BYTES, add_gateway_routes, pipeline
from ._identity import add_identity_routes
from ._state import STATE, SandboxState, SandboxStats, sandbox_log
from ._store import Store
from ._tokens import Credentials, Identity

__all__ = ["Sandbox", "export_lines", "serve"]

# How long shutdown waits for in-flight requests (an injected latency, say) before
# cancelling them; a sandbox should stop promptly.
_SHUTDOWN_TIMEOUT = 1.0


class Sandbox:
    """The GoSmarter emulator: Entra-style token endpoint and gateway on one port.

    Use it as an async context manager; it yields itself, listening, with
    `.settings` ready for the SDK::

        async with Sandbox(seed=1) as sandbox:
            settings = sandbox.settings

    Args:
        seed: Every id, date and status derives from it.
        companies: How many companies the user belongs to.
        certificates_per_company: Certifications per company at start.
        faults: What goes wrong; change it at runtime with `sandbox.faults = ...`.
        token_lifetime: Seconds an access token lives (Faults.token_lifetime
            overrides it).
        strict_scope: Reject scopes that do not end in `/.default`, as Entra does.
        host: The address to listen on; loopback by default.
        port: The port, 0 for a free one.
        rate_limit: The per-client rate limit, or None for none.
        upload_delay: Seconds (on `clock`) an upload stays `processing`.
        client_secret: The client secret; a random one per sandbox if None.
        clock: The server's clock (token times, rate limit, upload delay, latency).
    """

    def __init__(
        self,
        *,
        seed: int = 0,
        companies: int = 3,
        certificates_per_company: int = 40,
        faults: Faults | None = None,
        token_lifetime: int = 3600,
        strict_scope: bool = False,
        host: str = "127.0.0.1",
        port: int = 0,
        rate_limit: RateLimit | None = None,
        upload_delay: float = 2.0,
        client_secret: str | None = None,
        clock: Clock | None = None,
    ) -> None:
        self._clock = clock or SystemClock()
        self._host = host
        self._port = port
        self._strict_scope = strict_scope
        self._store = Store(
            seed=seed,
            companies=companies,
            per_company=certificates_per_company,
            upload_delay=upload_delay,
        )
        ids = self._store.ids
        self._credentials = Credentials(
            tenant_id=ids.tenant_id,
            api_id=ids.api_id,
            client_id=ids.client_id,
            client_secret=client_secret or f"sandbox-{secrets.token_urlsafe(24)}",
            user_id=ids.user_id,
        )
        self._state = SandboxState(
            store=self._store,
            identity=Identity(
                credentials=self._credentials,
                clock=self._clock,
                token_lifetime=token_lifetime,
            ),
            injector=FaultInjector(faults or Faults(), self._clock.monotonic()),
            limiter=TokenBucket(rate_limit or RateLimit()),
            clock=self._clock,
        )
        self._runner: web.AppRunner | None = None
        self._url = ""

    def __repr__(self) -> str:
        where = self._url or "not started"
        return f"Sandbox({where}, companies={len(self._store.company_ids)})"

    @property
    def url(self) -> str:
        """The base URL (token endpoint and gateway), e.g. http://127.0.0.1:51234."""
        if not self._url:
            raise RuntimeError("The sandbox is not running; use `async with`.")
        return self._url

    @property
    def settings(self) -> Settings:
        """Settings pointing the SDK at this sandbox (its token URL and gateway)."""
        return Settings(
            client_id=self._credentials.client_id,
            client_secret=self._credentials.client_secret,
            token_url=self._state.identity.token_url,
            scope=self._credentials.default_scope,
            gateway_url=self.url,
            tenant_id=self._credentials.tenant_id,
        )

    @property
    def credentials(self) -> Credentials:
        """The tenant, API, client id and secret, and user id."""
        return self._credentials

    @property
    def company_ids(self) -> list[str]:
        """The user's company ids, in seed order."""
        return self._store.company_ids

    @property
    def user_id(self) -> str:
        """The authenticated user's id (the tokens' oid)."""
        return self._credentials.user_id

    @property
    def stats(self) -> SandboxStats:
        """Counters: token requests, requests per operation, faults injected."""
        return self._state.stats

    @property
    def faults(self) -> Faults:
        """The current fault settings."""
        return self._state.injector.faults

    @faults.setter
    def faults(self, faults: Faults) -> None:
        self._state.injector.replace(faults)

    async def start(self) -> None:
        """Listen on host:port; prefer `async with`."""
        if self._runner is not None:
            raise RuntimeError("The sandbox is already running.")
        app = web.Application(
            middlewares=[pipeline], client_max_size=MAX_UPLOAD_BYTES + 64 * 1024
        )
        app[STATE] = self._state
        add_identity_routes(app, self._strict_scope)
        add_gateway_routes(app)
        runner = web.AppRunner(app, access_log=None, shutdown_timeout=_SHUTDOWN_TIMEOUT)
        await runner.setup()
        try:
            await web.TCPSite(runner, self._host, self._port).start()
        except BaseException:
            await runner.cleanup()
            raise
        self._runner = runner
        host, port = runner.addresses[0][:2]
        shown = f"[{host}]" if ":" in host else host
        self._url = f"http://{shown}:{port}"
        self._state.identity.base_url = self._url
        self._state.injector.started = self._clock.monotonic()
        sandbox_log.info("sandbox listening on %s", self._url)

    async def stop(self) -> None:
        """Stop listening and close every connection; idempotent."""
        runner, self._runner = self._runner, None
        if runner is not None:
            await runner.cleanup()
            sandbox_log.info("sandbox on %s stopped", self._url)
        self._url = ""

    async def __aenter__(self) -> Sandbox:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()


def export_lines(sandbox: Sandbox) -> list[str]:
    """Shell lines that point the SDK and the CLI at a running sandbox.

    The names carry the `GOSMARTER_` prefix, which `Settings.from_env` prefers, so
    they win over another tool's CLIENT_ID in the same shell.

    Args:
        sandbox: A running sandbox.

    Returns:
        `export NAME=value` lines, values shell-quoted, and a `COMPANY_ID` of the
        sandbox's for examples.
    """
    s = sandbox.settings
    values = (
        ("CLIENT_ID", s.client_id),
        ("CLIENT_SECRET", s.client_secret),
        ("TENANT_ID", s.tenant_id or ""),
        ("TOKEN_URL", s.token_url),
        ("API_SCOPE", s.scope),
        ("GATEWAY_URL", s.gateway_url),
    )
    lines = [f"export GOSMARTER_{name}={shlex.quote(value)}" for name, value in values]
    # Not a setting: one of the sandbox's companies, for the README's examples.
    lines.append(f"export COMPANY_ID={shlex.quote(str(sandbox.company_ids[0]))}")
    return lines


async def serve(
    sandbox: Sandbox, *, out: TextIO | None = None, stop: asyncio.Event | None = None
) -> None:
    """Run `sandbox`, print its export lines, and serve until SIGINT or SIGTERM.

    Args:
        sandbox: The sandbox to run (not yet started).
        out: Where the export lines go; stdout by default.
        stop: Set it to stop serving (the signals set it too).
    """
    stream = out or sys.stdout
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    handled = []
    for sig in (signal.SIGINT, signal.SIGTERM):
        try:
            loop.add_signal_handler(sig, stop.set)
            handled.append(sig)
        except (NotImplementedError, RuntimeError):
            # Windows' loops have no signal handlers; Ctrl-C still interrupts.
            pass
    try:
        async with sandbox:
            for line in export_lines(sandbox):
                print(line, file=stream)
            stream.flush()
            print(f"# GoSmarter sandbox on {sandbox.url}; Ctrl-C stops it.",
                  file=sys.stderr, flush=True)  # fmt: skip
            await stop.wait()
    finally:
        for sig in handled:
            loop.remove_signal_handler(sig)
