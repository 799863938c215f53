"""One artifact set from its three Keras models: every variant, and the eval set they are checked on.

Both input sides go through here (``prepare`` at the seed's side, ``prepare_shape``
at another), so every set has the same 13 variants, the same references and the
same checks.
"""

from __future__ import annotations

import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from harness.bench import manifest as mf
from harness.bench.conversion import ConversionSources, convert_variant, write_variant
from harness.bench.progress import StepProgress
from harness.runtime_registry import RuntimeSpec, VariantSpec


@dataclass(frozen=True)
class SetModels:
    """The float model as trained, its inference form, and the calibrated QAT model."""

    trained: Any
    float_model: Any
    qat_model: Any


@dataclass
class StepTimes:
    """Wall seconds of each prepare step, in order (the manifest records them)."""

    seconds: dict[str, float] = field(default_factory=dict)
    last: float = field(default_factory=time.perf_counter)

    def lap(self, step: str) -> None:
        now = time.perf_counter()
        self.seconds[step] = round(now - self.last, 1)
        self.last = now


@dataclass(frozen=True)
class EvalImages:
    """The eval images (uint8 NHWC at the set's side) and their labels."""

    images: np.ndarray
    labels: np.ndarray
    predict_batch: int = 256  # Keras predict's batch (smaller at 224: 49x the activations per image)

    def as_float(self) -> np.ndarray:
        return self.images.astype(np.float32) / 255.0


@dataclass(frozen=True)
class SetOutputs:
    """The entries of a written set, and the eval predictions of its Keras models (for top-1s)."""

    entries: list[mf.ArtifactEntry]
    float_predictions: np.ndarray
    qat_predictions: np.ndarray  # the QAT model, quantizers on (fake-quant)
    qat_float_predictions: np.ndarray  # its weights with quantizers off

    def top1s(self, labels: np.ndarray | None) -> dict[str, float | None]:
        """The manifest's float, QAT and QAT-float eval top-1 (None without real labels)."""

        def share(predictions: np.ndarray) -> float | None:
            return None if labels is None else round(float(np.mean(predictions == labels)), 4)

        return {
            "float_eval_top1": share(self.float_predictions),
            "qat_eval_top1": share(self.qat_predictions),
            "qat_float_eval_top1": share(self.qat_float_predictions),
        }


def write_set(
    out: Path,
    models: SetModels,
    calibration: np.ndarray,
    evaluation: EvalImages,
    specs: dict[str, tuple[RuntimeSpec, VariantSpec]],
    log: StepProgress,
    times: StepTimes,
) -> SetOutputs:
    """Convert every variant into ``out`` and write the eval set with its references."""
    from harness.bench import qat

    eval_x = evaluation.as_float()
    batch = evaluation.predict_batch
    qat_float = qat.float_weights_model(models.qat_model, models.float_model)
    qat_float_predictions = qat_float.predict(eval_x, batch_size=batch, verbose=0).argmax(axis=1)
    float_scores = models.float_model.predict(eval_x, batch_size=batch, verbose=0)
    float_predictions, float_top2 = float_scores.argmax(axis=1), np.sort(float_scores, axis=1)[:, -2:]
    qat_predictions = models.qat_model.predict(eval_x, batch_size=batch, verbose=0).argmax(axis=1)
    times.lap("reference predictions")

    with tempfile.TemporaryDirectory(prefix="quantbench-convert-") as scratch:
        sources = ConversionSources(
            models.trained, models.float_model, models.qat_model, calibration, out, Path(scratch)
        )
        entries = _convert_all(specs, sources, log)
    times.lap("conversions")
    np.savez_compressed(
        out / mf.EVAL_FILE,
        images=evaluation.images,
        labels=evaluation.labels,
        qat_float_predictions=qat_float_predictions.astype(np.int64),
        float_predictions=float_predictions.astype(np.int64),  # what every fp32 variant must compute
        float_margins=(float_top2[:, 1] - float_top2[:, 0]).astype(np.float32),  # near-ties don't count
    )
    return SetOutputs(entries, float_predictions, qat_predictions, qat_float_predictions)


def _convert_all(
    specs: dict[str, tuple[RuntimeSpec, VariantSpec]], sources: ConversionSources, log: StepProgress
) -> list[mf.ArtifactEntry]:
    """Every variant's artifact, in table order: the ONNX-only ones in a second process beside
    (``side_conversions``), the rest here."""
    from harness.bench.onnx_export import float_onnx
    from harness.bench.side_conversions import CALIBRATION_FILE, SideConversions

    beside = [name for name, (runtime, _) in specs.items() if runtime.converts_from == "onnx"]
    side = None
    if beside:
        started = time.perf_counter()
        float_onnx(sources)
        np.save(sources.scratch / CALIBRATION_FILE, sources.calibration)
        log(f"  ONNX export for {', '.join(beside)}: {time.perf_counter() - started:.1f} s; converted beside")
        side = SideConversions(
            sources.scratch,
            sources.artifacts,
            beside,
            lambda entry: log.advance(1, f"converted {entry.name}"),
        )
    try:
        here = {}
        for name, (runtime, variant) in specs.items():
            if name in beside:
                continue

            def write(path: Path, runtime=runtime, variant=variant) -> None:
                convert_variant(runtime, variant, sources, path)

            here[name] = write_variant(sources.artifacts, name, runtime.name, variant.artifact, write, log)
        if side is not None:
            here.update(side.entries())
    finally:
        if side is not None:
            side.stop()
    return [here[name] for name in specs]
