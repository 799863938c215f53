"""The runtimes quantbench measures, found from their folders: nothing else lists variants.

Each runtime is one package under ``harness/bench/runtimes/<name>/`` whose
``__init__.py`` declares ``RUNTIME = RuntimeSpec(...)``, pure data in the
standard library: both halves read it (the host and the report never import a
runtime's heavy modules). Beside the declaration, the runtime's ``runner``
module loads and calls an artifact (bench side, in the container) and its
``convert`` module writes the artifacts (``prepare``). Adding a runtime is one
folder, its requirement lines and a row in docs/variants.md.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Container
from dataclasses import dataclass, field

RUNTIMES_PACKAGE = "harness.bench.runtimes"
# A tuning candidate is a declared variant made by another recipe of the same runtime: its name is
# the variant's, this mark and the recipe's id ("ort-int8~qdq-u8s8-entropy"); it is that variant in
# every other respect (runtime, precision, float baseline).
CANDIDATE_MARK = "~"
# Precisions whose speed depends on integer kernels, and float32: the two sides of a headline.
INT8_PRECISIONS = ("int8", "int8-qat", "dynamic-int8")
FLOAT32 = "fp32"


@dataclass(frozen=True)
class VariantSpec:
    """One measured variant of a runtime."""

    name: str  # e.g. "tflite-int8": the name in results, reports and --variants
    precision: str  # "fp32", "fp16", "int8", "int8-qat", "dynamic-int8", "fakequant"
    baseline: str  # the float variant of the same runtime it is compared with
    artifact: str  # file or directory name in the artifacts directory
    description: str  # one line for the README and --help
    # prepare refuses the artifact if a float compute op is left in it
    integer_only: bool = False
    # an int8 variant the verdicts are about, with its name in prose ("" for none)
    verdict_name: str = ""


@dataclass(frozen=True)
class RuntimeSpec:
    """One runtime: its variants, how the bench loads and converts them, what to record."""

    name: str  # one name everywhere: manifest entries, results' family, loaders
    label: str  # short display name, e.g. "LiteRT"
    distribution: str  # the wheel whose version names the runtime in results
    order: int  # place in tables and in prepare (a converter may read earlier artifacts)
    variants: tuple[VariantSpec, ...]
    # package -> the distributions that may provide it (their versions go into results)
    packages: dict[str, tuple[str, ...]] = field(default_factory=dict)
    # its static int8 kernels are exact on x86 only with int8 dot-product instructions (VNNI/AMX):
    # without them their outputs are no reference for another arch's (host/run/verify.py)
    int8_exact_needs_dot_product: bool = False
    # what its converter starts from: "keras" (the models in prepare's memory) or "onnx" (the
    # float model's ONNX export and the calibration images alone: prepare runs those beside)
    converts_from: str = "keras"

    @property
    def runner_module(self) -> str:
        return f"{RUNTIMES_PACKAGE}.{self.name}.runner"

    @property
    def convert_module(self) -> str:
        return f"{RUNTIMES_PACKAGE}.{self.name}.convert"

    @property
    def float_variant(self) -> str:
        return self.variants[0].baseline

    def verdict_variant(self, available: Container[str]) -> VariantSpec | None:
        """The first declared variant a verdict is about among ``available`` names, if any."""
        return next((v for v in self.variants if v.verdict_name and v.name in available), None)


def runtimes() -> tuple[RuntimeSpec, ...]:
    """Every declared runtime, in their order."""
    package = importlib.import_module(RUNTIMES_PACKAGE)
    found = []
    for module in pkgutil.iter_modules(package.__path__):
        if not module.ispkg:
            continue
        spec = getattr(importlib.import_module(f"{RUNTIMES_PACKAGE}.{module.name}"), "RUNTIME", None)
        if not isinstance(spec, RuntimeSpec):
            raise TypeError(f"{RUNTIMES_PACKAGE}.{module.name} declares no RUNTIME = RuntimeSpec(...)")
        if spec.name != module.name:
            raise ValueError(f"runtime folder {module.name!r} declares the name {spec.name!r}")
        found.append(spec)
    return tuple(sorted(found, key=lambda spec: (spec.order, spec.name)))


def variant_specs() -> dict[str, tuple[RuntimeSpec, VariantSpec]]:
    """Variant name -> (its runtime, itself), in table order."""
    table: dict[str, tuple[RuntimeSpec, VariantSpec]] = {}
    for runtime in runtimes():
        for variant in runtime.variants:
            if variant.name in table:
                raise ValueError(f"variant {variant.name!r} is declared by two runtimes")
            table[variant.name] = (runtime, variant)
    return table


def base_variant(name: str) -> str:
    """The declared variant a (candidate) variant name is made from: "ort-int8~x" -> "ort-int8"."""
    return name.split(CANDIDATE_MARK, 1)[0]


def candidate_name(variant: str, recipe: str) -> str:
    return f"{variant}{CANDIDATE_MARK}{recipe}"


def is_candidate(name: str) -> bool:
    return CANDIDATE_MARK in name


def runtime_named(name: str) -> RuntimeSpec:
    for runtime in runtimes():
        if runtime.name == name:
            return runtime
    raise KeyError(f"no runtime named {name!r} (known: {', '.join(r.name for r in runtimes())})")
