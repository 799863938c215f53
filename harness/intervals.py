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
        shown = ", ".join(f"process {p + 1} at {self.medians_s[p] * 1000:.3g} ms" for p in self.outliers)
        return (
            f"unstable: {variant}'s processes disagree: {shown} per call, "
            f"{len(self.medians_s) - len(self.outliers)} of {len(self.medians_s)} processes within "
            f"{MAX_PROCESS_DEVIATION:g}x of their median {self.centre_s * 1000:.3g} ms ({self.spread:.2f}x "
            "apart in all): the machine changed under it; close other programs and rerun."
        )


def process_disagreement(timings: Mapping[int, Sequence[float]]) -> ProcessDisagreement | None:
    """The processes off-centre, when fewer than MIN_AGREEING of a variant's processes lie within
    MAX_PROCESS_DEVIATION of the median of their medians (two processes 1.7x apart: both off).

    Judged on the centres a verdict uses (per-process medians), never on the tail: a
    sub-millisecond call meets every interrupt, so its p99 is 3x its p50 on a quiet machine.
    One outlier among many processes leaves a centre, and its round widens the interval.
    """
    medians = median_by_round(timings)
    if len(medians) < 2 or min(medians.values()) <= 0:
        return None
    centre = statistics.median(medians.values())
    outliers = tuple(
        p for p, m in sorted(medians.items()) if max(m / centre, centre / m) > MAX_PROCESS_DEVIATION
    )
    if len(medians) - len(outliers) >= MIN_AGREEING * len(medians):
        return None
    return ProcessDisagreement(medians, centre, outliers)


def group_by_round(seconds: Sequence[float], rounds: Sequence[int]) -> dict[int, list[float]]:
    """{round: its seconds}, or {} when the two lists do not line up (older results)."""
    if not rounds or len(rounds) != len(seconds):
        return {}
    grouped: dict[int, list[float]] = {}
    for key, value in zip(rounds, seconds, strict=True):
        grouped.setdefault(key, []).append(value)
    return grouped
