"""The transport: the only owner of the aiohttp session.

One call through `AiohttpTransport.send` is a sequence of named steps:

1. wait out the client-wide cool-down after a 429 (`_wait_cool_down`);
2. take a concurrency slot, and a pacing token when rate limited (`_attempt`);
3. get a bearer token from the token provider (`_exchange`);
4. send one HTTP request (`_send_once`); after a 401, invalidate exactly the
   rejected token and replay once with a fresh one (`_exchange`);
5. classify the answer: a success, or a typed error built from a bounded read of
   the body (`_error_from`);
6. decode and parse a success body (`_decode`).

Steps 1 to 5 are one attempt; `retry_async` repeats attempts under the retry
policy, the client-wide retry budget and the call's deadline. No aiohttp exception
leaves this module: `translate` turns each into a `TransportError`, or into
`ClientClosedError` once the transport is closed.
"""

from __future__ import annotations

import asyncio
import functools
import itertools
import json
import linecache
import logging
import os
import platform
import re
import time
import traceback
from collections.abc import Awaitable, Callable, Coroutine, Iterator, Mapping
from contextlib import ExitStack
from importlib import metadata
from typing import IO, TYPE_CHECKING, Any, TypeVar, cast

import aiohttp
import attrs
from aiolimiter import AsyncLimiter
from attrs import Factory, define, field, frozen, validators
from yarl import URL

from ._clock import Clock, SystemClock
from ._config import check_url
from ._errors import (
    APIStatusError,
    ClientClosedError,
    ConfigurationError,
    ConnectError,
    ConnectTimeoutError,
    GoSmarterError,
    ProblemDetails,
    RateLimitError,
    ResponseDecodeError,
    TransportError,
    TransportTimeoutError,
    error_for_status,
)
from ._log import excerpt, redact_text, retry_log, transport_log
from ._request import CallOptions, Multipart, RequestSpec
from ._retry import (
    CoolDown,
    RetryBudget,
    RetryPolicy,
    is_retryable,
    parse_retry_after,
    retry_after_of,
    retry_async,
)
from ._streams import StreamingResponse
from .auth import BearerToken, TokenProvider

if TYPE_CHECKING:
    from aiohttp import ClientResponse

__all__ = [
    "DEFAULT_CONNECT_TIMEOUT",
    "DEFAULT_MAX_CONNECTIONS",
    "DEFAULT_TIMEOUT",
    "AiohttpTransport",
    "TransportStats",
]

T = TypeVar("T")
R = TypeVar("R")

# Seconds for one attempt, connect to last byte. Never "no timeout": a call that
# can hang forever is the failure mode this SDK exists to prevent (issue 3).
DEFAULT_TIMEOUT = 30.0
# Seconds to open a TCP (and TLS) connection; a healthy gateway does it in well
# under a second, so ten leaves room for a slow network without hiding an outage.
DEFAULT_CONNECT_TIMEOUT = 10.0
# aiohttp's own default pool size: enough for bulk exports, small enough not to
# exhaust a gateway's per-client connection allowance.
DEFAULT_MAX_CONNECTIONS = 100
# The most of an error body we read: enough for any problem+json or proxy page,
# and a 100 MB error body never lands in memory.
MAX_ERROR_BODY = 64 * 1024
# The most of an undecodable success body kept on ResponseDecodeError.
MAX_KEPT_BODY = 64 * 1024

# Where a gateway or proxy in front of it puts its request id, in order of trust.
_REQUEST_ID_HEADERS = ("x-request-id", "request-id", "x-ms-request-id")


@frozen
class TransportStats:
    """Counters of one transport, as a snapshot.

    Args:
        requests: HTTP requests sent (attempts and 401 replays).
        retries: Retries scheduled after a failed attempt.
        auth_replays: Replays after a 401 with a fresh token.
        cool_down_waits: Times a request waited for the client-wide cool-down.
    """

    requests: int = 0
    retries: int = 0
    auth_replays: int = 0
    cool_down_waits: int = 0


def _default_json_loads() -> Callable[[bytes], Any]:
    try:
        import orjson  # noqa: PLC0415 (optional speedup, imported only if present)
    except ImportError:
        return json.loads
    return cast("Callable[[bytes], Any]", orjson.loads)


def _default_user_agent() -> str:
    try:
        version = metadata.version("gosmarter-async")
    except metadata.PackageNotFoundError:
        version = "0+unknown"
    return (
        f"gosmarter-async/{version} aiohttp/{aiohttp.__version__} "
        f"python/{platform.python_version()}"
    )


def _strip_slash(url: str) -> str:
    return str(url).rstrip("/")


def _check_base_url(_: object, __: object, value: str) -> None:
    problem = check_url(value, "base_url")
    if problem:
        raise ConfigurationError(problem)


def _path_only(path: str) -> str:
    return path.split("?", 1)[0]


def _request_id_from_headers(headers: Mapping[str, str]) -> str | None:
    for name in _REQUEST_ID_HEADERS:
        value = headers.get(name)
        if value is not None:
            return value
    return None


# The two retry predicates, built once rather than per call (issue 5).
_RETRYABLE = {
    idempotent: functools.partial(is_retryable, idempotent=idempotent)
    for idempotent in (False, True)
}


@functools.lru_cache(maxsize=32)
def _client_timeout(
    timeout: float, connect_timeout: float, *, stream: bool
) -> aiohttp.ClientTimeout:
    """The aiohttp timeouts of one attempt; cached, as they rarely vary.

    Args:
        timeout: The call's timeout, in seconds.
        connect_timeout: Seconds to open a connection.
        stream: Whether the body is streamed.

    Returns:
        For a download, which may take longer than one attempt's timeout, bounds
        on the wait for the headers and on each gap between body reads; otherwise
        a total bound.
    """
    if stream:
        return aiohttp.ClientTimeout(
            total=None, connect=timeout, sock_connect=connect_timeout, sock_read=timeout
        )
    return aiohttp.ClientTimeout(total=timeout, sock_connect=connect_timeout)


@frozen
class _Call:
    """What every attempt of one call shares."""

    spec: RequestSpec[Any]
    policy: RetryPolicy
    timeout: float
    stream: bool
    started: float


@define(eq=False)
class AiohttpTransport:
    """Sends `RequestSpec`s over one lazily created aiohttp session.

    The session is created inside the running loop on the first call, never at
    construction, so that a transport can be built anywhere. `aclose()` closes it;
    calls in flight then end with `ClientClosedError`, and so do later calls.

    Args:
        base_url: The gateway's base URL; https, or http only for loopback.
        token_provider: Supplies the bearer tokens.
        retry: The default retry policy.
        timeout: Seconds for one attempt, connect to last byte (for streams: to the
            response headers and between body reads).
        connect_timeout: Seconds to open a connection.
        max_connections: The connection pool's size.
        max_concurrency: Requests in flight at once; `max_connections` by default.
        rate_limit: Requests per second, or None for no client-side pacing.
        clock: Time and sleep for waits, backoffs and the cool-down.
        user_agent: The User-Agent header.
        json_loads: Decodes JSON bodies (orjson when installed).
        budget: The retry budget, shared by every call.
        cool_down: The 429 cool-down, shared by every call.

    Raises:
        ConfigurationError: when `base_url` is not https (or loopback http).
    """

    base_url: str = field(converter=_strip_slash, validator=_check_base_url)
    token_provider: TokenProvider = field(repr=False)
    retry: RetryPolicy = field(factory=RetryPolicy, kw_only=True)
    timeout: float = field(
        default=DEFAULT_TIMEOUT, kw_only=True, validator=validators.gt(0)
    )
    connect_timeout: float = field(
        default=DEFAULT_CONNECT_TIMEOUT, kw_only=True, validator=validators.gt(0)
    )
    max_connections: int = field(
        default=DEFAULT_MAX_CONNECTIONS, kw_only=True, validator=validators.ge(1)
    )
    max_concurrency: int | None = field(
        default=None,
        kw_only=True,
        validator=validators.optional(validators.ge(1)),
    )
    rate_limit: float | None = field(
        default=None, kw_only=True, validator=validators.optional(validators.gt(0))
    )
    clock: Clock = field(factory=SystemClock, kw_only=True, repr=False)
    user_agent: str = field(factory=_default_user_agent, kw_only=True, repr=False)
    json_loads: Callable[[bytes], Any] = field(
        factory=_default_json_loads, kw_only=True, repr=False
    )
    budget: RetryBudget = field(factory=RetryBudget, kw_only=True, repr=False)
    cool_down: CoolDown = field(
        default=Factory(lambda self: CoolDown(self.clock), takes_self=True),
        kw_only=True,
        repr=False,
    )
    _session: aiohttp.ClientSession | None = field(init=False, default=None, repr=False)
    _opened: bool = field(init=False, default=False, repr=False)
    _closed: bool = field(init=False, default=False)
    _closed_event: asyncio.Event = field(init=False, factory=asyncio.Event, repr=False)
    _slots: asyncio.Semaphore = field(init=False, repr=False)
    _limiter: AsyncLimiter | None = field(init=False, default=None, repr=False)
    _counts: dict[str, int] = field(init=False, factory=dict, repr=False)

    def __attrs_post_init__(self) -> None:
        # Semaphores and events bind to a loop on first use (Python >= 3.10), so
        # creating them here needs no running loop.
        self._slots = asyncio.Semaphore(self.max_concurrency or self.max_connections)
        if self.rate_limit is not None:
            # One request per 1/rate seconds: evenly spaced, no burst at start.
            self._limiter = AsyncLimiter(1, 1.0 / self.rate_limit)

    @property
    def closed(self) -> bool:
        """Whether `aclose()` was called."""
        return self._closed

    @property
    def session_opened(self) -> bool:
        """Whether an aiohttp session was ever created (a call was made)."""
        return self._opened

    @property
    def stats(self) -> TransportStats:
        """A snapshot of this transport's counters."""
        return TransportStats(**self._counts)

    async def send(self, spec: RequestSpec[T], options: CallOptions | None = None) -> T:
        """Send the request and return the parsed success body.

        Args:
            spec: The request and how to parse its answer.
            options: Per-call timeout and retry policy.

        Returns:
            `spec.parse` applied to the decoded JSON body (None for an empty body),
            or the decoded body itself when `spec.parse` is None.

        Raises:
            APIStatusError: a subclass per status, when the gateway answered an error.
            TransportError: when no answer came (`TransportTimeoutError` on timeout).
            ResponseDecodeError: when a success body does not match the spec.
            ClientClosedError: when the transport is or gets closed.
        """
        status, body = await self._call(spec, options, _read_all, stream=False)
        return self._decode(spec, status, body)

    def stream(
        self, spec: RequestSpec[Any], options: CallOptions | None = None
    ) -> StreamingResponse:
        """Return a not-yet-started stream of the response body.

        Args:
            spec: The request.
            options: Per-call timeout and retry policy.

        Returns:
            The stream; the request is sent when it is entered or saved.
        """
        return StreamingResponse(self, spec, options)

    async def aclose(self) -> None:
        """Close the session; calls in flight end with `ClientClosedError`."""
        if self._closed:
            return
        self._closed = True
        self._closed_event.set()
        session, self._session = self._session, None
        if session is not None:
            await session.close()

    # -- the steps of a call ------------------------------------------------------

    def policy_for(self, options: CallOptions | None) -> RetryPolicy:
        """The retry policy of a call: the per-call override, else the default."""
        if options is not None and options.retry is not None:
            return options.retry
        return self.retry

    def _call(
        self,
        spec: RequestSpec[Any],
        options: CallOptions | None,
        consume: Callable[[ClientResponse], Awaitable[R]],
        *,
        stream: bool,
    ) -> Coroutine[Any, Any, R]:
        # Plain functions returning the retry coroutine, here and in `retrying`:
        # each coroutine layer costs every call, and every resumption (issue 5).
        self.check_open(spec)
        timeout = self.timeout
        if options is not None and options.timeout is not None:
            timeout = options.timeout
        call = _Call(
            spec, self.policy_for(options), timeout, stream, self.clock.monotonic()
        )
        attempt = functools.partial(self._attempt, call, itertools.count(1), consume)
        return self.retrying(
            attempt,
            spec,
            call.policy,
            retryable=self.retryable_for(spec, call.policy),
        )

    def retryable_for(
        self, spec: RequestSpec[Any], policy: RetryPolicy
    ) -> Callable[[BaseException], bool]:
        """The retry predicate for `spec`: by its idempotency, or the caller's word."""
        return _RETRYABLE[spec.idempotent or policy.assume_idempotent]

    def retrying(
        self,
        fn: Callable[[], Awaitable[R]],
        spec: RequestSpec[Any],
        policy: RetryPolicy,
        *,
        retryable: Callable[[BaseException], bool],
    ) -> Coroutine[Any, Any, R]:
        """Run `fn` under `policy` with this transport's budget, clock and sleep.

        Args:
            fn: One attempt.
            spec: The request, for the log lines.
            policy: The call's retry policy.
            retryable: Which failures may be retried.

        Returns:
            A coroutine of the first successful attempt's result.
        """
        return retry_async(
            fn,
            policy=policy,
            retryable=retryable,
            retry_after=retry_after_of,
            clock=self.clock,
            describe=f"{spec.method} {spec.path_template}",
            logger=retry_log,
            budget=self.budget,
            sleep=self.sleep,
            on_retry=self._count_retry,
        )

    async def _attempt(
        self,
        call: _Call,
        numbers: Iterator[int],
        consume: Callable[[ClientResponse], Awaitable[R]],
    ) -> R:
        number = next(numbers)
        if self.cool_down.remaining() > 0:
            await self._wait_cool_down(call)
        await self._slots.acquire()
        handed_over = False
        try:
            if self._limiter is not None:
                await self._limiter.acquire()
            self.check_open(call.spec)
            with ExitStack() as files, self.translating(call.spec):
                response = await self._exchange(call, number, files)
                try:
                    result = await consume(response)
                except BaseException:
                    response.close()
                    raise
                # A stream keeps its response and its slot until it is closed.
                handed_over = call.stream
                if not call.stream:
                    response.release()
                return result
        finally:
            if not handed_over:
                self._slots.release()

    async def _wait_cool_down(self, call: _Call) -> None:
        spec, policy = call.spec, call.policy
        while (left := self.cool_down.remaining()) > 0:
            time_left = policy.deadline - (self.clock.monotonic() - call.started)
            if left > policy.max_retry_after or left > time_left:
                # Waiting longer than the cap or the deadline would only hang;
                # fail now, as a 429 answered to this very call would.
                raise RateLimitError(
                    method=spec.method,
                    path=_path_only(spec.path),
                    status=429,
                    retry_after=left,
                    body_excerpt="not sent: the client is cooling down after a 429",
                )
            self._count("cool_down_waits")
            transport_log.debug(
                "%s %s waits %.2f s: client-wide cool-down after a 429",
                spec.method,
                spec.path_template,
                left,
            )
            await self.sleep(left)

    async def _exchange(
        self, call: _Call, number: int, files: ExitStack
    ) -> ClientResponse:
        token = await self.token_provider.get_token()
        response = await self._send_once(call, token, number, files)
        if response.status == 401:
            # RFC 6750 §3.1: the token was rejected (expired or revoked early).
            # Forget exactly that token, so a concurrent refresh is not discarded,
            # and replay once; a second 401 is the caller's to see.
            response.close()
            await self.token_provider.invalidate(token)
            token = await self.token_provider.get_token()
            self._count("auth_replays")
            response = await self._send_once(call, token, number, files)
        if not 200 <= response.status < 300:
            raise await self._error_from(call.spec, response, token.value)
        return response

    async def _send_once(
        self, call: _Call, token: BearerToken, number: int, files: ExitStack
    ) -> ClientResponse:
        spec = call.spec
        session = self._session_for_call(spec)
        headers = {"Authorization": f"Bearer {token.value}", "Accept": spec.accept}
        data = self._body(spec, headers, files)
        self._count("requests")
        # The DEBUG line per attempt: its timing and request id only when shown.
        debug = transport_log.isEnabledFor(logging.DEBUG)
        began = time.perf_counter() if debug else 0.0
        try:
            # Redirects stay on: aiohttp drops Authorization (and cookies) when a
            # redirect leaves the origin, so a token never follows it elsewhere
            # (RFC 9110 §15.4; tested in test_transport_redirects).
            response = await session.request(
                spec.method,
                URL(self.base_url + spec.path),
                params=list(spec.params) or None,
                data=data,
                headers=headers,
                timeout=_client_timeout(
                    call.timeout, self.connect_timeout, stream=call.stream
                ),
                allow_redirects=True,
            )
        except BaseException as exc:
            if debug:
                self._log_attempt(spec, number, began, type(exc).__name__, None)
            raise
        if debug:
            request_id = _request_id_from_headers(response.headers)
            self._log_attempt(spec, number, began, str(response.status), request_id)
        return response

    # -- building a request -------------------------------------------------------

    def _session_for_call(self, spec: RequestSpec[Any]) -> aiohttp.ClientSession:
        self.check_open(spec)
        if self._session is None:
            # TODO(proxy): HTTPS_PROXY is not honoured (trust_env would also read
            # ~/.netrc credentials into requests); a `proxy=` option passed to each
            # request, or an injected session, would serve users behind a proxy.
            self._session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(limit=self.max_connections),
                headers={"User-Agent": self.user_agent},
                # An API client has no use for cookies; a jar would only carry
                # state from one call (or one redirect target) to the next.
                cookie_jar=aiohttp.DummyCookieJar(),
                raise_for_status=False,
            )
            self._opened = True
        return self._session

    def _body(
        self, spec: RequestSpec[Any], headers: dict[str, str], files: ExitStack
    ) -> aiohttp.FormData | bytes | None:
        if spec.multipart is not None:
            return self._form(spec.multipart, files)
        if spec.json is not None:
            headers["Content-Type"] = "application/json"
            return json.dumps(spec.json, separators=(",", ":")).encode()
        return None

    @staticmethod
    def _form(multipart: Multipart, files: ExitStack) -> aiohttp.FormData:
        # A FormData is consumed by one request, so every attempt (and a 401
        # replay) builds a new one, reopening a file from its path.
        form = aiohttp.FormData()
        for name, value in multipart.fields:
            form.add_field(name, value)
        for part in multipart.files:
            payload: bytes | IO[bytes]
            if isinstance(part.content, bytes):
                payload = part.content
            else:
                # Opening is quick; aiohttp then reads the file in chunks off the
                # loop. The ExitStack closes it once the attempt is over.
                payload = files.enter_context(open(part.content, "rb"))  # noqa: SIM115
            form.add_field(
                part.field,
                payload,
                filename=part.filename,
                content_type=part.content_type,
            )
        return form

    # -- reading an answer --------------------------------------------------------

    async def _error_from(
        self, spec: RequestSpec[Any], response: ClientResponse, token: str
    ) -> APIStatusError:
        body, cut = await _read_bounded(response, MAX_ERROR_BODY)
        if cut:
            # Dropping the connection is cheaper than draining a huge body.
            response.close()
        else:
            response.release()
        # A server may echo the request's token back; mask it wherever it shows.
        problem = _redacted(self._problem(body), token)
        request_id = problem.request_id if problem is not None else None
        fields: dict[str, Any] = {
            "method": spec.method,
            "path": _path_only(spec.path),
            "status": response.status,
            "request_id": request_id or _request_id_from_headers(response.headers),
            "problem": problem,
            "body_excerpt": excerpt(body, secrets=(token,)),
        }
        if response.status in (429, 503):
            # RFC 9110 §10.2.3: both may say how long to wait; only a 429 is about
            # this client's pace, so only it pauses the client's other calls.
            fields["retry_after"] = parse_retry_after(
                response.headers, self.clock.now()
            )
            if response.status == 429 and fields["retry_after"] is not None:
                self.cool_down.extend(fields["retry_after"])
        return error_for_status(response.status)(**fields)

    def _problem(self, body: bytes) -> ProblemDetails | None:
        # Proxies answer with HTML; only something shaped like JSON is tried.
        if not body.lstrip().startswith(b"{"):
            return None
        try:
            return ProblemDetails.from_json(self.json_loads(body))
        except ValueError:
            return None

    def _decode(self, spec: RequestSpec[T], status: int, body: bytes) -> T:
        kept = body[:MAX_KEPT_BODY]
        try:
            data = self.json_loads(body) if body.strip() else None
        except ValueError as exc:
            message = (
                f"{spec.operation_id}: the {status} answer is not valid JSON "
                f"({type(exc).__name__})"
            )
            raise ResponseDecodeError(message, status=status, body=kept) from None
        if spec.parse is None:
            return cast("T", data)
        try:
            return spec.parse(data)
        # AttributeError: a converter handed a value of the wrong type, such as
        # uuid.UUID(12), fails on a missing method rather than with a TypeError.
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            message = (
                f"{spec.operation_id}: the {status} answer does not match the spec: "
                f"{_what_failed(exc)}"
            )
            raise ResponseDecodeError(message, status=status, body=kept) from exc

    # -- shared machinery ---------------------------------------------------------

    def check_open(self, spec: RequestSpec[Any]) -> None:
        """Raise `ClientClosedError` when the transport is closed.

        Args:
            spec: The request that would have been sent.

        Raises:
            ClientClosedError: when `aclose()` was called.
        """
        if self._closed:
            raise ClientClosedError(
                f"{spec.method} {_path_only(spec.path)}: the client is closed"
            )

    def translating(self, spec: RequestSpec[Any]) -> _Translating:
        """Turn aiohttp's exceptions raised inside the block into ours.

        Args:
            spec: The request being sent, for the error's method and path.

        Returns:
            A context manager; exceptions are translated as they leave it.
        """
        return _Translating(self, spec)

    def translate(self, exc: BaseException, spec: RequestSpec[Any]) -> GoSmarterError:
        """Our error for an aiohttp failure (or any, once closed).

        Args:
            exc: What aiohttp raised.
            spec: The request, for the error's method and path.

        Returns:
            `ClientClosedError` once closed, else the `TransportError` subclass.
        """
        path = _path_only(spec.path)
        if self._closed:
            return ClientClosedError(
                f"{spec.method} {path}: the client was closed during the call"
            )
        error_class, message = _classify(exc)
        return error_class(message, method=spec.method, path=path)

    async def sleep(self, seconds: float) -> None:
        """Sleep on the clock, but wake up (and fail) as soon as the transport closes.

        Args:
            seconds: How long to wait.

        Raises:
            ClientClosedError: when the transport is closed before or during the wait.
        """
        if not self._closed:
            sleeper = asyncio.ensure_future(self.clock.sleep(seconds))
            closer = asyncio.ensure_future(self._closed_event.wait())
            try:
                await asyncio.wait(
                    (sleeper, closer), return_when=asyncio.FIRST_COMPLETED
                )
            finally:
                sleeper.cancel()
                closer.cancel()
                await asyncio.gather(sleeper, closer, return_exceptions=True)
        if self._closed:
            raise ClientClosedError("the client was closed during a wait")

    def finish_stream(self, response: ClientResponse) -> None:
        """Release a stream's response and its concurrency slot.

        Args:
            response: The response `_call` handed to the stream.
        """
        # release() closes the connection instead of pooling it when the body
        # was not read to the end.
        response.release()
        self._slots.release()

    async def open_stream(
        self, spec: RequestSpec[Any], options: CallOptions | None
    ) -> ClientResponse:
        """Send a stream's request, through retries and auth, up to the headers.

        Args:
            spec: The request.
            options: Per-call timeout and retry policy.

        Returns:
            The open response; hand it back with `finish_stream`.
        """
        return await self._call(spec, options, _as_is, stream=True)

    def _count(self, name: str) -> None:
        self._counts[name] = self._counts.get(name, 0) + 1

    def _count_retry(self) -> None:
        self._count("retries")

    @staticmethod
    def _log_attempt(
        spec: RequestSpec[Any],
        number: int,
        began: float,
        outcome: str,
        request_id: str | None,
    ) -> None:
        transport_log.debug(
            "%s %s -> %s in %.1f ms (attempt %d, request id %s)",
            spec.method,
            spec.path_template,
            outcome,
            (time.perf_counter() - began) * 1000.0,
            number,
            request_id or "-",
        )


@define
class _Translating:
    """What `AiohttpTransport.translating` returns.

    A class rather than a generator-based context manager: it is entered on every
    attempt, and costs a third as much (issue 5).
    """

    transport: AiohttpTransport
    spec: RequestSpec[Any]

    def __enter__(self) -> None:
        return None

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: object,
    ) -> None:
        if exc is None or isinstance(exc, GoSmarterError):
            return
        if isinstance(exc, aiohttp.ClientError | TimeoutError):
            raise self.transport.translate(exc, self.spec) from None
        if isinstance(exc, RuntimeError) and self.transport.closed:
            # aiohttp raises RuntimeError("Session is closed") to a call that
            # races aclose(); any other RuntimeError is a bug worth seeing.
            raise self.transport.translate(exc, self.spec) from None


async def _read_all(response: ClientResponse) -> tuple[int, bytes]:
    # TODO(body-limit): success bodies are read whole; the spec's largest JSON
    # answer is a certification of a few hundred KiB. A cap (and an error past it)
    # would guard against a misbehaving proxy.
    return response.status, await response.read()


async def _as_is(response: ClientResponse) -> ClientResponse:
    return response


async def _read_bounded(response: ClientResponse, limit: int) -> tuple[bytes, bool]:
    """Read at most `limit` bytes of the body; also say whether some was left."""
    buffer = bytearray()
    try:
        while len(buffer) < limit:
            chunk = await response.content.read(limit - len(buffer))
            if not chunk:
                return bytes(buffer), False
            buffer += chunk
    except (aiohttp.ClientError, TimeoutError):
        # The status is the answer; a broken error body only shortens the excerpt.
        return bytes(buffer), True
    return bytes(buffer), not response.content.at_eof()


# Checked in order: the first matching class names the error and its message.
_TRANSLATIONS: tuple[tuple[type[BaseException], type[TransportError], str], ...] = (
    (aiohttp.ConnectionTimeoutError, ConnectTimeoutError, "timed out connecting"),
    (TimeoutError, TransportTimeoutError, "timed out waiting for the gateway"),
    (aiohttp.ServerDisconnectedError, TransportError, "the server hung up"),
    (aiohttp.ClientPayloadError, TransportError, "the response body was cut off"),
)


def _classify(exc: BaseException) -> tuple[type[TransportError], str]:
    """The error class and a message without secrets for an aiohttp failure."""
    if isinstance(exc, aiohttp.ClientConnectorError):
        # Refused, unreachable, DNS or TLS handshake: nothing was sent.
        reason = exc.os_error.strerror or type(exc.os_error).__name__
        return ConnectError, f"cannot connect to {exc.host}:{exc.port} ({reason})"
    for kind, error_class, message in _TRANSLATIONS:
        if isinstance(exc, kind):
            return error_class, message
    if isinstance(exc, OSError) and exc.strerror:
        return TransportError, f"connection failed ({exc.strerror})"
    return TransportError, f"request failed ({type(exc).__name__})"


def _redacted(problem: ProblemDetails | None, token: str) -> ProblemDetails | None:
    if problem is None:
        return None

    def clean(text: str | None) -> str | None:
        return None if text is None else redact_text(text, (token,))

    return attrs.evolve(
        problem,
        type=clean(problem.type),
        title=clean(problem.title),
        detail=clean(problem.detail),
        instance=clean(problem.instance),
    )


def _what_failed(exc: BaseException) -> str:
    if isinstance(exc, KeyError) and exc.args:
        where = _failed_field(exc)
        model = f" of {where.split('.')[0]}" if where else ""
        return f"missing field {exc.args[0]!r}{model}"
    reason = f"{type(exc).__name__}: {redact_text(str(exc))[:200]}"
    where = _failed_field(exc)
    return f"field {where}: {reason}" if where else reason


_MODELS_DIR = os.path.join("_generated", "models", "")

# What the generated models' from_dict lines look like (codegen/templates): a field
# is read with d.pop("jsonKey") (a nested _parse_<name> converter is called on that
# line too), and a list is iterated as _<name>.
_POPPED = re.compile(r'd\.pop\("([^"]+)"')
_LIST = re.compile(r"for \w+ in _(\w+):")


def _failed_field(exc: BaseException) -> str | None:
    """Name the model field whose conversion raised `exc`, as `Model.jsonKey`.

    Only runs when a parse has already failed. It walks the traceback from the
    innermost frame out to the first generated model's `from_dict` line that names
    a field, so that "badly formed hexadecimal UUID string" becomes an error about
    `MillCertification.millCertificationId`.
    """
    frames = list(traceback.walk_tb(exc.__traceback__))
    for frame, line_number in reversed(frames):
        code = frame.f_code
        if _MODELS_DIR not in code.co_filename:
            continue
        line = linecache.getline(code.co_filename, line_number)
        popped = _POPPED.search(line)
        listed = _LIST.search(line)
        if popped:
            name = popped.group(1)
        elif listed:
            name = listed.group(1)
        else:
            continue
        model = frame.f_locals.get("cls")
        owner = getattr(model, "__name__", None)
        return f"{owner}.{name}" if owner else name
    return None
