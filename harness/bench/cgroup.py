"""CPU throttling of this process's cgroup, read from ``cpu.stat``.

A CFS quota (``docker run --cpus``) throttles a cgroup that uses more than its
share in a period; spinning thread pools do exactly that, and a throttled call
is slow for reasons that have nothing to do with the model. cgroup v2 keeps
the counters in ``/sys/fs/cgroup/cpu.stat`` (``throttled_usec``), v1 in the
cpu controller's folder (``throttled_time``, nanoseconds).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

CPU_STAT_PATHS = (
    Path("/sys/fs/cgroup/cpu.stat"),  # v2 (a container sees its own cgroup at the root)
    Path("/sys/fs/cgroup/cpu/cpu.stat"),  # v1
    Path("/sys/fs/cgroup/cpu,cpuacct/cpu.stat"),  # v1, combined mount
)


@dataclass(frozen=True)
class CpuThrottling:
    """Counters of one cgroup at one moment (or the difference of two moments)."""

    periods: int
    throttled_periods: int
    throttled_s: float

    def since(self, earlier: CpuThrottling) -> CpuThrottling:
        return CpuThrottling(
            self.periods - earlier.periods,
            self.throttled_periods - earlier.throttled_periods,
            self.throttled_s - earlier.throttled_s,
        )


def parse_cpu_stat(text: str) -> CpuThrottling | None:
    """The throttling counters of a ``cpu.stat`` file's text; None when it has none."""
    values: dict[str, int] = {}
    for line in text.splitlines():
        key, _, value = line.partition(" ")
        if value.strip().isdigit():
            values[key] = int(value)
    if "nr_periods" not in values or "nr_throttled" not in values:
        return None
    if "throttled_usec" in values:
        throttled_s = values["throttled_usec"] / 1e6
    else:
        throttled_s = values.get("throttled_time", 0) / 1e9
    return CpuThrottling(values["nr_periods"], values["nr_throttled"], throttled_s)


def read_throttling(paths: tuple[Path, ...] = CPU_STAT_PATHS) -> CpuThrottling | None:
    """This cgroup's counters now; None where no cpu.stat with them is readable."""
    for path in paths:
        try:
            parsed = parse_cpu_stat(path.read_text())
        except OSError:
            continue
        if parsed is not None:
            return parsed
    return None


MEMORY_EVENT_PATHS = (
    Path("/sys/fs/cgroup/memory.events"),  # v2: "oom_kill N"
    Path("/sys/fs/cgroup/memory/memory.oom_control"),  # v1: "oom_kill N" (Linux >= 4.13)
)
MEMORY_LIMIT_PATHS = (
    Path("/sys/fs/cgroup/memory.max"),  # v2: bytes or "max"
    Path("/sys/fs/cgroup/memory/memory.limit_in_bytes"),  # v1: a huge number when unlimited
)
NO_LIMIT_BYTES = 2**62


def read_oom_kills(paths: tuple[Path, ...] = MEMORY_EVENT_PATHS) -> int | None:
    """How many processes the kernel's OOM killer has killed in this cgroup; None if unknown."""
    for path in paths:
        try:
            for line in path.read_text().splitlines():
                key, _, value = line.partition(" ")
                if key == "oom_kill" and value.strip().isdigit():
                    return int(value)
        except OSError:
            continue
    return None


def memory_limit_bytes(paths: tuple[Path, ...] = MEMORY_LIMIT_PATHS) -> int | None:
    """This cgroup's memory limit; None when there is none (or it cannot be read)."""
    for path in paths:
        try:
            text = path.read_text().strip()
        except OSError:
            continue
        if text.isdigit() and int(text) < NO_LIMIT_BYTES:
            return int(text)
        return None
    return None


def oom_reason(limit_bytes: int | None) -> str:
    """The same words the host uses for a container killed at its memory limit."""
    where = f"the {limit_bytes / 2**30:.1f} GiB memory limit" if limit_bytes else "the memory limit"
    return f"OOM-killed at {where} (raise --memory)"
