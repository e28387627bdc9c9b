"""Binary response bodies, streamed in constant memory.

A `StreamingResponse` is lazy: nothing is sent until it is entered (or until
`read()` or `save()`, which enter it themselves). Entering goes through the same
retries, auth and error mapping as any call, up to the response headers; the body
is then read in chunks of at most 64 KiB, so a large zip of scans never sits in
memory.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import os
import tempfile
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from types import TracebackType
from typing import TYPE_CHECKING, Any, TypeVar

from ._errors import TransportError
from ._fs import fsync_directory
from ._request import CallOptions, RequestSpec, SavedFile

if TYPE_CHECKING:
    from aiohttp import ClientResponse

    from ._transport import AiohttpTransport

__all__ = ["CHUNK_SIZE", "StreamingResponse"]

R = TypeVar("R")

# Large enough that per-chunk overhead (a write, a hash update) is negligible, small
# enough that memory stays flat whatever the body's size.
CHUNK_SIZE = 64 * 1024


class _BodyCut(Exception):  # noqa: N818 (an internal signal, never raised to callers)
    """A download broke after the headers; carries the transport error."""

    def __init__(self, error: TransportError) -> None:
        self.error = error
        super().__init__(str(error))


class StreamingResponse:
    """The body of a binary answer (zip, csv, pdf), read in constant memory.

    Use it as `await stream.save(path)`, `await stream.read()` for small bodies, or
    `async with stream:` and `async for chunk in stream.iter_chunks()`.

    For an idempotent operation, `save` and `read` start the whole download again
    when the connection drops mid-body, within the call's retry policy. Chunks
    already yielded by `iter_chunks` cannot be taken back, so it does not retry.

    Args:
        transport: The transport that sends the request.
        spec: The request.
        options: Per-call timeout and retry policy.
    """

    def __init__(
        self,
        transport: AiohttpTransport,
        spec: RequestSpec[Any],
        options: CallOptions | None = None,
    ) -> None:
        self._transport = transport
        self._spec = spec
        self._options = options
        self._response: ClientResponse | None = None

    def __repr__(self) -> str:
        state = "open" if self._response is not None else "not open"
        spec = self._spec
        return f"<StreamingResponse {spec.method} {spec.path_template} {state}>"

    async def __aenter__(self) -> StreamingResponse:
        if self._response is not None:
            raise RuntimeError("this stream is already open")
        self._response = await self._transport.open_stream(self._spec, self._options)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._close()

    @property
    def status(self) -> int:
        """The response status."""
        return self._open_response().status

    @property
    def content_type(self) -> str:
        """The response's media type, without parameters."""
        return self._open_response().content_type

    @property
    def content_length(self) -> int | None:
        """The announced body size, when the server gave one."""
        return self._open_response().content_length

    async def iter_chunks(self, chunk_size: int = CHUNK_SIZE) -> AsyncIterator[bytes]:
        """Yield the body in chunks of at most `chunk_size` bytes.

        Args:
            chunk_size: The largest chunk to yield.

        Yields:
            The body, in order.

        Raises:
            TransportError: when the connection breaks or stalls mid-body.
        """
        response = self._open_response()
        with self._transport.translating(self._spec):
            async for chunk in response.content.iter_chunked(chunk_size):
                yield chunk

    async def read(self) -> bytes:
        """Return the whole body; only for bodies known to be small.

        Returns:
            The body.
        """
        return await self._with_body_retry(self._read_once)

    async def save(self, path: str | os.PathLike[str]) -> SavedFile:
        """Write the body to `path` atomically.

        The body goes to a temporary file in the same directory, which is flushed
        to disk and then renamed over `path` (`os.replace` is atomic on POSIX and
        Windows), so `path` holds either the whole body or what it held before. A
        failure removes the temporary file. Like `tempfile.mkstemp`, the file is
        readable only by its owner.

        Args:
            path: Where to write.

        Returns:
            The path, size, SHA-256 and media type of what was written.

        Raises:
            TransportError: when the download failed, after any retries.
        """
        target = os.fspath(path)
        return await self._with_body_retry(lambda: self._save_once(target))

    # -- internals ----------------------------------------------------------------

    def _open_response(self) -> ClientResponse:
        if self._response is None:
            raise RuntimeError(
                "the stream is not open: use 'async with stream:', save() or read()"
            )
        return self._response

    def _close(self) -> None:
        response, self._response = self._response, None
        if response is not None:
            self._transport.finish_stream(response)

    async def _with_body_retry(self, once: Callable[[], Awaitable[R]]) -> R:
        policy = self._transport.policy_for(self._options)

        def retryable(exc: BaseException) -> bool:
            safe = self._spec.idempotent or policy.assume_idempotent
            return isinstance(exc, _BodyCut) and safe

        try:
            result: R = await self._transport.retrying(
                once, self._spec, policy, retryable=retryable
            )
        except _BodyCut as cut:
            raise cut.error from None
        return result

    async def _read_once(self) -> bytes:
        if self._response is None:
            await self.__aenter__()
        try:
            chunks = [chunk async for chunk in self._body_chunks()]
        finally:
            self._close()
        return b"".join(chunks)

    async def _save_once(self, target: str) -> SavedFile:
        if self._response is None:
            await self.__aenter__()
        try:
            return await self._write_atomically(target)
        finally:
            self._close()

    async def _body_chunks(self) -> AsyncIterator[bytes]:
        try:
            async for chunk in self.iter_chunks():
                yield chunk
        except TransportError as exc:
            raise _BodyCut(exc) from None

    async def _write_atomically(self, target: str) -> SavedFile:
        # File system calls (mkstemp, fsync, rename) go to a thread: on a slow or
        # network disk each can block the loop for milliseconds (issue 5).
        started = time.time()  # wall time, as file modification times are
        directory, fd, temporary = await asyncio.to_thread(_temporary_beside, target)
        digest = hashlib.sha256()
        size = 0
        try:
            with os.fdopen(fd, "wb") as file:
                # Plain blocking writes of 64 KiB chunks: each takes microseconds
                # on a local disk, far less than the network read before it.
                async for chunk in self._body_chunks():
                    file.write(chunk)
                    digest.update(chunk)
                    size += len(chunk)
                file.flush()
                await asyncio.to_thread(os.fsync, file.fileno())
            await asyncio.to_thread(_land, temporary, target, directory, started)
        except BaseException:
            # Synchronous on purpose: this cleanup also runs on cancellation,
            # where a further await could itself be cancelled.
            with contextlib.suppress(FileNotFoundError):
                os.unlink(temporary)
            raise
        return SavedFile(
            path=target,
            size=size,
            sha256=digest.hexdigest(),
            content_type=self.content_type,
        )


def _land(temporary: str, target: str, directory: str, started: float) -> None:
    """Rename the finished temporary file to `target` and make that durable."""
    os.replace(temporary, target)
    fsync_directory(directory)
    _sweep_stale_temporaries(target, started)


def _temporary_beside(target: str) -> tuple[str, int, str]:
    # In the target's directory, so that the final rename never crosses devices.
    directory = os.path.dirname(os.path.abspath(target))
    prefix = f".{os.path.basename(target)}."
    fd, temporary = tempfile.mkstemp(dir=directory, prefix=prefix, suffix=".part")
    return directory, fd, temporary


def _sweep_stale_temporaries(target: str, started: float) -> None:
    # A hard kill (SIGKILL, power loss) skips the cleanup of a save in progress and
    # leaves its ".<name>.*.part" behind. Once a save of the same name has landed,
    # a temporary last written before that save started is a dead writer's
    # leftover. One written since may belong to a save still running (a save that
    # was cancelled while this thread went on, then started again): keep it.
    directory = os.path.dirname(os.path.abspath(target))
    prefix = f".{os.path.basename(target)}."
    with os.scandir(directory) as entries:
        stale = [
            e.path
            for e in entries
            if e.name.startswith(prefix)
            and e.name.endswith(".part")
            and e.stat().st_mtime < started
        ]
    for path in stale:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(path)
