"""One artifact set from a source's graphs: every variant it can make, and the eval set they are
checked on.

Every set goes through here (the built-in model's at the seed's side and at
another, a user's model at its own), so every set has the same variants where
they can be made, the same references and the same checks. A variant that
cannot be made from a user's model (no graph for it, or a converter that refuses
the model) is recorded with the tool's reason; the others go on. The built-in
model makes every variant: any failure there stops prepare.
"""

from __future__ import annotations

import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from harness.bench import manifest as mf
from harness.bench.conversion import ConversionSources, convert_variant, write_variant
from harness.bench.preprocess import BUILTIN_NORMALIZATION, model_inputs
from harness.bench.progress import StepProgress
from harness.bench.sources.base import Made, NotMade, reason_of
from harness.errors import UserError
from harness.runtime_registry import RuntimeSpec, VariantSpec


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
    """The eval images (uint8 NHWC at the set's side), their labels and how they are normalized."""

    images: np.ndarray
    labels: np.ndarray
    normalize: str = BUILTIN_NORMALIZATION

    def as_float(self) -> np.ndarray:
        """The model's float32 NHWC inputs."""
        return model_inputs(self.images, self.normalize)


@dataclass(frozen=True)
class SetOutputs:
    """The entries of a written set, and the eval predictions of its Keras models (for top-1s)."""

    entries: list[mf.ArtifactEntry]
    not_made: dict[str, str]  # variant -> why it could not be made (a user's model only)
    float_predictions: np.ndarray
    output_kind: str  # "probabilities" or "logits": what the model's float scores are
    qat_predictions: np.ndarray | None = None  # the QAT model, quantizers on (fake-quant)
    qat_float_predictions: np.ndarray | None = None  # its weights with quantizers off

    def top1s(self, labels: np.ndarray | None) -> dict[str, float | None]:
        """The manifest's float (and QAT, QAT-float) eval top-1 (None without real labels)."""

        def share(predictions: np.ndarray | None) -> float | None:
            if labels is None or predictions is None:
                return None
            return round(float(np.mean(predictions == labels)), 4)

        shares = {"float_eval_top1": share(self.float_predictions)}
        if self.qat_predictions is not None:
            shares["qat_eval_top1"] = share(self.qat_predictions)
            shares["qat_float_eval_top1"] = share(self.qat_float_predictions)
        return shares


def write_set(
    out: Path,
    made: Made,
    evaluation: EvalImages,
    specs: dict[str, tuple[RuntimeSpec, VariantSpec]],
    log: StepProgress,
    times: StepTimes,
    tolerant: bool = False,
) -> SetOutputs:
    """Convert every variant into ``out`` and write the eval set with its references; with
    ``tolerant`` (a user's model) a variant that cannot be made is recorded, not fatal."""
    eval_x = evaluation.as_float()
    float_scores = np.asarray(made.float_scores(eval_x))
    float_predictions = float_scores.argmax(axis=1)
    references = {}
    qat_predictions = qat_float_predictions = None
    if made.qat_scores is not None and made.qat_float_scores is not None:
        qat_float_predictions = np.asarray(made.qat_float_scores(eval_x)).argmax(axis=1)
        qat_predictions = np.asarray(made.qat_scores(eval_x)).argmax(axis=1)
        references["qat_float_predictions"] = qat_float_predictions.astype(np.int64)
    times.lap("reference predictions")
    kind = output_kind(float_scores)
    with tempfile.TemporaryDirectory(prefix="quantbench-convert-") as scratch:
        sources = ConversionSources(
            made.graphs, made.calibration, out, Path(scratch), onnx_layout=made.graphs.onnx_layout
        )
        entries, not_made = _convert_all(specs, sources, log, tolerant)
    times.lap("conversions")
    margins = _softmax(float_scores) if kind == "logits" else float_scores
    top2 = np.sort(margins, axis=1)[:, -2:]
    if made.calibration_images is not None:
        labels = made.calibration_labels
        np.savez_compressed(
            out / mf.CALIBRATION_FILE,
            images=made.calibration_images,
            labels=np.full(len(made.calibration_images), -1, np.int64) if labels is None else labels,
        )
    np.savez_compressed(
        out / mf.EVAL_FILE,
        images=evaluation.images,
        labels=evaluation.labels,
        float_predictions=float_predictions.astype(np.int64),  # what every fp32 variant must compute
        float_margins=(top2[:, 1] - top2[:, 0]).astype(np.float32),  # near-ties don't count
        **references,
    )
    return SetOutputs(entries, not_made, float_predictions, kind, qat_predictions, qat_float_predictions)


def output_kind(scores: np.ndarray) -> str:
    """ "probabilities" when every row is in [0, 1] and sums to 1, else "logits"."""
    if (
        scores.size
        and scores.min() >= 0.0
        and scores.max() <= 1.0
        and np.allclose(scores.sum(axis=1), 1, atol=1e-3)
    ):
        return "probabilities"
    return "logits"


def _softmax(scores: np.ndarray) -> np.ndarray:
    shifted = scores - scores.max(axis=1, keepdims=True)
    exp = np.exp(shifted)
    return exp / exp.sum(axis=1, keepdims=True)


def _convert_all(
    specs: dict[str, tuple[RuntimeSpec, VariantSpec]],
    sources: ConversionSources,
    log: StepProgress,
    tolerant: bool,
) -> tuple[list[mf.ArtifactEntry], dict[str, str]]:
    """Every variant's artifact, in table order: the ONNX-only ones in a second process beside
    (``side_conversions``), the rest here; and the reason of each variant not made."""
    from harness.bench.side_conversions import CALIBRATION_FILE, SideConversions

    beside = [name for name, (runtime, _) in specs.items() if runtime.converts_from == "onnx"]
    not_made: dict[str, str] = {}
    side = None
    if beside:
        started = time.perf_counter()
        try:
            sources.onnx()
        except Exception as error:
            reason = _reason(error, "the ONNX export", tolerant)
            not_made.update(dict.fromkeys(beside, reason))
            log.advance(len(beside), "not made: " + ", ".join(beside))
            log.message("warning", f"not made: {', '.join(beside)}: {reason}")
            beside = []
        if beside:
            np.save(sources.scratch / CALIBRATION_FILE, sources.calibration)
            log(
                f"  ONNX export for {', '.join(beside)}: {time.perf_counter() - started:.1f} s; "
                "converted beside"
            )

            def on_side(name: str, reason: str) -> None:
                if reason:
                    log.message("warning", f"not made: {name}: {reason}")
                log.advance(1, f"not made {name}" if reason else f"converted {name}")

            side = SideConversions(
                sources.scratch,
                sources.artifacts,
                beside,
                on_side,
                layout=sources.onnx_layout,
                tolerant=tolerant,
            )
    try:
        here: dict[str, mf.ArtifactEntry] = {}
        for name, (runtime, variant) in specs.items():
            if runtime.converts_from == "onnx":
                continue

            def write(path: Path, runtime=runtime, variant=variant) -> None:
                convert_variant(runtime, variant, sources, path)

            try:
                here[name] = write_variant(
                    sources.artifacts, name, runtime.name, variant.artifact, write, log
                )
            except Exception as error:
                not_made[name] = _reason(error, f"{runtime.label}'s converter", tolerant)
                log.advance(1, f"not made {name}")
                log.message("warning", f"not made: {name}: {not_made[name]}")
        if side is not None:
            made, refused = side.entries()
            here.update(made)
            not_made.update(refused)
    finally:
        if side is not None:
            side.stop()
    return [here[name] for name in specs if name in here], {n: not_made[n] for n in specs if n in not_made}


def _reason(error: Exception, tool: str, tolerant: bool) -> str:
    """Why a variant was not made, in one sentence; re-raised when nothing may be left unmade."""
    if not tolerant:
        if isinstance(error, NotMade):
            raise UserError(f"{tool} could not make a variant of the built-in model: {error}") from error
        raise error
    return reason_of(error, tool)
