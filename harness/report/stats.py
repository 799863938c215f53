"""Statistics for speed comparisons: bootstrap intervals of a speed-up.

Pure functions on lists of seconds; no rendering, no I/O. Every call makes
its own seeded generator, so a report is reproducible and does not depend on
the order comparisons are computed in.

Two designs. Paired, for variants timed in the same rounds of one run (each
round runs every variant in a worker process of its own, back to back, so a
round is one state of the machine that both sides saw): the statistic is the
median over rounds of each round's ratio of medians, and the bootstrap
resamples rounds, then timings within each. Unpaired, for timings from
different runs or old results: each side is resampled on its own; the
statistic is the ratio of medians.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

CONFIDENCE = 0.95
RESAMPLES = 2000
SEED = 20180611  # fixed: the same results always give the same intervals
# Below this many raw timings per side a bootstrap interval looks precise but is not.
MIN_SAMPLES = 5

FASTER = "faster"
SLOWER = "slower"
NO_DIFFERENCE = "no measurable difference"
PAIRED = "paired"
UNPAIRED = "unpaired"


@dataclass(frozen=True)
class RatioInterval:
    """A speed-up of candidate over reference with a bootstrap percentile interval.

    ``ratio`` > 1 means the candidate is faster (its time is smaller). ``low`` and
    ``high`` are None when there were too few timings for an interval: the point
    ratio is still shown, marked as having none, and never claims a direction.
    """

    ratio: float
    low: float | None
    high: float | None
    confidence: float = CONFIDENCE
    resamples: int = RESAMPLES
    method: str = UNPAIRED
    samples: int = 0  # the smaller side's timings

    @property
    def has_interval(self) -> bool:
        return self.low is not None and self.high is not None

    @property
    def direction(self) -> str:
        """FASTER or SLOWER when the interval excludes 1, else NO_DIFFERENCE."""
        if self.low is None or self.high is None:
            return NO_DIFFERENCE
        return classify(self.low, self.high)


def classify(low: float, high: float) -> str:
    """An interval that touches or straddles 1 shows no measurable difference."""
    if low > 1.0:
        return FASTER
    if high < 1.0:
        return SLOWER
    return NO_DIFFERENCE


def median_ratio_interval(
    reference_s: Sequence[float],
    candidate_s: Sequence[float],
    *,
    confidence: float = CONFIDENCE,
    resamples: int = RESAMPLES,
    seed: int = SEED,
) -> RatioInterval | None:
    """Bootstrap the speed-up of ``candidate`` over ``reference``, each side on its own.

    Each side's raw timings are resampled independently with replacement;
    the statistic is median(reference) / median(candidate) and the interval
    is the percentile interval at ``confidence``. Returns None when either
    side has fewer than MIN_SAMPLES timings or a median that is not positive.
    """
    reference = np.asarray(reference_s, dtype=float)
    candidate = np.asarray(candidate_s, dtype=float)
    if min(reference.size, candidate.size) < MIN_SAMPLES:
        return None
    reference_median = float(np.median(reference))
    candidate_median = float(np.median(candidate))
    if reference_median <= 0 or candidate_median <= 0:
        return None
    rng = np.random.default_rng(seed)
    reference_medians = np.median(rng.choice(reference, size=(resamples, reference.size)), axis=1)
    candidate_medians = np.median(rng.choice(candidate, size=(resamples, candidate.size)), axis=1)
    low, high = _percentile_interval(reference_medians / candidate_medians, confidence)
    samples = int(min(reference.size, candidate.size))
    return RatioInterval(
        reference_median / candidate_median, low, high, confidence, resamples, UNPAIRED, samples
    )


def paired_ratio_interval(
    reference: Mapping[int, Sequence[float]],
    candidate: Mapping[int, Sequence[float]],
    *,
    confidence: float = CONFIDENCE,
    resamples: int = RESAMPLES,
    seed: int = SEED,
) -> RatioInterval | None:
    """Bootstrap the speed-up from timings grouped by the round they ran in, paired on the round.

    In each round both sides ran back to back, so a round's ratio of medians cancels what
    the machine did to both. The statistic is the median over rounds of that ratio; the
    interval resamples rounds with replacement, then each side's timings within each chosen
    round. Returns None with fewer than MIN_SAMPLES timings per side or a time that is not
    positive.
    """
    rounds = sorted(set(reference) & set(candidate))
    groups = [(np.asarray(reference[r], float), np.asarray(candidate[r], float)) for r in rounds]
    groups = [(ref, cand) for ref, cand in groups if ref.size and cand.size]
    if not groups or min(sum(g[0].size for g in groups), sum(g[1].size for g in groups)) < MIN_SAMPLES:
        return None
    if min(min(ref.min(), cand.min()) for ref, cand in groups) <= 0:
        return None
    rng = np.random.default_rng(seed)
    statistics = np.empty(resamples)
    for index in range(resamples):
        chosen = rng.integers(0, len(groups), size=len(groups))
        ratios = [
            np.median(rng.choice(groups[g][0], groups[g][0].size))
            / np.median(rng.choice(groups[g][1], groups[g][1].size))
            for g in chosen
        ]
        statistics[index] = np.median(ratios)
    low, high = _percentile_interval(statistics, confidence)
    point = float(np.median([np.median(ref) / np.median(cand) for ref, cand in groups]))
    samples = min(sum(g[0].size for g in groups), sum(g[1].size for g in groups))
    return RatioInterval(point, low, high, confidence, resamples, PAIRED, samples)


def point_ratio(reference_s: Sequence[float], candidate_s: Sequence[float]) -> RatioInterval | None:
    """median(reference) / median(candidate) with no interval (too few timings for one)."""
    if not reference_s or not candidate_s:
        return None
    reference, candidate = float(np.median(reference_s)), float(np.median(candidate_s))
    if reference <= 0 or candidate <= 0:
        return None
    samples = min(len(reference_s), len(candidate_s))
    return RatioInterval(reference / candidate, None, None, samples=samples)


def _percentile_interval(values: np.ndarray, confidence: float) -> tuple[float, float]:
    tail = (1.0 - confidence) / 2.0
    low, high = np.quantile(values, [tail, 1.0 - tail])
    return float(low), float(high)


def invert(interval: RatioInterval) -> RatioInterval:
    """The same comparison seen from the other side (a speed-up of 0.8 is a 1.25× slow-down)."""
    return RatioInterval(
        ratio=1.0 / interval.ratio,
        low=None if interval.high is None else 1.0 / interval.high,
        high=None if interval.low is None else 1.0 / interval.low,
        confidence=interval.confidence,
        resamples=interval.resamples,
        method=interval.method,
        samples=interval.samples,
    )
