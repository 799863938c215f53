"""Statistics for speed comparisons: bootstrap intervals of a speed-up.

Pure functions on lists of seconds; no rendering, no I/O. Every call makes
its own seeded generator, so a report is reproducible and does not depend on
the order comparisons are computed in.

Two designs. Paired, for variants timed in the same rounds (results that say
which worker process and round each timing came from): the variants of one
round ran moments apart on the same machine state, so the statistic is the
median of per-round ratios, and the bootstrap resamples processes, then
rounds within each (a process is one sample of the machine's state, rounds
are samples within it). Unpaired, for timings from different runs or old
results: each side is resampled on its own; the statistic is the ratio of
medians.
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
    samples: int = 0  # pairs (paired) or the smaller side's timings (unpaired)

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
    reference: Mapping[tuple[int, int], float],
    candidate: Mapping[tuple[int, int], float],
    *,
    confidence: float = CONFIDENCE,
    resamples: int = RESAMPLES,
    seed: int = SEED,
) -> RatioInterval | None:
    """Bootstrap the speed-up from timings keyed by (process, round), paired on the key.

    The statistic is the median over rounds of reference/candidate; the interval
    resamples processes with replacement, then rounds within each chosen one.
    Returns None with fewer than MIN_SAMPLES pairs or a time that is not positive.
    """
    keys = sorted(set(reference) & set(candidate))
    if len(keys) < MIN_SAMPLES or min(min(reference[k], candidate[k]) for k in keys) <= 0:
        return None
    by_process: dict[int, list[float]] = {}
    for key in keys:
        by_process.setdefault(key[0], []).append(reference[key] / candidate[key])
    groups = [np.asarray(values) for _, values in sorted(by_process.items())]
    rng = np.random.default_rng(seed)
    statistics = np.empty(resamples)
    for index in range(resamples):
        chosen = rng.integers(0, len(groups), size=len(groups))
        statistics[index] = np.median(
            np.concatenate([rng.choice(groups[g], size=groups[g].size) for g in chosen])
        )
    low, high = _percentile_interval(statistics, confidence)
    point = float(np.median(np.concatenate(groups)))
    return RatioInterval(point, low, high, confidence, resamples, PAIRED, len(keys))


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
