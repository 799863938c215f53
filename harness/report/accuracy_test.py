"""Does a variant's top-1 differ from its reference's? An exact McNemar test.

Both models classified the same images, so the comparison is paired: only the
images exactly one of them got right carry information. Under "no difference"
each such image is equally likely to favour either side, so the count that
favours the reference is Binomial(b + c, ½); the two-sided p-value doubles the
smaller tail (capped at 1).
"""

from __future__ import annotations

from dataclasses import dataclass
from math import comb

SIGNIFICANCE = 0.05


def mcnemar_exact_p(only_reference_right: int, only_variant_right: int) -> float:
    """Two-sided exact McNemar p-value for the discordant counts b and c."""
    if only_reference_right < 0 or only_variant_right < 0:
        raise ValueError("discordant counts must be non-negative")
    n = only_reference_right + only_variant_right
    if n == 0:
        return 1.0
    smaller = min(only_reference_right, only_variant_right)
    tail = sum(comb(n, k) for k in range(smaller + 1)) / 2**n
    return min(1.0, 2.0 * tail)


@dataclass(frozen=True)
class AccuracyTest:
    """One paired comparison of per-image correctness."""

    reference: str
    only_reference_right: int
    only_variant_right: int

    @property
    def p_value(self) -> float:
        return mcnemar_exact_p(self.only_reference_right, self.only_variant_right)

    @property
    def significant(self) -> bool:
        return self.p_value < SIGNIFICANCE

    def describe(self) -> str:
        """E.g. "vs tflite-fp32: 3 worse, 1 better, McNemar p=0.62 (no significant difference)"."""
        verdict = "differs significantly" if self.significant else "no significant difference"
        return (
            f"vs {self.reference}: {self.only_reference_right} worse, {self.only_variant_right} better, "
            f"McNemar p={self.p_value:.2g} ({verdict})"
        )


def accuracy_tests(paired_correctness: object) -> list[AccuracyTest]:
    """The tests a result's ``paired_correctness`` supports (malformed entries are skipped)."""
    if not isinstance(paired_correctness, dict):
        return []
    tests = []
    for reference, counts in paired_correctness.items():
        if not isinstance(counts, dict):
            continue
        b, c = counts.get("only_reference_right"), counts.get("only_variant_right")
        if isinstance(b, int) and isinstance(c, int) and b >= 0 and c >= 0:
            tests.append(AccuracyTest(str(reference), b, c))
    return tests
