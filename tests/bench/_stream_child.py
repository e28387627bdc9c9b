"""Part 3, in its own process: save a large export and measure this process's RSS.

`python -m tests.bench._stream_child --url URL --company ID --cert ID --dir DIR`
warms the client up (token, connection), resets the peak RSS, downloads the
static server's `--download-bytes` body with `stream.save()`, and prints one JSON
line: bytes, seconds, MiB/s, the RSS before and the peak growth during the save.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import tempfile
import time
from pathlib import Path

from gosmarter_async._client import GoSmarterClient
from gosmarter_async._generated.models import DownloadExport

from ._clients import OursClient
from ._memory import current_rss, peak_rss, reset_peak


async def _save(client: GoSmarterClient, args: argparse.Namespace) -> dict[str, float]:
    await client.entitlements.list_company_entitlements(args.company)
    certs = client.mill_certifications
    with tempfile.TemporaryDirectory(dir=args.dir) as folder:
        target = Path(folder) / "export.zip"
        gc.collect()
        before = current_rss()
        exact = reset_peak()
        began = time.perf_counter()
        stream = certs.download_mill_certification(
            args.company, args.cert, export=DownloadExport.SCANS
        )
        saved = await stream.save(target)
        seconds = time.perf_counter() - began
        peak = peak_rss()
    return {
        "bytes": saved.size,
        "seconds": seconds,
        "mib_per_s": saved.size / seconds / 2**20,
        "rss_before_mib": before / 2**20,
        "peak_growth_mib": (peak - before) / 2**20,
        "peak_exact": exact,
    }


async def _main(args: argparse.Namespace) -> dict[str, float]:
    ours = OursClient(args.url)
    try:
        return await _save(ours.client, args)
    finally:
        await ours.aclose()


def main() -> None:
    """Parse the options, download, print the result as one JSON line."""
    parser = argparse.ArgumentParser(prog="python -m tests.bench._stream_child")
    parser.add_argument("--url", required=True)
    parser.add_argument("--company", required=True)
    parser.add_argument("--cert", required=True)
    parser.add_argument("--dir", default=None)
    print(json.dumps(asyncio.run(_main(parser.parse_args()))))


if __name__ == "__main__":
    main()
