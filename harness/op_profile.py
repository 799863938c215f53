"""Where one call's time goes: a per-op (or per-stage) profile, shared by the bench and the report.

A runner builds an ``OpProfile`` from a profiled pass of its own (a second session,
compiled model or interpreter: never the timed one), and the result stores it as a
plain dict. Rows are grouped by op type (or by stage, for runtimes that offer no
per-op timer) and by the precision their kernel ran in, so "time outside integer
kernels" is a sum of rows, not a guess.

Pure standard library: both halves import it.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

# What a row's kernel computed in. "convert" is quantize/dequantize/requantize work;
# "int8" an int8 kernel; everything else (fp32, bf16, fp16, int16, "mixed" for a stage that
# holds both) is outside the integer kernels.
PRECISION_INT8 = "int8"
PRECISION_INT16 = "int16"  # LiteRT 16x8: int16 activations, int8 weights (no int8 kernel)
PRECISION_CONVERT = "convert"
PRECISION_FP32 = "fp32"
PRECISION_MIXED = "mixed"

METHOD_PER_OP = "per-op"  # the runtime's own per-operator timer
METHOD_STAGES = "stage-prefix"  # stage time = prefix model up to its end minus the one before
METHOD_NONE = "none"  # no timer: only the kernel path is known

# The profiled ops must account for this share of the profiled call's wall time, or the
# profile says what is missing (scheduling, the Python call, a runtime's untimed work).
COVERAGE_TOLERANCE = 0.10


@dataclass(frozen=True)
class OpRow:
    """One op type (or stage) at one precision: its time per call and how many ran."""

    name: str  # op type ("QLinearConv", "Convolution") or stage ("stem", "block1", ...)
    precision: str  # PRECISION_* or a runtime's own name ("bf16")
    ms: float  # per call
    count: int  # ops of this kind per call (layers in a stage)
    kernel: str = ""  # the runtime's kernel or provider name, when it gives one


@dataclass(frozen=True)
class OpProfile:
    """A profiled pass at one batch: rows, the wall time they should add up to, how it was taken."""

    method: str
    tool: str  # e.g. "onnxruntime 1.22.0 profiler (enable_profiling)"
    batch: int
    calls: int  # profiled calls the rows average over (warm-up calls excluded)
    wall_ms: float  # per profiled call, by the clock around the call
    rows: tuple[OpRow, ...] = ()
    note: str = ""  # what the numbers are and what they leave out, in one sentence
    missing: str = ""  # set when the rows do not account for the wall time (within 10 %)

    @property
    def accounted_ms(self) -> float:
        return sum(row.ms for row in self.rows)

    def share(self, row: OpRow) -> float:
        """The row's share of the call's wall time."""
        return row.ms / self.wall_ms if self.wall_ms > 0 else 0.0

    def outside_integer_share(self) -> float:
        """Share of the call's wall time in rows that are not integer kernels (convert included)."""
        return sum(self.share(row) for row in self.rows if row.precision != PRECISION_INT8)

    def share_by_precision(self) -> dict[str, float]:
        shares: dict[str, float] = {}
        for row in self.rows:
            shares[row.precision] = shares.get(row.precision, 0.0) + self.share(row)
        return shares

    def to_dict(self) -> dict[str, Any]:
        raw = asdict(self)
        raw["rows"] = [asdict(row) for row in self.rows]
        raw["accounted_ms"] = round(self.accounted_ms, 4)
        return raw

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> OpProfile:
        rows = tuple(OpRow(**row) for row in raw.get("rows", ()))
        known = {
            name: raw[name]
            for name in ("method", "tool", "batch", "calls", "wall_ms", "note", "missing")
            if name in raw
        }
        return cls(rows=rows, **known)


def coverage_gap(wall_ms: float, accounted_ms: float) -> str:
    """ "" when the rows account for the wall time within COVERAGE_TOLERANCE, else what is missing."""
    if wall_ms <= 0:
        return "no wall time was measured"
    gap = (wall_ms - accounted_ms) / wall_ms
    if abs(gap) <= COVERAGE_TOLERANCE:
        return ""
    if gap > 0:
        return (
            f"the profiled ops account for {accounted_ms:.3g} of {wall_ms:.3g} ms per call "
            f"({gap:.0%} unaccounted: time between operators, the call's own overhead)"
        )
    return (
        f"the profiled ops add up to {accounted_ms:.3g} ms, more than the call's "
        f"{wall_ms:.3g} ms (ops overlapped)"
    )


def grouped(rows: list[OpRow]) -> tuple[OpRow, ...]:
    """Rows of one (name, precision, kernel) summed, largest first."""
    totals: dict[tuple[str, str, str], list[float]] = {}
    for row in rows:
        entry = totals.setdefault((row.name, row.precision, row.kernel), [0.0, 0])
        entry[0] += row.ms
        entry[1] += row.count
    merged = [
        OpRow(name, precision, round(ms, 4), int(count), kernel)
        for (name, precision, kernel), (ms, count) in totals.items()
    ]
    return tuple(sorted(merged, key=lambda row: -row.ms))


# A profiled pass: a few calls to warm the profiled session (first calls allocate and
# pick kernels), then calls until PROFILE_MIN_SECONDS are profiled, at least
# PROFILE_MIN_CALLS and at most PROFILE_MAX_CALLS (a batch-1 call can take 0.1 ms).
WARMUP_CALLS = 2
PROFILE_MIN_SECONDS = 0.3
PROFILE_MIN_CALLS = 3
PROFILE_MAX_CALLS = 50


def warm_up(call: Callable[[], object], calls: int = WARMUP_CALLS) -> None:
    """Run ``call`` a few times, untimed and (for callers that read a profile) not counted."""
    for _ in range(calls):
        call()


def profiled_calls(call: Callable[[], object]) -> list[float]:
    """Wall seconds of each profiled call, by ``time.perf_counter()`` around the call alone."""
    walls: list[float] = []
    while len(walls) < PROFILE_MIN_CALLS or (
        sum(walls) < PROFILE_MIN_SECONDS and len(walls) < PROFILE_MAX_CALLS
    ):
        started = time.perf_counter()
        call()
        walls.append(time.perf_counter() - started)
    return walls


def per_op_profile(
    tool: str, batch: int, walls: list[float], rows: tuple[OpRow, ...], note: str
) -> OpProfile:
    """A runtime timer's profile: wall time per call from ``walls`` (seconds of each profiled
    call), and what the rows miss of it (``coverage_gap``)."""
    wall_ms = 1000 * sum(walls) / len(walls)
    return OpProfile(
        method=METHOD_PER_OP,
        tool=tool,
        batch=batch,
        calls=len(walls),
        wall_ms=round(wall_ms, 4),
        rows=rows,
        note=note,
        missing=coverage_gap(wall_ms, sum(row.ms for row in rows)),
    )
