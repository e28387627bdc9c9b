"""A process's resident memory: now, and the peak since a reset.

Linux keeps the peak (VmHWM) per process, and writing 5 to /proc/self/clear_refs
resets it to the current RSS (proc(5), since Linux 4.0): so a child can measure the
peak of one phase, free of what its imports once touched. Elsewhere the peak falls
back to `ru_maxrss`, which cannot be reset, and is then an upper bound.
"""

from __future__ import annotations

import resource
import sys
from pathlib import Path

__all__ = ["current_rss", "peak_rss", "reset_peak"]

_STATUS = Path("/proc/self/status")
_CLEAR_REFS = Path("/proc/self/clear_refs")


def _status_bytes(field: str) -> int | None:
    try:
        lines = _STATUS.read_text().splitlines()
    except OSError:
        return None
    for line in lines:
        if line.startswith(field + ":"):
            return int(line.split()[1]) * 1024
    return None


def current_rss() -> int:
    """This process's resident set size now, in bytes."""
    rss = _status_bytes("VmRSS")
    # Off Linux, the peak so far stands in: growth measured from it is understated.
    return peak_rss() if rss is None else rss


def reset_peak() -> bool:
    """Reset the peak RSS to the current RSS; False where that is not possible."""
    try:
        _CLEAR_REFS.write_text("5")
    except OSError:
        return False
    return True


def peak_rss() -> int:
    """The peak RSS since the last reset (or since start), in bytes."""
    peak = _status_bytes("VmHWM")
    if peak is None:
        # ru_maxrss is in KiB on Linux, bytes on macOS.
        scale = 1 if sys.platform == "darwin" else 1024
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * scale
    return peak
