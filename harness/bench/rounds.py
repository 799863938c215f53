"""When measure adds process rounds: the comparisons a reader acts on, until they are narrow.

The base rounds time every variant. After them, the comparisons that the report turns
into claims (each runtime's verdict pair and the headline pair, at every batch) are
checked with the report's own interval (``harness.intervals``); while one is wider than
the target, measure runs another round of just the variants in wide comparisons, at
just those batches, until all are narrow, the rounds' time budget is spent, or the round
limit is reached. Why it stopped is recorded in every result.
"""

from __future__ import annotations

import statistics
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from harness import schema
from harness.intervals import paired_round_interval, round_disagreement
from harness.runtime_registry import FLOAT32, INT8_PRECISIONS, is_candidate, runtimes

# The round policy of measure run by hand and of the quick profile's native pass: rounds added up to
# 10 in all while a watched interval is wider than +-5 %, within 90 s (measured on a 2-core Zen 4:
# 7 rounds in 90 s at batch 1 and 64 for the built-in ResNet-50's 13 variants).
DEFAULT_MAX_ROUNDS = 10
DEFAULT_ROUNDS_BUDGET_S = 90.0

RoundTimings = Mapping[tuple[str, int], Mapping[int, list[float]]]  # (variant, batch) -> round -> s


@dataclass(frozen=True)
class RoundPolicy:
    """How far measure goes to earn a verdict (the profile sets it)."""

    max_rounds: int  # process rounds in all, at most (the base rounds included)
    budget_s: float  # seconds that rounds after the base ones may take, at most
    target_half_width: float = 0.05  # an interval within +-5 % of its ratio is narrow enough

    @property
    def adaptive(self) -> bool:
        return self.budget_s > 0


@dataclass(frozen=True)
class Comparison:
    """Reference vs candidate at one batch: one claim the report makes."""

    reference: str
    candidate: str
    batch: int

    @property
    def variants(self) -> tuple[str, str]:
        return (self.reference, self.candidate)


def verdict_pairs(timed: Sequence[str]) -> list[tuple[str, str]]:
    """(float baseline, int8 variant) of each runtime's verdict, among the timed variants, and
    (baseline, candidate) of every tuning candidate timed (``quantbench tune``: each is a claim)."""
    chosen = (runtime.verdict_variant(timed) for runtime in runtimes())
    pairs = [(v.baseline, v.name) for v in chosen if v is not None and v.baseline in timed]
    for name in timed:
        baseline = schema.variant_info(name)[2]
        if is_candidate(name) and baseline in timed:
            pairs.append((baseline, name))
    return pairs


def near_fastest(
    names: Sequence[str], medians: Mapping[str, float], by_round: Mapping[int, object]
) -> list[str]:
    """The fastest of names by median and every one not measurably slower than it: its paired
    interval against the fastest touches 1 (or there is none yet). The headline may pick any of
    them in the end, so each needs the rounds behind it."""
    timed = [name for name in names if name in medians]
    if not timed:
        return []
    fastest = min(timed, key=medians.__getitem__)
    near = [fastest]
    for name in timed:
        if name == fastest:
            continue
        interval = paired_round_interval(by_round.get(name) or {}, by_round.get(fastest) or {})
        if interval is None or interval.low is None or interval.low <= 1.0:
            near.append(name)
    return near


def watched(timed: Sequence[str], batches: Sequence[int], by_round: RoundTimings) -> list[Comparison]:
    """Every comparison a claim rests on: verdict pairs, and at each batch the headline's pair with
    every int8 and float32 variant within the noise of the fastest (``near_fastest``)."""
    comparisons = []
    for batch in batches:
        pairs = verdict_pairs(timed)
        medians = {
            v: statistics.median([t for group in by_round[(v, batch)].values() for t in group])
            for v in timed
            if by_round.get((v, batch))
        }
        rounds = {v: by_round.get((v, batch)) or {} for v in timed}
        int8 = near_fastest(
            [v for v in timed if schema.variant_info(v)[1] in INT8_PRECISIONS], medians, rounds
        )
        floats = near_fastest([v for v in timed if schema.variant_info(v)[1] == FLOAT32], medians, rounds)
        for pair in ((f, i) for f in floats for i in int8):
            if pair not in pairs:
                pairs.append(pair)
        comparisons += [Comparison(ref, cand, batch) for ref, cand in pairs]
    return comparisons


def too_wide(
    comparisons: Sequence[Comparison], by_round: RoundTimings, policy: RoundPolicy
) -> list[Comparison]:
    """The comparisons whose interval is missing or wider than the target, or whose rounds'
    ratios have no centre (more rounds can show where it is)."""
    wide = []
    for comparison in comparisons:
        sides = [by_round.get((v, comparison.batch)) or {} for v in comparison.variants]
        interval = paired_round_interval(sides[0], sides[1])
        narrow = interval is not None and interval.half_width is not None
        narrow = narrow and interval.half_width <= policy.target_half_width
        if not narrow or round_disagreement(sides[0], sides[1]):
            wide.append(comparison)
    return wide


def next_round(wide: Sequence[Comparison]) -> dict[str, tuple[int, ...]]:
    """{variant: its batches} that the next round times: each side of each wide comparison."""
    batches: dict[str, set[int]] = {}
    for comparison in wide:
        for variant in comparison.variants:
            batches.setdefault(variant, set()).add(comparison.batch)
    return {variant: tuple(sorted(found)) for variant, found in batches.items()}


def describe(comparisons: Sequence[Comparison]) -> str:
    """ "tflite-int8 vs tflite-fp32 at batch 1, ..." for the log and the stop reason."""
    return ", ".join(f"{c.candidate} vs {c.reference} at batch {c.batch}" for c in comparisons)
