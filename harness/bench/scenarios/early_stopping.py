"""LoadGen's early-stopping estimate of a SingleStream percentile, ported from its C++.

Sources (mlcommons/inference, LoadGen 6.0.17): ``loadgen/early_stopping.cc`` (all of it: ``lbeta``,
``hypergeometric_2F1_A1``, ``beta_regularized``, ``odds``, ``find_min_passing`` and
``MinPassingQueriesFinder::operator()``) and ``loadgen/results.cc``
``PerformanceSummary::EarlyStopping``, case ``SingleStream`` (confidence 0.99, tolerance 0.0).

The rule: ``odds(h, t)`` is the chance of ``t`` or fewer of ``h + t`` queries landing above the
true percentile; ``h(t)`` is the smallest ``h`` that makes it less than ``1 - confidence`` (1 %).
With ``n`` queries LoadGen needs ``n >= h(1) + 1`` (64 for p90) and takes the largest ``t`` with
``h(t) + t <= n``; its estimate is the ``t``-th highest latency, ``sorted[n - t]``.

LoadGen walks ``t = 1, 2, 3, ...``, each binary search windowed by the previous answers
(early_stopping.cc lines 79-113), which costs over a minute of pure Python for a 600 s run.
``discard_count`` binary-searches ``t`` instead and finds each ``h(t)`` without the window: the
same numbers wherever the window holds the answer. Checked against LoadGen's early_stopping.cc
compiled from source: every ``h(t)`` for t <= 200,000 (p90) and t <= 20,000 (p99) is the one found
here, and ``discard_count`` equals results.cc's loop for every n <= 3,000 and 40 n up to 2 million.
That needs the C library's ``lgamma``, as the C++ uses (see ``_lgamma``).
"""

from __future__ import annotations

import ctypes
import functools
import math
from bisect import bisect_left
from collections.abc import Callable, Sequence

CONFIDENCE = 0.99  # results.cc: ``double confidence = 0.99;``
TOLERANCE = 0.0  # results.cc: ``double tolerance = 0.0;``
SINGLE_STREAM_PERCENTILE = 0.90  # TestSettings::single_stream_target_latency_percentile


@functools.cache
def _lgamma() -> Callable[[float], float]:
    """The C library's ``lgamma``, which LoadGen's ``std::lgamma`` is. CPython's ``math.lgamma``
    is its own code and differs from glibc's by an ulp at times, and an ulp of lgamma(10^6)
    moves ``odds`` by 1e-9 relative: enough to move ``h(t)`` by one where the odds fall that close
    to ``1 - c`` (at p99, t = 8550 among t <= 20,000). ``math.lgamma`` where no C library loads."""
    for name in ("libm.so.6", None):  # glibc by name, else whatever this process linked
        try:
            function = ctypes.CDLL(name).lgamma
        except (OSError, AttributeError, TypeError):
            continue
        function.restype = ctypes.c_double
        function.argtypes = [ctypes.c_double]
        return function
    return math.lgamma


def _lbeta(x: int, y: int) -> float:
    lgamma = _lgamma()
    return lgamma(x) + lgamma(y) - lgamma(x + y)


def _hypergeometric_2f1_a1(b: int, c: int, x: float) -> float:
    """2F1(1, b; c; x), summed until a term falls to 2^-33 (C++ ``kTolerance``)."""
    tolerance = 1.0 / (1 << 33)
    term = 1.0
    result = 1.0
    i = 0
    while abs(term) > tolerance:
        term *= (b + i) * x / (c + i)  # same evaluation order as the C++
        result += term
        i += 1
    return result


def _beta_regularized(x: float, a: int, b: int) -> float:
    return (
        math.exp(a * math.log(x) + (b - 1) * math.log(1 - x) - _lbeta(a, b))
        / a
        * _hypergeometric_2f1_a1(1 - b, 1 + a, x / (x - 1))
    )


def odds(h: int, t: int, p: float, d: float) -> float:
    """Probability of ``t`` or fewer over-percentile queries among ``h + t`` (C++ ``odds``)."""
    return _beta_regularized(p - d, h, 1 + t)


def _find_min_passing(min_h: int, max_h: int, t: int, p: float, d: float, c: float) -> int:
    """C++ ``find_min_passing``: first ``h`` in ``[min_h, max_h]`` with ``odds < 1 - c``."""
    count = max_h - min_h
    while count > 0:
        step = count // 2
        h = min_h + step
        if odds(h, t, p, d) < 1 - c:
            count = step
        else:
            min_h = h + 1
            count -= step + 1
    return min_h


class LoadGenMinPassingFinder:
    """Line-by-line port of C++ ``MinPassingQueriesFinder``, search window and cache included.

    Slow for long runs (see the module docstring); kept to test ``min_passing_queries`` against.
    """

    def __init__(self) -> None:
        self._caches: dict[tuple[float, float, float], dict[int, int]] = {}

    def __call__(self, t: int, p: float, d: float, c: float) -> int:
        cache = self._caches.setdefault((p, d, c), {})
        if t in cache:
            return cache[t]
        keys = sorted(cache)
        position = bisect_left(keys, t)  # std::map::lower_bound
        x0, y0, x1 = -1, 0, 0
        y1 = math.ceil(math.log(1 - c) / math.log(p - d))
        if position > 0:
            x1 = keys[position - 1]
            y1 = cache[x1]
        if position > 1:
            x0 = keys[position - 2]
            y0 = cache[x0]
        min_slope = (p - d) / (1 - p + d)
        max_slope = float((y1 - y0) * (x1 - x0))  # sic: a product in the C++, not a slope
        min_h = int((t - x1) * min_slope + y1)  # double -> int64_t truncates, as int() does
        max_h = int((t - x1) * max_slope + y1 + 1)
        h = _find_min_passing(min_h, max_h, t, p, d, c)
        cache[t] = h
        return h


_MIN_PASSING: dict[tuple[int, float, float, float], int] = {}


def min_passing_queries(
    t: int,
    percentile: float = SINGLE_STREAM_PERCENTILE,
    tolerance: float = TOLERANCE,
    confidence: float = CONFIDENCE,
) -> int:
    """The fewest queries ``h`` at or under the estimate so that ``t`` queries above it still give
    ``confidence`` that the true ``percentile`` is no higher: the smallest ``h`` with
    ``odds(h, t) < 1 - confidence`` (LoadGen's ``find_min_passing`` criterion), found without
    LoadGen's window. Memoised: a run's summary asks for the same ``t`` again.
    """
    key = (t, percentile, tolerance, confidence)
    if key in _MIN_PASSING:
        return _MIN_PASSING[key]

    def passes(h: int) -> bool:
        return odds(h, t, percentile, tolerance) < 1 - confidence

    # Below the binomial mean the odds are near 1/2: a failing start (0 stands for "fails").
    failing = int(t * (percentile - tolerance) / (1 - percentile + tolerance))
    if failing >= 1 and passes(failing):
        failing = 0
    step = max(1, math.isqrt(t) * 8)
    passing = failing + step
    while not passes(passing):
        failing, step = passing, step * 2
        passing = failing + step
    passing = _first_true(failing, passing, passes)
    _MIN_PASSING[key] = passing
    return passing


def _first_true(false_at: int, true_at: int, predicate: Callable[[int], bool]) -> int:
    """The smallest n in (false_at, true_at] with predicate(n), for a predicate that is false
    up to some point and true after it (bisection)."""
    while true_at - false_at > 1:
        middle = (false_at + true_at) // 2
        if predicate(middle):
            true_at = middle
        else:
            false_at = middle
    return true_at


def min_queries(percentile: float = SINGLE_STREAM_PERCENTILE) -> int:
    """The fewest queries LoadGen gives an early-stopping estimate for (64 for p90, 662 for p99)."""
    return min_passing_queries(1, percentile) + 1


def discard_count(queries: int, percentile: float = SINGLE_STREAM_PERCENTILE) -> int | None:
    """LoadGen's ``t`` for ``queries`` queries: its estimate is the ``t``-th highest latency
    (it reports "Would discard t - 1 highest latency queries"); None below ``min_queries``.

    results.cc stops at the first ``i >= 2`` with ``queries < h(i) + i`` and takes ``t = i - 1``;
    ``h(i) + i`` grows with ``i``, so that is the largest ``t`` with ``h(t) + t <= queries``.
    """
    if queries < min_queries(percentile):
        return None

    def fits(t: int) -> bool:
        return min_passing_queries(t, percentile) + t <= queries

    fitting, too_many = 1, 2
    while fits(too_many):
        fitting, too_many = too_many, too_many * 2
    return _first_true(fitting, too_many, lambda t: not fits(t)) - 1


def early_stopping_estimate(
    latencies: Sequence[float], percentile: float = SINGLE_STREAM_PERCENTILE
) -> float | None:
    """LoadGen's SingleStream early-stopping estimate of ``percentile`` from per-query latencies
    (any unit; the result is one of them), or None with fewer than ``min_queries`` queries, where
    LoadGen reports "Early stopping satisfied: NO" and gives no estimate."""
    t = discard_count(len(latencies), percentile)
    if t is None:
        return None
    return sorted(latencies)[len(latencies) - t]


def loadgen_percentile(latencies: Sequence[float], percentile: float) -> float | None:
    """A percentile picked the way LoadGen picks it (results.cc ``ProcessLatencies``):
    ``sorted[size_t(n * percentile)]``, no interpolation; None for no values."""
    if not latencies:
        return None
    return sorted(latencies)[int(len(latencies) * percentile)]
