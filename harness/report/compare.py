"""What changed between two result sets (a new image, a new host), pyperf ``compare_to`` style.

Results are matched on (host, arch, emulated, variant, input shape, batch,
threads). Any left over are then matched across hosts when exactly one result
on each side has the same (arch, emulated, variant, shape, batch, threads): that is how a
new machine is compared with the old one. Emulated and native results are
never matched with each other.
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import dataclass, field

from harness.report import fmt
from harness.report.load import LoadedResults, result_key
from harness.report.stats import FASTER, SLOWER, RatioInterval, invert, median_ratio_interval
from harness.schema import SEED_INPUT_SIZE, STATUS_OK, VARIANTS, Result

NOT_SIGNIFICANT = "not significant"
NOT_COMPARABLE = "not comparable"


@dataclass
class Change:
    """One measurement in the old and the new set."""

    variant: str
    arch: str
    emulated: bool
    batch: int
    threads: int
    old_host: str
    new_host: str
    old_p50_s: float | None
    new_p50_s: float | None
    change: RatioInterval | None  # median(old) / median(new): > 1 means the new set is faster
    outcome: str  # stats.FASTER / SLOWER, NOT_SIGNIFICANT or NOT_COMPARABLE
    summary: str
    old_top1: float | None = None
    new_top1: float | None = None
    input_size: int = SEED_INPUT_SIZE

    @property
    def where(self) -> str:
        host = self.new_host if self.old_host == self.new_host else f"{self.old_host} → {self.new_host}"
        mode = ", emulated" if self.emulated else ""
        return f"{self.arch}{mode} on {host}"


@dataclass
class Comparison:
    """Every matched change, plus what exists on only one side."""

    old_sources: list[str]
    changes: list[Change]
    only_old: list[str] = field(default_factory=list)
    only_new: list[str] = field(default_factory=list)
    file_warnings: list[str] = field(default_factory=list)


def compare_results(old: LoadedResults, new: LoadedResults, old_sources: Sequence[str]) -> Comparison:
    """Match the two sets and say, per match, whether the speed changed significantly."""
    old_by_key = {result_key(r): r for r in old.results}
    new_by_key = {result_key(r): r for r in new.results}
    pairs = [(old_by_key.pop(key), new_by_key.pop(key)) for key in sorted(old_by_key.keys() & new_by_key)]
    pairs += _match_across_hosts(old_by_key, new_by_key)
    changes = [_change(a, b) for a, b in pairs]
    order = list(VARIANTS)
    changes.sort(
        key=lambda c: (
            c.emulated is not False,
            c.emulated is None,
            c.arch,
            c.new_host,
            c.input_size,
            c.batch,
            c.threads,
            order.index(c.variant),
        )
    )
    return Comparison(
        old_sources=list(old_sources),
        changes=changes,
        only_old=sorted(_describe(r) for r in old_by_key.values()),
        only_new=sorted(_describe(r) for r in new_by_key.values()),
        file_warnings=[f"old set: {w}" for w in [*old.file_warnings, *old.model_notes]],
    )


def _match_across_hosts(old_left: dict, new_left: dict) -> list[tuple[Result, Result]]:
    """Pair leftovers that are unique per (arch, emulated, variant, scenario, shape, batch, threads);
    remove them."""

    def hostless(key: tuple) -> tuple:
        return key[1:]

    def unique(left: dict) -> dict:
        counts: dict[tuple, list] = {}
        for key in left:
            counts.setdefault(hostless(key), []).append(key)
        return {k: keys[0] for k, keys in counts.items() if len(keys) == 1}

    old_unique, new_unique = unique(old_left), unique(new_left)
    pairs = []
    for shared in sorted(old_unique.keys() & new_unique):
        pairs.append((old_left.pop(old_unique[shared]), new_left.pop(new_unique[shared])))
    return pairs


def _change(old: Result, new: Result) -> Change:
    change = Change(
        variant=new.variant,
        arch=new.arch,
        emulated=new.emulated,
        batch=new.batch,
        threads=new.threads,
        old_host=old.host,
        new_host=new.host,
        old_p50_s=_median(old),
        new_p50_s=_median(new),
        change=None,
        outcome=NOT_COMPARABLE,
        summary="",
        old_top1=old.top1,
        new_top1=new.top1,
        input_size=new.input_size,
    )
    bad = [f"{side} is {r.status}" for side, r in (("old", old), ("new", new)) if r.status != STATUS_OK]
    if not bad:
        change.change = median_ratio_interval(old.timings_s, new.timings_s)
        if change.change is None:
            bad = ["too few timings for an interval"]
    if bad:
        change.summary = f"{NOT_COMPARABLE}: {', '.join(bad)}"
        return change
    interval = change.change
    direction = interval.direction
    if direction == FASTER:
        change.outcome, change.summary = FASTER, f"{fmt.ratio(interval)} faster"
    elif direction == SLOWER:
        change.outcome, change.summary = SLOWER, f"{fmt.ratio(invert(interval))} slower"
    else:
        change.outcome, change.summary = NOT_SIGNIFICANT, f"{NOT_SIGNIFICANT} ({fmt.ratio(interval)})"
    return change


def _median(result: Result) -> float | None:
    return statistics.median(result.timings_s) if result.timings_s else result.p50_s


def _describe(result: Result) -> str:
    machine = f"{result.arch}{', emulated' if result.emulated else ''} on {result.host}"
    shape = f" at {fmt.shape(result.input_size)}" if result.input_size != SEED_INPUT_SIZE else ""
    return f"{result.variant}{shape} batch {result.batch}, {result.threads} threads ({machine})"
