"""The page iterators generated for list operations."""

from __future__ import annotations

from typing import Any

from gosmarter_async._generated import (
    MillCertificationsResource,
    MillCertificationStatus,
)
from gosmarter_async._request import RequestSpec
from tests.generated.fakes import FakeTransport
from tests.generated.payloads import COMPANY_ID, summary


def pages_of(total: int, *, reported_total: int | None = None) -> Any:
    """Answer listMillCertifications from `total` items, by the page asked for."""

    def answer(spec: RequestSpec[Any]) -> dict[str, Any]:
        params = dict(spec.params)
        page, size = int(params["page"]), int(params["pageSize"])
        start = (page - 1) * size
        items = [summary(i) for i in range(start, min(start + size, total))]
        count = total if reported_total is None else reported_total
        return {"items": items, "page": page, "pageSize": size, "totalCount": count}

    return answer


async def test_iter_mill_certifications_walks_every_page() -> None:
    transport = FakeTransport(pages_of(7))
    resource = MillCertificationsResource(transport)

    items = [
        item
        async for item in resource.iter_mill_certifications(COMPANY_ID, page_size=3)
    ]

    assert list(range(7)) == [item.heat_count for item in items]
    assert ["1", "2", "3"] == [dict(spec.params)["page"] for spec in transport.specs]


async def test_iter_mill_certifications_stops_at_an_exact_last_page() -> None:
    transport = FakeTransport(pages_of(6))
    resource = MillCertificationsResource(transport)

    items = [
        item
        async for item in resource.iter_mill_certifications(COMPANY_ID, page_size=3)
    ]

    assert 6 == len(items)
    assert 2 == len(transport.specs)


async def test_iter_mill_certifications_stops_on_an_empty_page() -> None:
    transport = FakeTransport(pages_of(4, reported_total=1000))
    resource = MillCertificationsResource(transport)

    items = [
        item
        async for item in resource.iter_mill_certifications(COMPANY_ID, page_size=2)
    ]

    assert 4 == len(items)
    assert 3 == len(transport.specs)


async def test_iter_mill_certifications_asks_for_100_per_page_with_filters() -> None:
    transport = FakeTransport(pages_of(0))
    resource = MillCertificationsResource(transport)

    items = [
        item
        async for item in resource.iter_mill_certifications(
            COMPANY_ID, status=MillCertificationStatus.FAILED, timeout=1.0
        )
    ]

    assert [] == items
    assert (("page", "1"), ("pageSize", "100"), ("status", "failed")) == (
        transport.spec.params
    )
