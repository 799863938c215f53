"""Per-variant peak memory from the kernel's resident-set high-water mark.

Writing ``5`` to ``/proc/self/clear_refs`` resets VmHWM (Linux ≥ 4.0), so the
peak while one variant loads or runs can be read without a separate process.
"""

from __future__ import annotations

from pathlib import Path

STATUS = Path("/proc/self/status")
CLEAR_REFS = Path("/proc/self/clear_refs")


def _status_kib(field: str) -> int | None:
    try:
        for line in STATUS.read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
    except (OSError, ValueError, IndexError):
        return None
    return None


def current_rss_bytes() -> int | None:
    kib = _status_kib("VmRSS")
    return None if kib is None else kib * 1024


def peak_rss_bytes() -> int | None:
    kib = _status_kib("VmHWM")
    return None if kib is None else kib * 1024


def reset_peak_rss() -> bool:
    """Reset the high-water mark; False when the kernel does not allow it."""
    try:
        CLEAR_REFS.write_text("5")
    except OSError:
        return False
    return True


class PeakTracker:
    """Peak resident memory a block of work added on top of what was resident before."""

    def __init__(self) -> None:
        self.resettable = reset_peak_rss()
        self.baseline = current_rss_bytes()
        self.added_bytes: int | None = None

    def stop(self) -> int | None:
        peak = peak_rss_bytes()
        if self.resettable and peak is not None and self.baseline is not None:
            self.added_bytes = max(0, peak - self.baseline)
        return self.added_bytes
