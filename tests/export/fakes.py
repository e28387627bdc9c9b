"""A small in-memory stand-in for GoSmarterClient, with hooks to fail or pause calls."""

from __future__ import annotations

import hashlib
import os
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

from gosmarter_async import NotFoundError, RetryPolicy, SavedFile

Hook = Callable[[str, str], Awaitable[None]]


def cert_ids(company: str, count: int) -> list[str]:
    return [str(uuid.uuid5(uuid.NAMESPACE_URL, f"{company}/{n}")) for n in range(count)]


class Summary:
    def __init__(self, cert_id: str, heats: int) -> None:
        self.mill_certification_id = uuid.UUID(cert_id)
        self.heat_count = heats


class Details:
    def __init__(self, data: dict[str, Any]) -> None:
        self._data = data

    def to_dict(self) -> dict[str, Any]:
        return dict(self._data)


class FakeStream:
    def __init__(
        self, resource: FakeMillCertifications, op: str, cert_id: str, body: bytes
    ) -> None:
        self._resource = resource
        self._op = op
        self._cert_id = cert_id
        self._body = body

    async def save(self, path: str | os.PathLike[str]) -> SavedFile:
        await self._resource.call(self._op, self._cert_id)
        target = Path(path)
        temp = target.with_name(f".fake-{target.name}.tmp")
        temp.write_bytes(self._body)
        os.replace(temp, target)
        return SavedFile(
            str(target), len(self._body), hashlib.sha256(self._body).hexdigest(), "x"
        )


class FakeMillCertifications:
    def __init__(self, companies: dict[str, list[str]], page_size: int = 7) -> None:
        self.companies = companies
        self.page_size = page_size
        self.calls: Counter[tuple[str, str]] = Counter()
        self.hook: Hook | None = None
        self.mtc_retry: RetryPolicy | None = None
        self.listed = 0
        self.repeat_on_next_page: str | None = None
        self.list_kwargs: list[dict[str, Any]] = []

    async def call(self, op: str, key: str) -> None:
        self.calls[(op, key)] += 1
        if self.hook is not None:
            await self.hook(op, key)

    async def iter_mill_certifications(
        self, company_id: str, **kwargs: Any
    ) -> AsyncIterator[Summary]:
        self.list_kwargs.append(kwargs)
        if company_id not in self.companies:
            raise NotFoundError(
                method="GET",
                path=f"/api/company/{company_id}/mill-certifications",
                status=404,
            )
        ids = self.companies[company_id]
        for start in range(0, len(ids), self.page_size):
            await self.call("list", company_id)
            page = ids[start : start + self.page_size]
            if start and self.repeat_on_next_page:
                page = [self.repeat_on_next_page, *page]
            for cert_id in page:
                self.listed += 1
                yield Summary(cert_id, heats=1 + int(cert_id[0], 16) % 3)

    async def get_mill_certification(self, company_id: str, cert_id: str) -> Details:
        await self.call("details", cert_id)
        return Details(
            {"millCertificationId": cert_id, "companyId": company_id, "heats": ["h"]}
        )

    def download_mill_certification(
        self, company_id: str, cert_id: str, *, export: str, group_by: str | None
    ) -> FakeStream:
        body = f"{export}:{group_by}:{company_id}:{cert_id}".encode()
        return FakeStream(self, str(export), cert_id, body)

    def generate_material_test_certificate(
        self, company_id: str, cert_id: str, *, retry: RetryPolicy | None = None
    ) -> FakeStream:
        self.mtc_retry = retry
        return FakeStream(self, "mtc", cert_id, f"%PDF {cert_id}".encode())


class FakeStats:
    def __init__(self, requests: int, retries: int, token_requests: int | None) -> None:
        self.requests = requests
        self.retries = retries
        self.token_requests = token_requests


class FakeClient:
    """Counts a "request" per call and a retry per ten calls, to test the deltas."""

    def __init__(self, companies: dict[str, list[str]]) -> None:
        self.mill_certifications = FakeMillCertifications(companies)
        self.retry_policy = RetryPolicy()

    @property
    def stats(self) -> FakeStats:
        calls = sum(self.mill_certifications.calls.values())
        return FakeStats(calls + 100, calls // 10 + 7, None)
