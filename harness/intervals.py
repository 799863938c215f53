"""Intervals whose unit of replication is the process round, and the centre-stability rule.

Standard library only: measure (bench side) uses it to decide whether a comparison needs
more rounds, and the report uses it to give the interval it prints; they must agree.

Why rounds, not calls. Each process round runs every variant in a worker process of its
own, back to back, so a round is one state of the machine that both sides of a comparison
saw. Its ratio of medians is one replicate. The machine drifts over minutes (bare loops of
one file ranged 0.50-0.69 ms at batch 1 within half an hour here), and thousands of calls
inside one round say nothing about that drift: resampling them gave +-1 % intervals that
the next run missed by 15-20 %. So the interval is a Student t-interval on the logs of the
per-round ratios: wide with few rounds (as it should be) and narrow only when rounds agree.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

CONFIDENCE = 0.95
# A variant's processes agree when at least MIN_AGREEING of them have a median within this factor
# of the median of their medians. Measured once: one int8-qat process at 33.6 ms per call for its
# whole life, its twin at 19.9 ms (1.7x: both 1.26x from their midpoint, no centre). On an
# AVX2-only Zen 3 the int8 variants' processes ranged up to 1.6x with the float ones within 1.2x.
MAX_PROCESS_DEVIATION = 1.25
MIN_AGREEING = 2 / 3
# Two-sided 97.5 % points of Student's t for 1..30 degrees of freedom (the distribution's
# quantiles, as printed in any table); beyond 30 a Cornish-Fisher expansion is within 1e-4.
_T975 = (
    12.7062, 4.3027, 3.1824, 2.7764, 2.5706, 2.4469, 2.3646, 2.3060, 2.2622, 2.2281,
    2.2010, 2.1788, 2.1604, 2.1448, 2.1314, 2.1199, 2.1098, 2.1009, 2.0930, 2.0860,
    2.0796, 2.0739, 2.0687, 2.0639, 2.0595, 2.0555, 2.0518, 2.0484, 2.0452, 2.0423,
)  # fmt: skip
_Z975 = 1.959964


@dataclass(frozen=True)
class RoundInterval:
    """The geometric mean of per-round ratios with a t-interval; low/high None below 2 rounds."""

    ratio: float
    low: float | None
    high: float | None
    rounds: int

    @property
    def half_width(self) -> float | None:
        """The larger relative distance from the ratio to an end (0.05: +-5 %)."""
        if self.low is None or self.high is None:
            return None
        return max(self.high / self.ratio - 1.0, 1.0 - self.low / self.ratio)


def t_quantile_975(degrees_of_freedom: int) -> float:
    """Student's t at 97.5 % (a 95 % two-sided interval)."""
    if degrees_of_freedom < 1:
        raise ValueError("a t-interval needs at least one degree of freedom (two rounds)")
    if degrees_of_freedom <= len(_T975):
        return _T975[degrees_of_freedom - 1]
    z, n = _Z975, float(degrees_of_freedom)
    return z + (z**3 + z) / (4 * n) + (5 * z**5 + 16 * z**3 + 3 * z) / (96 * n**2)


def median_by_round(timings: Mapping[int, Sequence[float]]) -> dict[int, float]:
    """{round: median seconds} of the rounds that have timings."""
    return {key: statistics.median(values) for key, values in timings.items() if values}


def round_ratios(
    reference: Mapping[int, Sequence[float]], candidate: Mapping[int, Sequence[float]]
) -> list[float]:
    """reference median / candidate median in every round both ran in (> 1: candidate faster)."""
    ref, cand = median_by_round(reference), median_by_round(candidate)
    return [ref[key] / cand[key] for key in sorted(set(ref) & set(cand)) if ref[key] > 0 and cand[key] > 0]


def log_t_interval(ratios: Sequence[float]) -> RoundInterval | None:
    """A 95 % t-interval on log(ratio) over rounds, back-transformed; None with no ratio."""
    logs = [math.log(r) for r in ratios if r > 0]
    if not logs:
        return None
    centre = statistics.fmean(logs)
    if len(logs) < 2:
        return RoundInterval(math.exp(centre), None, None, len(logs))
    margin = t_quantile_975(len(logs) - 1) * statistics.stdev(logs) / math.sqrt(len(logs))
    return RoundInterval(math.exp(centre), math.exp(centre - margin), math.exp(centre + margin), len(logs))


def paired_round_interval(
    reference: Mapping[int, Sequence[float]], candidate: Mapping[int, Sequence[float]]
) -> RoundInterval | None:
    """The speed-up of candidate over reference, paired on the rounds both ran in."""
    return log_t_interval(round_ratios(reference, candidate))


def _off_centre(values: Mapping[int, float]) -> tuple[float, tuple[int, ...]] | None:
    """(median, keys off it) when fewer than MIN_AGREEING of values lie within
    MAX_PROCESS_DEVIATION of their median; None when they have a centre (or are too few)."""
    if len(values) < 2 or min(values.values()) <= 0:
        return None
    centre = statistics.median(values.values())
    outliers = tuple(
        k for k, v in sorted(values.items()) if max(v / centre, centre / v) > MAX_PROCESS_DEVIATION
    )
    if len(values) - len(outliers) >= MIN_AGREEING * len(values):
        return None
    return centre, outliers


@dataclass(frozen=True)
class ProcessDisagreement:
    """A variant's processes that do not agree on one centre: too few lie near their median."""

    medians_s: dict[int, float]  # process -> its median seconds
    centre_s: float  # the median of those medians
    outliers: tuple[int, ...]  # processes further than MAX_PROCESS_DEVIATION from the centre

    @property
    def spread(self) -> float:
        return max(self.medians_s.values()) / min(self.medians_s.values())

    def describe(self, variant: str) -> str:
        """ "FACT: MEANING." with every number in the middle clause, so that a report groups the
        warnings of many variants as one kind and shows each variant's numbers only."""
        shown = ", ".join(f"process {p + 1} at {_ms(self.medians_s[p])} ms" for p in self.outliers)
        return (
            f"{variant}'s processes disagree: {shown} per call, median {_ms(self.centre_s)} ms, "
            f"{self.spread:.2f}x apart in all: the machine changed while it was timed."
        )


def _ms(seconds: float) -> str:
    """Milliseconds to three significant digits, never in e-notation: "12.3", "6490"."""
    value = seconds * 1000.0
    return f"{value:.0f}" if value >= 100 else f"{value:.3g}"


def process_disagreement(timings: Mapping[int, Sequence[float]]) -> ProcessDisagreement | None:
    """The processes off-centre, when fewer than MIN_AGREEING of a variant's processes lie within
    MAX_PROCESS_DEVIATION of the median of their medians (two processes 1.7x apart: both off).

    A note about one variant: whether a claim stands is judged on the rounds' ratios
    (``round_disagreement``), since a drift that slows both sides of a round cancels there.
    """
    medians = median_by_round(timings)
    found = _off_centre(medians)
    return None if found is None else ProcessDisagreement(medians, found[0], found[1])


@dataclass(frozen=True)
class RoundDisagreement:
    """The rounds of one comparison that do not agree on its ratio, and the side that moved."""

    ratios: dict[int, float]  # round -> reference median / candidate median
    centre: float  # the median ratio
    outliers: tuple[int, ...]  # rounds further than MAX_PROCESS_DEVIATION from it
    moved: str  # the side whose process medians spread more
    moved_medians_s: dict[int, float]

    def describe(self) -> str:
        shown = ", ".join(
            f"round {r + 1}: {self.ratios[r]:.2f}x, {self.moved} {self.moved_medians_s[r] * 1000:.3g} ms"
            for r in self.outliers
            if r in self.moved_medians_s
        )
        return (
            f"unstable: the rounds disagree ({len(self.ratios) - len(self.outliers)} of {len(self.ratios)} "
            f"within {MAX_PROCESS_DEVIATION:g}x of the median ratio {self.centre:.2f}x; {shown}): "
            f"{self.moved}'s processes moved while it was timed; close other programs and rerun."
        )


def round_disagreement(
    reference: Mapping[int, Sequence[float]],
    candidate: Mapping[int, Sequence[float]],
    names: tuple[str, str] = ("the reference", "the candidate"),
) -> RoundDisagreement | None:
    """Rounds whose ratios have no centre: fewer than MIN_AGREEING of them within
    MAX_PROCESS_DEVIATION of the median ratio (two rounds 1.7x apart: none).

    Judged on what the verdict uses, each round's ratio of per-process medians, never on the
    tail of single calls (a sub-millisecond call meets every interrupt, p99 ~3x p50 here), and
    never on a drift that slowed both sides of a round alike: pairing cancels that.
    """
    return medians_disagreement(median_by_round(reference), median_by_round(candidate), names)


def medians_disagreement(
    ref: Mapping[int, float],
    cand: Mapping[int, float],
    names: tuple[str, str] = ("the reference", "the candidate"),
) -> RoundDisagreement | None:
    """``round_disagreement`` from each side's median per round."""
    rounds = sorted(set(ref) & set(cand))
    ratios = {r: ref[r] / cand[r] for r in rounds if ref[r] > 0 and cand[r] > 0}
    found = _off_centre(ratios)
    if found is None:
        return None
    spreads = [max(m.values()) / min(m.values()) if m else 1.0 for m in (ref, cand)]
    moved = 0 if spreads[0] >= spreads[1] else 1
    return RoundDisagreement(ratios, found[0], found[1], names[moved], dict((ref, cand)[moved]))


def group_by_round(seconds: Sequence[float], rounds: Sequence[int]) -> dict[int, list[float]]:
    """{round: its seconds}, or {} when the two lists do not line up (older results)."""
    if not rounds or len(rounds) != len(seconds):
        return {}
    grouped: dict[int, list[float]] = {}
    for key, value in zip(rounds, seconds, strict=True):
        grouped.setdefault(key, []).append(value)
    return grouped


# A side is claimed without a magnitude when the rounds agree on it by a two-sided sign test at
# this level: every one of 6 to 8 rounds, 9 of 10 (p = 0.021)...; 5 of 5 (p = 0.0625) or 6 of 7 (0.125) not.
SIGN_TEST_LEVEL = 0.05


@dataclass(frozen=True)
class RoundSide:
    """The side most rounds found faster, when a sign test over the rounds says they agree."""

    faster: bool  # True: the candidate (ratio > 1)
    agreeing: int  # rounds on that side
    rounds: int
    p_value: float  # two-sided sign test
    low: float  # the smallest and largest round ratio
    high: float

    def describe(self, candidate: str, reference: str) -> str:
        side = "faster" if self.faster else "slower"
        share = "every round" if self.agreeing == self.rounds else f"{self.agreeing} of {self.rounds} rounds"
        return (
            f"{candidate} is {side} than {reference} in {share} (round ratios "
            f"{self.low:.2f}×–{self.high:.2f}×, sign test p={self.p_value:.2g})"
        )


def sign_test_p(agreeing: int, rounds: int) -> float:
    """Two-sided exact binomial (p = 1/2) probability of at least ``agreeing`` of ``rounds`` on one side."""
    tail = sum(math.comb(rounds, k) for k in range(agreeing, rounds + 1)) / 2**rounds
    return min(1.0, 2 * tail)


def round_side(ratios: Sequence[float]) -> RoundSide | None:
    """The side the rounds agree on (a sign test over their ratios, ties left out), or None."""
    signs = [r for r in ratios if r > 0 and r != 1.0]
    if len(signs) < 2:
        return None
    faster = sum(r > 1.0 for r in signs)
    agreeing = max(faster, len(signs) - faster)
    p_value = sign_test_p(agreeing, len(signs))
    if p_value >= SIGN_TEST_LEVEL:
        return None
    return RoundSide(faster >= len(signs) - faster, agreeing, len(signs), p_value, min(ratios), max(ratios))
