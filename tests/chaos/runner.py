"""The export process of the chaos suite: `python -m tests.chaos.runner --out DIR`.

It reads the sandbox's `GOSMARTER_*` variables, exports every certificate of the
user's companies with the public API (as the CLI does), and prints one JSON line on
stdout: the outcome, the client's request, retry and token counts, the duration and
the tasks still pending once the client is closed. Running the export in its own
process lets the suite kill it with SIGKILL, and keeps its warnings and stderr apart.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import sys
import time
from typing import Any

from gosmarter_async import Settings
from gosmarter_async._client import GoSmarterClient
from gosmarter_async.auth import ClientCredentialsTokenProvider
from gosmarter_async.export import BULK_RETRY, BULK_TOKEN_RETRY, export_certificates
from gosmarter_async.export._companies import user_company_ids


def _parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m tests.chaos.runner")
    parser.add_argument("--out", required=True, help="the export directory")
    parser.add_argument("--concurrency", type=int, default=8)
    return parser.parse_args(argv)


async def _export(out: str, concurrency: int) -> dict[str, Any]:
    settings = Settings.from_env(None)
    provider = ClientCredentialsTokenProvider.from_settings(
        settings, retry=BULK_TOKEN_RETRY
    )
    started = time.monotonic()
    outcome = "ok"
    client = GoSmarterClient(settings, token_provider=provider, retry=BULK_RETRY)
    async with provider, client:
        try:
            companies = await user_company_ids(client, provider)
            result = await export_certificates(
                client, out_dir=out, company_ids=companies, concurrency=concurrency
            )
        except Exception as exc:
            outcome = f"{type(exc).__name__}: {exc}"
            certificates = -1
        else:
            certificates = result.certificates
    stats = client.stats
    return {
        "outcome": outcome,
        "certificates": certificates,
        "requests": stats.requests,
        "retries": stats.retries,
        "auth_replays": stats.auth_replays,
        "token_requests": stats.token_requests,
        "duration": time.monotonic() - started,
    }


async def _main(out: str, concurrency: int) -> dict[str, Any]:
    report = await _export(out, concurrency)
    # Anything the SDK left running past aclose() is a leak (issue 6, item 1).
    current = asyncio.current_task()
    pending = [t for t in asyncio.all_tasks() if t is not current and not t.done()]
    report["pending_tasks"] = [t.get_name() for t in pending]
    return report


def main(argv: list[str] | None = None) -> int:
    """Run one export and print its report; exit 0 only when it completed."""
    args = _parse(argv)
    report = asyncio.run(_main(args.out, args.concurrency))
    # Unclosed sessions and connectors show up when their objects are collected.
    gc.collect()
    print(json.dumps(report), flush=True)
    return 0 if report["outcome"] == "ok" else 1


if __name__ == "__main__":
    sys.exit(main())
