"""Name the int8-relevant CPU features of an architecture, e.g. "AVX2, no VNNI".

int8 only beats float32 when the CPU has instructions that multiply and add
int8 values in one step (x86 VNNI / AMX, arm dot-product / i8mm); the label
puts that fact next to every verdict.
"""

from __future__ import annotations

from collections.abc import Iterable

X86_ARCHES = {"amd64", "x86_64"}
ARM_ARCHES = {"arm64", "aarch64"}


def isa_label(arch: str, isa_flags: Iterable[str]) -> str:
    """Short feature list, e.g. "AVX2, no VNNI" or "NEON, dotprod, no i8mm"."""
    flags = {flag.lower() for flag in isa_flags}
    if not flags:
        return "ISA unknown"
    if arch in X86_ARCHES:
        return ", ".join(_x86_features(flags))
    if arch in ARM_ARCHES:
        return ", ".join(_arm_features(flags))
    return "ISA unknown"


def has_int8_dot_product(arch: str, isa_flags: Iterable[str]) -> bool | None:
    """True when the CPU has int8 multiply-accumulate instructions; None when unknown."""
    flags = {flag.lower() for flag in isa_flags}
    if not flags:
        return None
    if arch in X86_ARCHES:
        return bool(flags & {"avx512_vnni", "avx512vnni", "avx_vnni", "avxvnni", "amx_int8"})
    if arch in ARM_ARCHES:
        return bool(flags & {"asimddp", "i8mm"})
    return None


def missing_int8_instructions(arch: str) -> str:
    """What to call the missing instructions when has_int8_dot_product is False."""
    return "no VNNI/AMX" if arch in X86_ARCHES else "no dot-product/i8mm"


def _x86_features(flags: set[str]) -> list[str]:
    features = []
    if "avx512f" in flags:
        features.append("AVX-512")
    elif "avx2" in flags:
        features.append("AVX2")
    else:
        features.append("no AVX2")
    if "fma" not in flags:
        features.append("no FMA")
    if flags & {"avx512_vnni", "avx512vnni"}:
        features.append("AVX512-VNNI")
    elif flags & {"avx_vnni", "avxvnni"}:
        features.append("AVX-VNNI")
    else:
        features.append("no VNNI")
    if "amx_int8" in flags:
        features.append("AMX-INT8")
    return features


def _arm_features(flags: set[str]) -> list[str]:
    features = ["NEON" if "asimd" in flags else "no NEON"]
    features.append("dotprod" if "asimddp" in flags else "no dotprod")
    features.append("i8mm" if "i8mm" in flags else "no i8mm")
    if "sve2" in flags:
        features.append("SVE2")
    elif "sve" in flags:
        features.append("SVE")
    if "bf16" in flags:
        features.append("BF16")
    return features


def int8_mac_limit(arch: str, isa_flags: Iterable[str]) -> tuple[float | None, str]:
    """The ISA's int8:fp32 multiply-add throughput ratio per instruction width, and the facts used.

    The ceiling an int8 kernel can reach over an fp32 one when both are bound by multiply-adds
    (the same vector width, one instruction per cycle): a measured ratio above it means the float
    call was bound by something int8 shrinks more, such as moving 4x larger weights.
    """
    flags = {flag.lower() for flag in isa_flags}
    if not flags:
        return None, "ISA unknown: no int8:fp32 limit"
    if arch in X86_ARCHES:
        if "amx_int8" in flags:
            return 16.0, (
                "AMX-INT8: tile multiplies do at least 16x the int8 multiply-adds of an AVX-512 "
                "fp32 FMA per cycle"
            )
        if flags & {"avx512_vnni", "avx512vnni", "avx_vnni", "avxvnni"}:
            return 4.0, "VNNI: one VPDPBUSD does 4 int8 multiply-adds per 32-bit lane, an FMA 1 fp32"
        width = "AVX-512" if "avx512f" in flags else "AVX2" if "avx2" in flags else "SSE"
        return 2.0, (
            f"{width}, no VNNI: VPMADDUBSW + VPMADDWD do 4 int8 multiply-adds per 32-bit lane in "
            "2 instructions, an FMA 1 fp32 in 1"
        )
    if arch in ARM_ARCHES:
        if "i8mm" in flags:
            return 8.0, "i8mm: one SMMLA does 32 int8 multiply-adds per 128 bits, an FMLA 4 fp32"
        if "asimddp" in flags:
            return 4.0, "dot-product: one SDOT does 16 int8 multiply-adds per 128 bits, an FMLA 4 fp32"
        return 2.0, "NEON, no dot-product: widening SMLAL does 8 int8 multiply-adds per 2 instructions"
    return None, "ISA unknown: no int8:fp32 limit"
