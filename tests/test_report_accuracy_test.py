"""The exact McNemar test against hand-computed binomial tails."""

from __future__ import annotations

import pytest

from harness.report.accuracy_test import AccuracyTest, accuracy_tests, mcnemar_exact_p


@pytest.mark.parametrize(
    ("b", "c", "expected"),
    [
        (1, 9, 2 * (1 + 10) / 1024),  # n=10: P(X<=1) = (C(10,0)+C(10,1))/2^10, doubled = 0.0215
        (9, 1, 2 * 11 / 1024),  # symmetric
        (0, 6, 2 / 64),  # n=6: P(X=0) = 1/64, doubled
        (3, 3, 1.0),  # doubled tail 2*(42/64) exceeds 1: capped
        (0, 0, 1.0),  # no discordant image: no evidence at all
        (2, 5, 2 * (1 + 7 + 21) / 128),  # n=7: 0.453
    ],
)
def test_mcnemar_exact_p_matches_hand_computed_values(b, c, expected):
    assert mcnemar_exact_p(b, c) == pytest.approx(expected, rel=1e-12)


def test_significance_and_wording():
    assert AccuracyTest("tflite-fp32", 1, 9).significant
    assert not AccuracyTest("tflite-fp32", 2, 5).significant
    assert "3 worse, 1 better" in AccuracyTest("qat-float", 3, 1).describe()


def test_malformed_counts_are_skipped():
    tests = accuracy_tests({"a": {"only_reference_right": 1, "only_variant_right": 2}, "b": {"x": 1}, "c": 3})
    assert [t.reference for t in tests] == ["a"]
    assert accuracy_tests(None) == [] and accuracy_tests([]) == []
    with pytest.raises(ValueError):
        mcnemar_exact_p(-1, 2)
