"""How each variant scales with threads, and how many it really used.

Only runs that measured several thread counts on one native machine get a
scaling table. The speed-up over the fewest threads is a ratio of medians
across measure passes run one after the other (not paired within rounds);
"used" is CPU time / wall time over the timed calls, recorded in every result.
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import dataclass

from harness.schema import SEED_INPUT_SIZE, STATUS_OK, VARIANTS, Result


@dataclass(frozen=True)
class ThreadPoint:
    """One variant at one batch and thread count."""

    threads: int
    p50_s: float
    parallelism: float | None  # CPU time / wall time over the timed calls


@dataclass(frozen=True)
class ScalingRow:
    """One variant at one input shape and batch on one machine, at every thread count measured."""

    host: str
    arch: str
    variant: str
    batch: int
    points: tuple[ThreadPoint, ...]  # by thread count
    input_size: int = SEED_INPUT_SIZE

    def speedup(self, point: ThreadPoint) -> float:
        """p50 at the fewest threads over p50 at this point's."""
        return self.points[0].p50_s / point.p50_s if point.p50_s > 0 else float("nan")


def build_scaling(results: Sequence[Result]) -> list[ScalingRow]:
    """Rows for every native (host, arch) with more than one thread count, in table order."""
    groups: dict[tuple[str, str, str, int, int], list[Result]] = {}
    for result in results:
        if (
            result.emulated is False
            and result.status == STATUS_OK
            and result.timings_s
            and not result.scenario
        ):
            key = (result.host, result.arch, result.variant, result.input_size, result.batch)
            groups.setdefault(key, []).append(result)
    order = {name: index for index, name in enumerate(VARIANTS)}
    rows = []
    for (host, arch, variant, input_size, batch), members in sorted(
        groups.items(),
        key=lambda item: (item[0][0], item[0][1], item[0][3], order.get(item[0][2], len(order)), item[0][4]),
    ):
        if len({r.threads for r in members}) < 2:
            continue
        points = tuple(
            ThreadPoint(r.threads, statistics.median(r.timings_s), r.effective_parallelism)
            for r in sorted(members, key=lambda r: r.threads)
        )
        rows.append(ScalingRow(host, arch, variant, batch, points, input_size))
    return rows


def thread_counts(rows: Sequence[ScalingRow]) -> list[int]:
    return sorted({point.threads for row in rows for point in row.points})
