"""The export against the in-process sandbox: real HTTP, real faults."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest

from gosmarter_async import RetryPolicy
from gosmarter_async._client import GoSmarterClient
from gosmarter_async.auth import ClientCredentialsTokenProvider
from gosmarter_async.export import (
    CertificateRecord,
    export_certificates,
    verify,
)
from gosmarter_async.export._companies import user_company_ids
from gosmarter_async.sandbox import Faults, Sandbox

# Generous attempts and short waits: the fault rates below fail about one request
# in four, and the test should take seconds, not minutes.
RETRY = RetryPolicy(max_attempts=10, initial_backoff=0.01, max_backoff=0.1, deadline=30)

# 5xx, 429 and dropped connections on about a third of the requests, a token that
# lives 2 s, and enough latency that the export outlives a few tokens.
FAULTS = Faults(
    error_rate=0.1,
    throttle_rate=0.1,
    retry_after=0,
    drop_rate=0.1,
    latency=0.1,
    token_lifetime=2,
    seed=4,
)
NO_MTC = ("details", "csv", "scans")


def tree(out: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(out)): p.read_bytes()
        for p in sorted(out.rglob("*"))
        if p.is_file() and p.name != "manifest.jsonl"
    }


def journal_ids(out: Path) -> list[str]:
    lines = (out / "manifest.jsonl").read_bytes().splitlines()
    return [json.loads(line)["id"] for line in lines]


async def sandbox_cert_ids(sandbox: Sandbox) -> list[str]:
    async with GoSmarterClient(sandbox.settings) as client:
        pages = client.mill_certifications.iter_mill_certifications(
            sandbox.company_ids[0]
        )
        return [str(s.mill_certification_id) async for s in pages]


async def export(
    sandbox: Sandbox, out: Path, include: tuple[str, ...] = NO_MTC, **kwargs: object
) -> object:
    async with GoSmarterClient(sandbox.settings, retry=RETRY) as client:
        return await export_certificates(
            client,
            out_dir=out,
            company_ids=sandbox.company_ids,
            include=include,
            **kwargs,  # type: ignore[arg-type]
        )


async def clean_export(out: Path, include: tuple[str, ...] = NO_MTC) -> None:
    async with Sandbox(seed=3, companies=1, certificates_per_company=30) as sandbox:
        await export(sandbox, out, include)


async def test_export_with_faults_is_complete_once_and_identical_to_without(
    tmp_path: Path,
) -> None:
    clean, faulty = tmp_path / "clean", tmp_path / "faulty"
    await clean_export(clean)

    async with Sandbox(
        seed=3, companies=1, certificates_per_company=30, faults=FAULTS
    ) as sandbox:
        await export(sandbox, faulty)
        expected_ids = await sandbox_cert_ids(sandbox)
        stats = sandbox.stats

    assert sorted(expected_ids) == sorted(journal_ids(faulty))
    assert tree(clean) == tree(faulty)
    assert verify(faulty).ok
    assert stats.faults["error"] > 0
    assert stats.faults["throttle"] > 0
    assert stats.faults["drop_before"] + stats.faults["drop_midway"] > 0
    assert stats.token_requests >= 2


async def test_export_with_faults_includes_the_mtc_render(tmp_path: Path) -> None:
    async with Sandbox(
        seed=3, companies=1, certificates_per_company=30, faults=FAULTS
    ) as sandbox:
        await export(sandbox, tmp_path, include=("mtc",))

    assert verify(tmp_path).ok


class StopAfter:
    def __init__(self, count: int) -> None:
        self.count = count
        self.done = 0
        self.reached = asyncio.Event()

    def listed(self, total: int) -> None:
        pass

    def completed(self, record: CertificateRecord, *, skipped: bool) -> None:
        self.done += 1
        if self.done >= self.count:
            self.reached.set()


async def test_export_killed_midway_and_rerun_completes_without_duplicates(
    tmp_path: Path,
) -> None:
    clean, resumed = tmp_path / "clean", tmp_path / "resumed"
    await clean_export(clean)
    progress = StopAfter(10)

    async with Sandbox(seed=3, companies=1, certificates_per_company=30) as sandbox:
        task = asyncio.create_task(
            export(sandbox, resumed, concurrency=4, progress=progress)
        )
        async with asyncio.timeout(10):
            await progress.reached.wait()
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        interrupted = len(journal_ids(resumed))
        result = await export(sandbox, resumed)

    assert 10 <= interrupted < 30
    assert (30, interrupted) == (result.certificates, result.skipped)  # type: ignore[attr-defined]
    assert 30 == len(set(journal_ids(resumed))) == len(journal_ids(resumed))
    assert tree(clean) == tree(resumed)


async def test_user_company_ids_lists_every_company_of_the_token_user() -> None:
    async with Sandbox(seed=3, companies=3, certificates_per_company=1) as sandbox:
        settings = sandbox.settings
        provider = ClientCredentialsTokenProvider.from_settings(settings)
        async with provider, GoSmarterClient(settings, token_provider=provider) as c:
            ids = await user_company_ids(c, provider)

        assert sorted(sandbox.company_ids) == sorted(ids)
