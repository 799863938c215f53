"""Bootstrap interval of a ratio of medians: known answers and the "no difference" rule."""

import random

import pytest

from harness.report.stats import (
    FASTER,
    MIN_SAMPLES,
    NO_DIFFERENCE,
    PAIRED,
    SLOWER,
    classify,
    invert,
    median_ratio_interval,
    paired_ratio_interval,
    point_ratio,
)


def test_constant_timings_give_an_exact_interval():
    interval = median_ratio_interval([0.4] * 10, [0.2] * 10)
    assert interval is not None
    assert interval.ratio == pytest.approx(2.0)
    assert (interval.low, interval.high) == (pytest.approx(2.0), pytest.approx(2.0))
    assert interval.direction == FASTER


def test_hand_checkable_two_valued_case():
    # Baseline is always 4 s. The candidate's resampled median is 1 s with
    # probability P(>=3 of 5 draws are 1) = 0.683 and 4 s with 0.317: both tails
    # hold far more than 2.5%, so the 95% interval of 4/median is exactly [1, 4].
    interval = median_ratio_interval([4.0] * 10, [1.0, 1.0, 1.0, 4.0, 4.0])
    assert interval is not None
    assert interval.ratio == pytest.approx(4.0)  # 4 / median(1, 1, 1, 4, 4)
    assert interval.low == pytest.approx(1.0)
    assert interval.high == pytest.approx(4.0)
    assert interval.direction == NO_DIFFERENCE  # touching 1 is not a measurable difference


def test_separated_samples_cover_the_true_ratio_and_exclude_one():
    rng = random.Random(7)
    baseline = [0.50 * (1 + rng.gauss(0, 0.03)) for _ in range(40)]
    candidate = [0.40 * (1 + rng.gauss(0, 0.03)) for _ in range(40)]
    interval = median_ratio_interval(baseline, candidate)
    assert interval is not None
    assert interval.low < 1.25 < interval.high
    assert interval.low > 1.0
    assert interval.high - interval.low < 0.1


def test_equal_distributions_show_no_measurable_difference():
    rng = random.Random(3)
    baseline = [0.40 * (1 + rng.gauss(0, 0.05)) for _ in range(30)]
    candidate = [0.40 * (1 + rng.gauss(0, 0.05)) for _ in range(30)]
    interval = median_ratio_interval(baseline, candidate)
    assert interval is not None
    assert interval.low < 1.0 < interval.high
    assert interval.direction == NO_DIFFERENCE


def test_same_inputs_give_the_same_interval():
    rng = random.Random(11)
    baseline = [rng.uniform(0.3, 0.5) for _ in range(25)]
    candidate = [rng.uniform(0.2, 0.5) for _ in range(25)]
    assert median_ratio_interval(baseline, candidate) == median_ratio_interval(baseline, candidate)
    other_seed = median_ratio_interval(baseline, candidate, seed=1)
    assert other_seed != median_ratio_interval(baseline, candidate)


def test_too_few_timings_give_no_interval():
    assert median_ratio_interval([0.4] * (MIN_SAMPLES - 1), [0.2] * 10) is None
    assert median_ratio_interval([0.4] * 10, [0.2] * (MIN_SAMPLES - 1)) is None
    assert median_ratio_interval([0.4] * MIN_SAMPLES, [0.2] * MIN_SAMPLES) is not None


@pytest.mark.parametrize(
    ("low", "high", "expected"),
    [
        (1.05, 1.20, FASTER),
        (0.80, 0.95, SLOWER),
        (0.95, 1.05, NO_DIFFERENCE),
        (1.00, 1.30, NO_DIFFERENCE),
        (0.70, 1.00, NO_DIFFERENCE),
    ],
)
def test_classify_interval_against_one(low, high, expected):
    assert classify(low, high) == expected


def test_invert_turns_a_speed_up_into_a_slow_down():
    interval = median_ratio_interval([0.4] * 10, [0.5] * 10)
    assert interval is not None and interval.direction == SLOWER
    inverted = invert(interval)
    assert inverted.ratio == pytest.approx(1.25)
    assert inverted.low == pytest.approx(1.25) and inverted.high == pytest.approx(1.25)
    assert inverted.direction == FASTER


def _drifting_rounds(seed: int, ratio: float = 2.0, rounds: int = 8, calls: int = 12):
    """Timings of two variants per round; each round is a machine state both saw (a shared
    drift of up to 2x between rounds), with independent noise on every call."""
    rng = random.Random(seed)
    reference: dict[int, list[float]] = {}
    candidate: dict[int, list[float]] = {}
    for round_index in range(rounds):
        level = rng.uniform(0.7, 1.4)
        reference[round_index] = [0.010 * level * (1 + rng.gauss(0, 0.02)) for _ in range(calls)]
        candidate[round_index] = [0.010 / ratio * level * (1 + rng.gauss(0, 0.02)) for _ in range(calls)]
    return reference, candidate


def test_pairing_rounds_cancels_shared_drift_and_still_covers_the_true_ratio():
    covered = 0
    for seed in range(10):
        reference, candidate = _drifting_rounds(seed)
        paired = paired_ratio_interval(reference, candidate)
        flat = [t for r in reference.values() for t in r], [t for c in candidate.values() for t in c]
        unpaired = median_ratio_interval(*flat)
        assert paired is not None and unpaired is not None and paired.method == PAIRED
        assert paired.high - paired.low < (unpaired.high - unpaired.low) / 3, seed
        covered += paired.low <= 2.0 <= paired.high
    assert covered >= 9  # a 95% interval may miss once in ten


def test_paired_hand_checkable_case_and_too_few_timings():
    # Round 0 ran on a machine twice as slow as round 1; in both the candidate took half the time.
    reference = {0: [8.0, 8.0, 8.0], 1: [4.0, 4.0, 4.0], 2: [9.0]}
    candidate = {0: [4.0, 4.0, 4.0], 1: [2.0, 2.0, 2.0]}  # round 2 has no partner: not used
    interval = paired_ratio_interval(reference, candidate)
    assert (interval.ratio, interval.low, interval.high, interval.samples) == (2.0, 2.0, 2.0, 6)
    few = {0: [4.0] * (MIN_SAMPLES - 1)}
    assert paired_ratio_interval(few, {0: [2.0] * 10}) is None


def test_a_point_ratio_has_no_interval_and_no_direction():
    interval = point_ratio([6.0, 6.2, 6.4], [5.0, 5.2, 5.6])
    assert interval.ratio == pytest.approx(6.2 / 5.2)
    assert not interval.has_interval and interval.direction == NO_DIFFERENCE
    assert invert(interval).low is None and point_ratio([], [1.0]) is None
