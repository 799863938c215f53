"""Realistic result files for report tests, built without TensorFlow.

Numbers are in the range a ResNet-50 run really produces (hundreds of ms per
batch of 8, 25-100 MB models, ~76% top-1), with seeded noise on the raw
timings so bootstrap intervals behave as on real data.
"""

from __future__ import annotations

import random
import zlib
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from harness.schema import VARIANTS, Result, summarize_timings, write_result

ISA_FLAGS = {
    "amd64": ["sse4_2", "avx", "avx2", "fma", "f16c"],
    "arm64": ["fp", "asimd", "asimddp", "crc32", "atomics"],
}
RUNTIMES = {
    "tf": "tensorflow 2.21.0",
    "litert": "ai-edge-litert 2.3.0",
    "ort": "onnxruntime 1.31.1",
    "openvino": "openvino 2026.4.1",
}
MODEL_BYTES = {
    "tf-fp32": 102_000_000,
    "tf-fakequant": 102_400_000,
    "tflite-fp32": 102_100_000,
    "tflite-dynamic": 25_900_000,
    "tflite-int8": 25_800_000,
    "tflite-int8-qat": 25_800_000,
    "tflite-fp16": 51_200_000,
    "ort-fp32": 102_000_000,
    "ort-dynamic": 25_900_000,
    "ort-int8": 25_900_000,
    "ort-int8-qdq": 26_000_000,
    "openvino-fp32": 102_000_000,
    "openvino-int8": 26_100_000,
}
# The TF and LiteRT variants: one verdict runtime, the 2018 row; tests of other runtimes name theirs.
DEFAULT_VARIANTS = tuple(name for name, (family, _, _) in VARIANTS.items() if family in ("tf", "litert"))
FLOAT_TOP1 = 0.761
# Time of each variant relative to tflite-fp32 (smaller is faster) and top-1 change.
DEFAULT_TIME_FACTOR = {
    "tf-fp32": 1.10,
    "tf-fakequant": 1.80,
    "tflite-fp32": 1.00,
    "tflite-dynamic": 0.95,
    "tflite-int8": 0.79,
    "tflite-int8-qat": 0.80,
    "tflite-fp16": 1.01,
    "ort-fp32": 1.05,
    "ort-dynamic": 2.00,
    "ort-int8": 0.60,
    "ort-int8-qdq": 1.20,
    "openvino-fp32": 1.02,
    "openvino-int8": 0.45,
}
DEFAULT_TOP1_DELTA = {
    "tflite-dynamic": -0.001,
    "tflite-int8": -0.002,
    "tflite-int8-qat": -0.001,
    "ort-dynamic": -0.001,
    "ort-int8": -0.003,
    "ort-int8-qdq": -0.003,
    "openvino-int8": -0.002,
}


def make_timings(median_s: float, repeats: int, spread: float, seed_text: str) -> list[float]:
    """Seeded, roughly normal timings around ``median_s`` (relative stdev ``spread``)."""
    rng = random.Random(zlib.crc32(seed_text.encode()))
    return [median_s * max(0.2, 1.0 + rng.gauss(0.0, spread)) for _ in range(repeats)]


def make_result(
    variant: str,
    *,
    arch: str = "amd64",
    host: str = "ci-amd64",
    emulated: bool = False,
    batch: int = 8,
    threads: int = 4,
    median_s: float = 0.40,
    spread: float = 0.02,
    repeats: int = 30,
    top1: float | None = FLOAT_TOP1,
    run_id: str = "run-1",
    finished_at: str = "2025-06-01T12:00:00Z",
    rounds: int = 0,
    round_factors: list[float] | None = None,
    **overrides: Any,
) -> Result:
    """One realistic result; ``overrides`` set any other schema field.

    With ``rounds``, the timings are split evenly over that many process rounds (recorded in
    timing_process), each round's scaled by ``round_factors[round]`` (the machine's drift).
    """
    family, precision, baseline = VARIANTS[variant]
    seed_text = f"{host}/{arch}/{variant}/{batch}/{threads}/{run_id}"
    timings = make_timings(median_s, repeats, spread, seed_text)
    processes: list[int] = []
    if rounds:
        processes = [index * rounds // repeats for index in range(repeats)]
        factors = round_factors or [1.0] * rounds
        timings = [t * factors[p] for t, p in zip(timings, processes, strict=True)]
    kernel_path: dict[str, Any] = {}
    if family == "litert":
        kernel_path = {
            "delegate": "xnnpack",
            "xnnpack_partitions": 1,
            "ops_total": 77,
            "float_ops": [],
            "outside_delegate_ops": [],
        }
    result = Result(
        variant=variant,
        runtime=RUNTIMES[family],
        batch=batch,
        threads=threads,
        run_id=run_id,
        family=family,
        precision=precision,
        baseline_variant=baseline,
        warmup=5,
        repeats=repeats,
        timings_s=timings,
        timing_process=processes,
        processes=max(1, rounds),
        top1=top1,
        eval_images=1000 if top1 is not None else 0,
        agreement_with_float=None if variant == baseline else 0.985,
        model_bytes=MODEL_BYTES[variant],
        peak_rss_bytes=420_000_000 + MODEL_BYTES[variant] * 2,
        kernel_path=kernel_path,
        host=host,
        arch=arch,
        emulated=emulated,
        cpu_model="Test CPU @ 2.4GHz",
        cpu_count=4,
        isa_flags=list(ISA_FLAGS[arch]),
        started_at=finished_at,
        finished_at=finished_at,
    )
    for name, value in summarize_timings(timings, batch).items():
        setattr(result, name, value)
    for name, value in overrides.items():
        setattr(result, name, value)
    return result


def machine_results(
    *,
    arch: str = "amd64",
    host: str = "ci-amd64",
    emulated: bool = False,
    float_median_s: float = 0.40,
    time_factor: dict[str, float] | None = None,
    top1_delta: dict[str, float] | None = None,
    labelled: bool = True,
    variants: Iterable[str] = DEFAULT_VARIANTS,
    **common: Any,
) -> list[Result]:
    """All variants of one machine; ``time_factor`` overrides speeds relative to tflite-fp32."""
    factors = {**DEFAULT_TIME_FACTOR, **(time_factor or {})}
    deltas = {**DEFAULT_TOP1_DELTA, **(top1_delta or {})}
    return [
        make_result(
            variant,
            arch=arch,
            host=host,
            emulated=emulated,
            median_s=float_median_s * factors[variant],
            top1=FLOAT_TOP1 + deltas.get(variant, 0.0) if labelled else None,
            **common,
        )
        for variant in variants
    ]


def write_results(directory: Path, results: Iterable[Result]) -> list[Path]:
    """Write each result with the schema's own writer; return the paths."""
    return [write_result(result, directory) for result in results]


def two_arch_results(directory: Path) -> Path:
    """A native amd64 machine and an emulated arm64 one, as a CI matrix uploads them."""
    write_results(directory / "amd64", machine_results())
    write_results(
        directory / "arm64",
        machine_results(
            arch="arm64",
            host="ci-amd64",
            emulated=True,
            float_median_s=6.0,
            time_factor={"tflite-int8": 0.40},
            rounds=2,
            round_factors=[1.0, 1.7],  # QEMU: the second process ran 1.7x slower throughout
            spread=0.14,
        ),
    )
    return directory
