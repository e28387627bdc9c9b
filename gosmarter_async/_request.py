"""The contract between the generated operations and the transport.

Generated code describes a request as a `RequestSpec` and hands it to a `Transport`;
the transport owns everything about sending it (auth, retries, aiohttp). Nothing in
this module performs I/O.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Callable
from types import TracebackType
from typing import TYPE_CHECKING, Any, Generic, Protocol, TypeVar

import attrs
from attrs import frozen

if TYPE_CHECKING:
    from ._retry import RetryPolicy

__all__ = [
    "BinaryStream",
    "CallOptions",
    "FilePart",
    "Multipart",
    "RequestSpec",
    "SavedFile",
    "Transport",
]

T = TypeVar("T")
T_co = TypeVar("T_co", covariant=True)


@frozen
class FilePart:
    """One file of a multipart/form-data body.

    Args:
        field: The form field name.
        content: The bytes to send, or a path to a file streamed from disk.
        filename: The file name sent in the part's Content-Disposition.
        content_type: The part's media type.
    """

    field: str
    content: bytes | os.PathLike[str] | str = attrs.field(repr=False)
    filename: str
    content_type: str = "application/octet-stream"


@frozen
class Multipart:
    """A multipart/form-data body: plain text fields and files."""

    fields: tuple[tuple[str, str], ...] = ()
    files: tuple[FilePart, ...] = ()


@frozen(kw_only=True)
class RequestSpec(Generic[T]):
    """Everything the transport needs to send one operation and parse its answer.

    Args:
        operation_id: The spec's operationId, for logs and errors.
        method: The HTTP method, upper case.
        path_template: The path as the spec writes it, safe to log.
        path: The expanded path; every path parameter is percent-encoded.
        idempotent: Whether a retry after the request may have reached the server
            is safe (GET, HEAD, PUT, DELETE and POSTs marked `x-idempotent`).
        params: Query parameters, already serialized to strings.
        json: The JSON body, already converted to plain data.
        multipart: A multipart body, for uploads.
        parse: Turns the decoded JSON body into the return value.
        ok_status: The documented success statuses.
        accept: The Accept header to send.
    """

    operation_id: str
    method: str
    path_template: str
    path: str
    idempotent: bool
    params: tuple[tuple[str, str], ...] = ()
    json: object | None = attrs.field(default=None, repr=False)
    multipart: Multipart | None = None
    parse: Callable[[Any], T] | None = attrs.field(default=None, repr=False)
    ok_status: frozenset[int] = frozenset({200})
    accept: str = "application/json"


@frozen
class CallOptions:
    """Per-call overrides of the client's defaults.

    Args:
        timeout: Total seconds for one attempt, instead of the client's timeout.
        retry: The retry policy for this call, instead of the client's policy.
    """

    timeout: float | None = None
    retry: RetryPolicy | None = None


@frozen
class SavedFile:
    """What a streamed download wrote to disk."""

    path: str
    size: int
    sha256: str
    content_type: str


class BinaryStream(Protocol):
    """A binary response body, read in constant memory.

    The request is sent when the stream is entered (or by `save` and `read`, which
    enter it themselves).
    """

    async def __aenter__(self) -> BinaryStream: ...

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None: ...

    def iter_chunks(self, chunk_size: int = 65536) -> AsyncIterator[bytes]:
        """Yield the body in chunks of at most `chunk_size` bytes."""
        ...

    async def read(self) -> bytes:
        """Return the whole body; only for bodies known to be small."""
        ...

    async def save(self, path: str | os.PathLike[str]) -> SavedFile:
        """Write the body to `path` atomically (a temporary file, then a rename)."""
        ...


class Transport(Protocol):
    """What generated operations send their requests through."""

    async def send(self, spec: RequestSpec[T], options: CallOptions | None = None) -> T:
        """Send the request and return the parsed success body."""
        ...

    def stream(
        self, spec: RequestSpec[Any], options: CallOptions | None = None
    ) -> BinaryStream:
        """Return a not-yet-started stream of the response body."""
        ...
