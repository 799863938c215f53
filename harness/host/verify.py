"""Emulated outputs are checked against native ones before they count.

Under QEMU some int8 kernels return wrong logits with no error (see the README),
so an emulated result is only kept as ``ok`` when its top-1 predictions agree
with a native run of the same artifact (same sha256) on the eval images both
evaluated. Pure functions over ``schema.Result``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable

from harness.schema import STATUS_FAILED, STATUS_OK, Result

MIN_AGREEMENT = 0.99


@dataclasses.dataclass(frozen=True)
class Reference:
    """Native top-1 predictions of one artifact."""

    variant: str
    artifact_sha256: str
    predictions: tuple[int, ...]
    source: str  # "host arch run_id", for the record


def top1_agreement(emulated: list[int], native: Iterable[int]) -> tuple[float, int]:
    """Share of equal top-1 predictions on the common prefix, and its length."""
    native = list(native)
    common = min(len(emulated), len(native))
    if common == 0:
        return 0.0, 0
    same = sum(1 for a, b in zip(emulated[:common], native[:common], strict=True) if a == b)
    return same / common, common


def native_references(results: Iterable[Result]) -> dict[tuple[str, str], Reference]:
    """(variant, artifact sha256) -> predictions of a native, ok result (newest run wins)."""
    references: dict[tuple[str, str], Reference] = {}
    ordered = sorted(results, key=lambda r: (r.finished_at or r.started_at or "", r.run_id))
    for result in ordered:
        if result.emulated or result.status != STATUS_OK or not result.predictions:
            continue
        key = (result.variant, result.artifact_sha256)
        references[key] = Reference(
            result.variant,
            result.artifact_sha256,
            tuple(result.predictions),
            f"{result.host} {result.arch} run {result.run_id}",
        )
    return references


def check_emulated(
    result: Result, references: dict[tuple[str, str], Reference], minimum: float = MIN_AGREEMENT
) -> Result:
    """The result with its native agreement recorded; ``failed`` when it is below minimum.

    Native results, results without predictions and results that already
    failed pass through unchanged; an emulated result with no native reference
    stays as it is with a warning that it is unverified.
    """
    if not result.emulated or not result.predictions or result.status == STATUS_FAILED:
        return result
    reference = references.get((result.variant, result.artifact_sha256))
    if reference is None:
        warning = (
            "emulated outputs NOT verified: no native result of this artifact to compare with; "
            "run the native arch too (--arch all)."
        )
        return dataclasses.replace(result, warnings=[*result.warnings, warning])
    agreement, compared = top1_agreement(result.predictions, reference.predictions)
    kernel_path = {
        **result.kernel_path,
        "native_agreement": round(agreement, 6),
        "native_agreement_images": compared,
        "native_reference": reference.source,
    }
    if agreement >= minimum:
        return dataclasses.replace(result, kernel_path=kernel_path)
    differ = compared - round(agreement * compared)
    reason = (
        f"emulated outputs disagree with native: {100 * agreement:.1f}% top-1 agreement "
        f"({differ} of {compared} images differ)"
    )
    return dataclasses.replace(
        result,
        status=STATUS_FAILED,
        error=reason,
        kernel_path=kernel_path,
        warnings=[
            *result.warnings,
            f"{reason}; needs {100 * minimum:.0f}%: the timings are of wrong "
            "computations; check QEMU_CPU and the emulated cpuinfo.",
        ],
    )
