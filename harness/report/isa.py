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
