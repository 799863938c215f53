"""Emulated outputs are checked against native ones before they count.

Under QEMU some int8 kernels return wrong logits with no error (see the README),
so an emulated result is only kept as ``ok`` when its outputs match a native run
of the same artifact (same sha256). When both results carry class probabilities
of the first eval images (``output_sample``), those are compared within a
tolerance per precision: a stronger check than top-1 on far fewer images.
Results without them (older ones) fall back to top-1 agreement. Pure functions
over ``schema.Result``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable

from harness.runtime_registry import variant_specs
from harness.schema import STATUS_FAILED, STATUS_OK, Result

MIN_AGREEMENT = 0.99
# Largest |Δ probability| an emulated output may differ from native, per precision. Measured
# on ResNet-50/digits, first 32 eval images, QEMU (neoverse-n1) vs AMD Zen 5: LiteRT fp32
# 4.8e-7, fp16 3.6e-7, TF fp32 2.6e-7 (summation order only); LiteRT int8 and QAT int8 0
# (bit-exact; their int8 SOFTMAX output moves in steps of 1/256, so one rounding apart is
# 0.004); dynamic-range int8 2.4e-3 (activations quantized at run time from float ranges);
# the TF fake-quant graph 9.1e-3 (a float rounding difference can move a value one grid
# level); ONNX Runtime fp32 7e-7, OpenVINO fp32 2.1e-6, ORT static int8 (QOperator and QDQ)
# 0, ORT dynamic int8 0.032 and 0.059 (two trainings: 73 layers each quantize their input at
# run time from float ranges, so a rounding difference moves the next layer's grid).
# OpenVINO's int8 file runs 31 of its 74 compute layers in f32 on arm64 (no int8 kernel for
# them there), so it is held to the fake-quant tolerance when the emulated kernel path has
# more float layers than the native one: measured 0.046 and 0.013.
# A wrong emulated kernel changes probabilities by tenths or more.
TOLERANCE = {
    "fp32": 1e-3,
    "fp16": 1e-3,
    "int8": 1e-2,
    "int8-qat": 1e-2,
    "dynamic-int8": 0.15,
    "fakequant": 0.1,
}
DEFAULT_TOLERANCE = 1e-2
INTEGER_PRECISIONS = ("int8", "int8-qat")
# Measured on an AVX2-only Zen 3 (no VNNI), ResNet-50: ORT static int8 native vs its float32
# 0.114 (QOperator) and 0.112 (QDQ), the same files under QEMU 0.024 and 0.038; tiny model 0.26
# vs 0.035-0.047. On an AVX-512 VNNI CPU native and emulated were bit-exact.


@dataclasses.dataclass(frozen=True)
class Reference:
    """Native top-1 predictions of one artifact."""

    variant: str
    artifact_sha256: str
    predictions: tuple[int, ...]
    source: str  # "host arch run_id", for the record
    output_sample: tuple[tuple[float, ...], ...] = ()
    float_op_count: int | None = None  # compute ops its kernel path says ran in float
    # static int8 of a runtime whose int8 kernels are exact only with int8 dot-product
    # instructions, run on a CPU without them (RuntimeSpec.int8_exact_needs_dot_product)
    inexact_int8: bool = False


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
            tuple(tuple(row) for row in result.output_sample),
            _float_op_count(result.kernel_path),
            _inexact_int8(result),
        )
    return references


def largest_difference(emulated: list[list[float]], native: Iterable[Iterable[float]]) -> tuple[float, int]:
    """Largest |Δ| between the probabilities of the images both have, and how many images."""
    largest, images = 0.0, 0
    for mine, theirs in zip(emulated, native, strict=False):
        theirs = list(theirs)
        if len(mine) != len(theirs):
            return float("inf"), images + 1  # a different output shape is as wrong as it gets
        largest = max([largest, *(abs(a - b) for a, b in zip(mine, theirs, strict=True))])
        images += 1
    return largest, images


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
    if result.output_sample and reference.output_sample:
        return _check_probabilities(result, reference, kernel_path, references)
    if agreement >= minimum:
        return dataclasses.replace(result, kernel_path=kernel_path)
    differ = compared - round(agreement * compared)
    reason = (
        f"emulated outputs disagree with native: {100 * agreement:.1f}% top-1 agreement "
        f"({differ} of {compared} images differ)"
    )
    return _failed(result, kernel_path, reason, f"{reason}; needs {100 * minimum:.0f}%")


def _inexact_int8(result: Result) -> bool:
    """Static int8 whose runtime is exact only with int8 dot-product instructions, run on an x86
    CPU without them (see Reference.inexact_int8)."""
    from harness.report.isa import has_int8_dot_product

    spec = variant_specs().get(result.variant)
    needs = spec is not None and spec[0].int8_exact_needs_dot_product
    static_int8 = needs and result.precision in INTEGER_PRECISIONS
    return static_int8 and result.arch == "amd64" and has_int8_dot_product("amd64", result.isa_flags) is False


def _native_strays(result: Result, reference: Reference, references: dict[tuple[str, str], Reference]) -> str:
    """Why the native reference cannot check this emulated output, or "".

    Only for a native run whose int8 kernels are known not to be exact (``inexact_int8``),
    and only when the emulated output is no further from the float32 output of the same native
    run than the native int8 output is: a wrong emulated kernel strays further, by tenths.
    """
    if not reference.inexact_int8 or not result.baseline_variant:
        return ""
    floats = [  # the float32 of the same native run as the int8 reference: the same model
        r
        for (variant, _), r in references.items()
        if variant == result.baseline_variant and r.source == reference.source
    ]
    if not floats or not floats[0].output_sample:
        return ""
    float_sample = floats[0].output_sample
    native, _ = largest_difference(list(map(list, reference.output_sample)), float_sample)
    emulated, _ = largest_difference(result.output_sample, float_sample)
    if emulated > native:
        return ""
    return (
        f"the native CPU is x86 without VNNI, where {result.runtime or result.variant}'s int8 kernels "
        f"are not exact (native {native:.3g}, emulated {emulated:.3g} from {result.baseline_variant})"
    )


def _check_probabilities(
    result: Result, reference: Reference, kernel_path: dict, references: dict[tuple[str, str], Reference]
) -> Result:
    """ok when every probability of the shared sample images is within the precision's tolerance."""
    difference, images = largest_difference(result.output_sample, reference.output_sample)
    precision = result.precision or "this precision"
    tolerance = TOLERANCE.get(result.precision, DEFAULT_TOLERANCE)
    emulated_floats, native_floats = _float_op_count(result.kernel_path), reference.float_op_count
    if result.precision in INTEGER_PRECISIONS and (emulated_floats or 0) > (native_floats or 0):
        # Layers that run int8 natively run in float on this arch (a runtime without an int8
        # kernel for them there): float math on quantized values, as the fake-quant graph does.
        tolerance = max(tolerance, TOLERANCE["fakequant"])
        precision = (
            f"{result.precision} with {emulated_floats} float layers here, {native_floats or 0} natively"
        )
    kernel_path = {
        **kernel_path,
        "native_max_abs_difference": difference,
        "native_difference_images": images,
        "native_tolerance": tolerance,
    }
    if images and difference <= tolerance:
        return dataclasses.replace(result, kernel_path=kernel_path)
    off_reference = _native_strays(result, reference, references)
    if off_reference:
        warning = (
            f"emulated outputs NOT verified: they differ from native by {difference:.3g}, but it is the "
            f"native output that strays: {off_reference}; there is no exact reference here."
        )
        return dataclasses.replace(result, kernel_path=kernel_path, warnings=[*result.warnings, warning])
    reason = (
        f"emulated outputs differ from native: max |Δ probability| {difference:.3g} over {images} images "
        f"(tolerance {tolerance:g} for {precision})"
    )
    return _failed(result, kernel_path, reason, reason)


def _float_op_count(kernel_path: dict) -> int | None:
    count = kernel_path.get("float_op_count") if isinstance(kernel_path, dict) else None
    return count if isinstance(count, int) else None


def _failed(result: Result, kernel_path: dict, reason: str, warning: str) -> Result:
    """The result marked failed: its emulated outputs are not the model's."""
    advice = ": the timings are of wrong computations; check QEMU_CPU and the emulated cpuinfo."
    return dataclasses.replace(
        result,
        status=STATUS_FAILED,
        error=reason,
        kernel_path=kernel_path,
        warnings=[*result.warnings, warning + advice],
    )
