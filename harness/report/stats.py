"""Statistics for speed comparisons: bootstrap interval of a ratio of medians.

Pure functions on lists of seconds; no rendering, no I/O. Every call makes
its own seeded generator, so a report is reproducible and does not depend on
the order comparisons are computed in.
"""

from __future__ import annotations

from collections.abc import Sequence
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


@dataclass(frozen=True)
class RatioInterval:
    """median(reference) / median(candidate) with a bootstrap percentile interval.

    ``ratio`` > 1 means the candidate is faster (its median time is smaller).
    """

    ratio: float
    low: float
    high: float
    confidence: float = CONFIDENCE
    resamples: int = RESAMPLES

    @property
    def direction(self) -> str:
        """FASTER or SLOWER when the interval excludes 1, else NO_DIFFERENCE."""
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
    """Bootstrap the speed-up of ``candidate`` over ``reference``.

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
    ratios = reference_medians / candidate_medians
    tail = (1.0 - confidence) / 2.0
    low, high = np.quantile(ratios, [tail, 1.0 - tail])
    return RatioInterval(
        ratio=reference_median / candidate_median,
        low=float(low),
        high=float(high),
        confidence=confidence,
        resamples=resamples,
    )


def invert(interval: RatioInterval) -> RatioInterval:
    """The same comparison seen from the other side (a speed-up of 0.8 is a 1.25× slow-down)."""
    return RatioInterval(
        ratio=1.0 / interval.ratio,
        low=1.0 / interval.high,
        high=1.0 / interval.low,
        confidence=interval.confidence,
        resamples=interval.resamples,
    )
