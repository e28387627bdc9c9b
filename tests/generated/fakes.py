"""A fake Transport that records what the generated layer hands it."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from types import TracebackType
from typing import Any, TypeVar

from gosmarter_async._request import CallOptions, RequestSpec, SavedFile

T = TypeVar("T")


class FakeStream:
    """A BinaryStream over fixed bytes."""

    def __init__(self, spec: RequestSpec[Any], body: bytes) -> None:
        self.spec = spec
        self._body = body

    async def __aenter__(self) -> FakeStream:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        return None

    async def iter_chunks(self, chunk_size: int = 65536) -> AsyncIterator[bytes]:
        for start in range(0, len(self._body), chunk_size):
            yield self._body[start : start + chunk_size]

    async def read(self) -> bytes:
        return self._body

    async def save(self, path: str | os.PathLike[str]) -> SavedFile:
        raise NotImplementedError


class FakeTransport:
    """Records every RequestSpec and answers with canned JSON through spec.parse.

    Args:
        answer: The decoded JSON body to parse, or a function of the spec giving it.
        body: The bytes a stream yields.
    """

    def __init__(
        self,
        answer: object = None,
        *,
        body: bytes = b"",
    ) -> None:
        self._answer = answer
        self._body = body
        self.specs: list[RequestSpec[Any]] = []
        self.options: list[CallOptions | None] = []

    @property
    def spec(self) -> RequestSpec[Any]:
        """The only request sent so far."""
        assert len(self.specs) == 1
        return self.specs[0]

    async def send(self, spec: RequestSpec[T], options: CallOptions | None = None) -> T:
        self.specs.append(spec)
        self.options.append(options)
        answer = self._answer
        if callable(answer):
            answer = answer(spec)
        assert spec.parse is not None
        return spec.parse(answer)

    def stream(
        self, spec: RequestSpec[Any], options: CallOptions | None = None
    ) -> FakeStream:
        self.specs.append(spec)
        self.options.append(options)
        return FakeStream(spec, self._body)
