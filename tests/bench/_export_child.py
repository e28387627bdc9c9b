"""Part 4, in its own process: export from the sandbox and measure this process.

`python -m tests.bench._export_child --company ID --dir DIR` reads the sandbox's
settings from the GOSMARTER_* environment, exports the company with
`export_certificates` (details and csv), and prints one JSON line: certificates,
seconds, certificates per second, the process's peak RSS and its growth during
the export.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import tempfile
import time

from gosmarter_async import Settings
from gosmarter_async._client import GoSmarterClient
from gosmarter_async.export import export_certificates

from ._memory import current_rss, peak_rss, reset_peak

# details and csv are small JSON and CSV bodies; scans (a zip) and mtc (a rendered
# PDF) would make the 10,000 run spend its minutes in the sandbox's rendering, not
# in the pipeline under test.
KINDS = ("details", "csv")


async def _export(args: argparse.Namespace) -> dict[str, float]:
    settings = Settings.from_env(None)
    async with GoSmarterClient(settings) as client:
        await client.entitlements.list_company_entitlements(args.company)
        with tempfile.TemporaryDirectory(dir=args.dir) as out:
            gc.collect()
            before = current_rss()
            reset_peak()
            began = time.perf_counter()
            result = await export_certificates(
                client, out_dir=out, company_ids=[args.company], include=KINDS
            )
            seconds = time.perf_counter() - began
            growth = peak_rss() - before
    return {
        "certificates": result.certificates,
        "seconds": seconds,
        "certs_per_s": result.certificates / seconds,
        "rss_before_mib": before / 2**20,
        "peak_rss_mib": (before + growth) / 2**20,
        "peak_growth_mib": growth / 2**20,
        "requests": result.requests,
        "retries": result.retries,
    }


def main() -> None:
    """Parse the options, export, print the result as one JSON line."""
    parser = argparse.ArgumentParser(prog="python -m tests.bench._export_child")
    parser.add_argument("--company", required=True)
    parser.add_argument("--dir", default=None)
    print(json.dumps(asyncio.run(_export(parser.parse_args()))))


if __name__ == "__main__":
    main()
