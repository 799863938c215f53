"""Statistics for speed comparisons: bootstrap intervals of a speed-up.

Pure functions on lists of seconds; no rendering, no I/O. Every call makes
its own seeded generator, so a report is reproducible and does not depend on
the order comparisons are computed in.

Two designs. Paired, for variants timed in the same rounds of one run (each
round runs every variant in a worker process of its own, back to back, so a
round is one state of the machine that both sides saw): the statistic is the
geometric mean over rounds of each round's ratio of medians, with a t-interval
on their logs (``harness.intervals``: the round is the unit of replication).
Unpaired, for timings from
different runs or old results: each side is resampled on its own; the
statistic is the ratio of medians.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from harness.intervals import paired_round_interval

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
    rounds: int = 0  # paired: the process rounds behind the interval (its unit of replication)

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
) -> RatioInterval | None:
    """The speed-up from timings grouped by the process round they ran in, paired on the round.

    In each round both sides ran back to back, so a round's ratio of medians cancels what
    the machine did to both, and the round is the unit of replication: the ratio is the
    geometric mean of the per-round ratios and the interval a t-interval on their logs
    (``harness.intervals``), wide with few rounds. With one common round the ratio has no
    interval. Returns None with fewer than MIN_SAMPLES timings per side or a time that is
    not positive.
    """
    rounds = sorted(set(reference) & set(candidate))
    groups = [(list(reference[r]), list(candidate[r])) for r in rounds if reference[r] and candidate[r]]
    if not groups or min(sum(len(g[0]) for g in groups), sum(len(g[1]) for g in groups)) < MIN_SAMPLES:
        return None
    if min(min(min(ref), min(cand)) for ref, cand in groups) <= 0:
        return None
    interval = paired_round_interval(reference, candidate)
    if interval is None:
        return None
    samples = min(sum(len(g[0]) for g in groups), sum(len(g[1]) for g in groups))
    return RatioInterval(
        interval.ratio, interval.low, interval.high, CONFIDENCE, 0, PAIRED, samples, interval.rounds
    )


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
        rounds=interval.rounds,
    )
