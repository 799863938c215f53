"""The round-level interval and the centre-stability rule, on synthetic timings."""

import math
import random

import pytest

from harness.bench import rounds
from harness.intervals import (
    MAX_PROCESS_DEVIATION,
    log_t_interval,
    paired_round_interval,
    process_disagreement,
    round_disagreement,
    t_quantile_975,
)


def test_t_quantiles_match_scipy():
    stats = pytest.importorskip("scipy.stats")
    for df in (1, 2, 3, 5, 9, 30, 31, 60, 200):
        assert t_quantile_975(df) == pytest.approx(stats.t.ppf(0.975, df), abs=2e-4)


def timings_by_round(medians: list[float], calls: int = 200, tail_every: int = 0, seed: int = 1) -> dict:
    """Per round: calls around that round's median, each 50th one 3x (interrupts) if tail_every."""
    rng = random.Random(seed)
    grouped = {}
    for index, median in enumerate(medians):
        values = [median * (1 + rng.gauss(0, 0.03)) for _ in range(calls)]
        if tail_every:
            values = [v * (3.0 if i % tail_every == 0 else 1.0) for i, v in enumerate(values)]
        grouped[index] = values
    return grouped


def test_rounds_that_drift_apart_give_a_wider_interval_that_covers_the_drift():
    # The machine drifts over the run: int8's speed-up moves from 5.0x to 6.0x across 8 rounds.
    # Two runs that each see every other round of that drift must cover each other's ratio.
    drift = [5.0 * (6.0 / 5.0) ** (k / 7) for k in range(8)]
    reference = timings_by_round([3.0e-3] * 8, seed=2)
    candidate = timings_by_round([3.0e-3 / r for r in drift], seed=3)
    run_a = paired_round_interval(
        {k: reference[k] for k in (0, 2, 4, 6)}, {k: candidate[k] for k in (0, 2, 4, 6)}
    )
    run_b = paired_round_interval(
        {k: reference[k] for k in (1, 3, 5, 7)}, {k: candidate[k] for k in (1, 3, 5, 7)}
    )
    assert run_a.rounds == run_b.rounds == 4
    assert run_a.low <= run_b.ratio <= run_a.high and run_b.low <= run_a.ratio <= run_b.high
    steady = paired_round_interval(reference, timings_by_round([3.0e-3 / 5.5] * 8, seed=3))
    drifting = paired_round_interval(reference, candidate)
    assert drifting.half_width > 2 * steady.half_width
    assert drifting.low < 5.3 and drifting.high > 5.7  # the drift's middle half lies inside


def test_two_rounds_give_a_wide_interval_and_one_round_none():
    interval = log_t_interval([5.85, 5.99])
    assert interval.rounds == 2 and interval.high / interval.low > 1.3  # t(1) = 12.7: wide, honestly
    single = log_t_interval([5.9])
    assert single.low is None and single.high is None and single.rounds == 1


def test_agreeing_rounds_give_a_narrow_interval_around_the_geometric_mean():
    interval = log_t_interval([2.0, 2.02, 1.98, 2.01, 1.99, 2.0])
    assert interval.ratio == pytest.approx(
        math.exp(sum(map(math.log, [2.0, 2.02, 1.98, 2.01, 1.99, 2.0])) / 6)
    )
    assert interval.half_width < 0.02


def test_a_long_tail_with_agreeing_medians_is_stable():
    tail = timings_by_round([0.6e-3] * 6, tail_every=50)
    assert process_disagreement(tail) is None


def test_two_processes_whose_medians_differ_by_1_7x_disagree():
    found = process_disagreement(timings_by_round([19.9e-3, 33.6e-3]))
    assert found is not None and found.outliers == (0, 1)  # no centre: neither can be trusted
    assert found.spread == pytest.approx(33.6 / 19.9, rel=0.02)
    text = found.describe("tflite-int8-qat")
    assert "tflite-int8-qat's processes disagree: process 1 at 19." in text and "process 2 at 33." in text
    assert process_disagreement(timings_by_round([19.9e-3, 28.5e-3])) is None  # 1.43x: 1.2x from the middle


def test_rounds_whose_ratios_differ_by_1_7x_give_no_centre_and_name_the_side_that_moved():
    # the float side steady, one int8 process at 33.6 ms and its twin at 19.9 ms
    reference = timings_by_round([60e-3, 60e-3], seed=4)
    candidate = timings_by_round([19.9e-3, 33.6e-3], seed=5)
    found = round_disagreement(reference, candidate, ("tflite-fp32", "tflite-int8-qat"))
    assert found is not None and found.moved == "tflite-int8-qat"
    assert found.describe().startswith("unstable: the rounds disagree (0 of 2 within 1.25x")
    assert "tflite-int8-qat's processes moved" in found.describe()
    # a drift that slows both sides of a round alike cancels in its ratio: a centre, a claim
    drifting = timings_by_round([60e-3, 102e-3], seed=6)
    assert round_disagreement(drifting, timings_by_round([19.9e-3, 33.8e-3], seed=7)) is None


def test_one_outlier_among_many_processes_leaves_a_centre_and_two_do_not():
    steady = [3.0e-3, 3.1e-3, 2.9e-3, 3.05e-3, 2.95e-3]
    assert process_disagreement(timings_by_round([*steady, 5.5e-3])) is None  # 5 of 6 agree
    found = process_disagreement(timings_by_round([3.0e-3, 3.1e-3, 5.5e-3, 5.6e-3]))
    assert found is not None and len(found.outliers) >= 2
    assert all(max(m / found.centre_s, found.centre_s / m) > MAX_PROCESS_DEVIATION for m in
               (found.medians_s[p] for p in found.outliers))  # fmt: skip


def test_adaptive_rounds_watch_verdict_and_headline_pairs_and_stop_when_narrow():
    timed = ["tflite-fp32", "tflite-int8", "ort-fp32", "ort-int8", "openvino-fp32", "openvino-int8"]
    medians = {"tflite-fp32": 3.0, "tflite-int8": 0.6, "ort-fp32": 2.9, "ort-int8": 1.8}
    medians |= {"openvino-fp32": 3.6, "openvino-int8": 0.9}
    steady = {(v, 1): timings_by_round([m * 1e-3] * 4, seed=i) for i, (v, m) in enumerate(medians.items())}
    watched = rounds.watched(timed, [1], steady)
    pairs = {(c.reference, c.candidate) for c in watched}
    assert ("tflite-fp32", "tflite-int8") in pairs and ("ort-fp32", "ort-int8") in pairs
    assert ("ort-fp32", "tflite-int8") in pairs  # the headline: fastest float32 vs fastest int8
    policy = rounds.RoundPolicy(max_rounds=12, budget_s=60)
    assert rounds.too_wide(watched, steady, policy) == []
    noisy = dict(steady)
    noisy[("ort-int8", 1)] = timings_by_round([1.8e-3, 2.3e-3, 1.6e-3, 2.1e-3], seed=9)
    wide = rounds.too_wide(watched, noisy, policy)
    assert [(c.reference, c.candidate) for c in wide] == [("ort-fp32", "ort-int8")]
    assert rounds.next_round(wide) == {"ort-fp32": (1,), "ort-int8": (1,)}


def test_int8_variants_within_the_noise_of_the_fastest_are_watched_too():
    timed = ["tflite-fp32", "tflite-dynamic", "tflite-int8", "tflite-int8-qat", "ort-fp32", "ort-int8"]
    noisy = {  # three LiteRT int8 files within ~3 % of each other, in rounds that spread 10 %
        ("tflite-int8", 1): timings_by_round([0.60e-3, 0.66e-3, 0.58e-3, 0.63e-3], seed=1),
        ("tflite-int8-qat", 1): timings_by_round([0.61e-3, 0.64e-3, 0.60e-3, 0.66e-3], seed=2),
        ("tflite-dynamic", 1): timings_by_round([0.62e-3, 0.60e-3, 0.65e-3, 0.61e-3], seed=3),
        ("ort-int8", 1): timings_by_round([1.8e-3] * 4, seed=4),  # measurably slower: not a near-tie
        ("tflite-fp32", 1): timings_by_round([3.0e-3] * 4, seed=5),
        ("ort-fp32", 1): timings_by_round([2.6e-3] * 4, seed=6),
    }
    pairs = {(c.reference, c.candidate) for c in rounds.watched(timed, [1], noisy)}
    assert {("ort-fp32", v) for v in ("tflite-int8", "tflite-int8-qat", "tflite-dynamic")} <= pairs
    assert ("ort-fp32", "ort-int8") in pairs  # its runtime's verdict pair is ("ort-fp32", "ort-int8") anyway
    assert ("tflite-fp32", "tflite-int8-qat") not in pairs  # only the fastest float32 is near itself
    medians = {v: sorted(t for g in noisy[(v, 1)].values() for t in g)[8] for v in timed}
    near = rounds.near_fastest(["tflite-int8", "tflite-int8-qat", "tflite-dynamic", "ort-int8"], medians,
                               {v: noisy[(v, 1)] for v in timed})  # fmt: skip
    assert "ort-int8" not in near and len(near) == 3
