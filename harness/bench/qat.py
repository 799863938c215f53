"""Quantization-aware training: tfmot's fake-quant graph, with calibrated ranges.

The model given here is the inference form (``inference_form.py``): every layer
is one tfmot knows, so ``quantize_model`` takes it whole with its default
8-bit scheme and the converted file is integer end to end.

tfmot starts every range at ±6: activation ranges follow the data by an EMA
with decay 0.999 (hundreds of steps to move), and the input's "all values"
range only ever widens, so ±6 would survive a short fine-tune and waste most
of the 256 levels. ``calibrate_ranges`` sets each range from one pass over
calibration images first; ``uncalibrated_ranges`` finds any that kept ±6.
"""

from __future__ import annotations

import contextlib
import statistics
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from harness.errors import UserError

TFMOT_DEFAULT_RANGE = 6.0  # tfmot initialises every min/max variable to ∓6


def make_qat_model(inference_model):
    """tfmot's default 8-bit QAT wrapping of the whole model (weights from the float model)."""
    import tensorflow_model_optimization as tfmot

    return tfmot.quantization.keras.quantize_model(inference_model)


def range_variables(qat_model) -> dict[str, tuple]:
    """Quantizer range name -> (min variable, max variable), activations and weights alike."""
    pairs: dict[str, list] = {}
    for weight in qat_model.weights:
        name = weight.name.split(":")[0]
        for suffix, slot in (("_min", 0), ("_max", 1)):
            if name.endswith(suffix):
                pairs.setdefault(name[: -len(suffix)], [None, None])[slot] = weight
    return {name: (low, high) for name, (low, high) in pairs.items() if low is not None and high is not None}


def is_activation_range(name: str) -> bool:
    """Weight ranges are named after the kernel; the rest follow activations."""
    return "kernel" not in name.rsplit("/", 1)[-1]


@contextlib.contextmanager
def _ranges_follow_each_batch() -> Iterator[None]:
    """While active, a moving-average range becomes the last batch's range (EMA decay 0)."""
    from tensorflow_model_optimization.python.core.quantization.keras import quant_ops

    original = quant_ops.MovingAvgQuantize

    def last_batch(*args, **kwargs):
        kwargs["ema_decay"] = 0.0
        return original(*args, **kwargs)

    quant_ops.MovingAvgQuantize = last_batch
    try:
        yield
    finally:
        quant_ops.MovingAvgQuantize = original


def observed_ranges(qat_model, images: np.ndarray) -> dict[str, tuple[float, float]]:
    """Each activation range as one training-mode pass over ``images`` sees it; the model is unchanged.

    The observed range is the min and max of that tensor on these images, with 0
    inside as TFLite needs.
    """
    return _range_pass(qat_model, images, keep_ranges=False)


def calibrate_ranges(qat_model, images: np.ndarray) -> int:
    """Set every activation range to what ``images`` produce, and weight ranges to the weights.

    Nothing else changes (not the BatchNorm statistics a training pass would
    move). Returns how many activation ranges were set.
    """
    return len(_range_pass(qat_model, images, keep_ranges=True))


def _range_pass(qat_model, images: np.ndarray, keep_ranges: bool) -> dict[str, tuple[float, float]]:
    """One training-mode pass with ranges following the batch; put back all but (maybe) the ranges."""
    pairs = range_variables(qat_model)
    activation = [pair for name, pair in pairs.items() if is_activation_range(name)]
    ranges = {id(v) for pair in pairs.values() for v in pair}
    kept = [(w, w.numpy()) for w in qat_model.weights if not (keep_ranges and id(w) in ranges)]
    try:
        for low, high in activation:  # "all values" ranges only widen: start them empty
            low.assign(np.zeros(low.shape, low.dtype.as_numpy_dtype))
            high.assign(np.zeros(high.shape, high.dtype.as_numpy_dtype))
        with _ranges_follow_each_batch():
            qat_model(images, training=True)
        return range_values(qat_model)
    finally:
        for weight, value in kept:
            weight.assign(value)


def range_values(qat_model) -> dict[str, tuple[float, float]]:
    """Activation range name -> (min, max) as floats (per-tensor ranges)."""
    values = {}
    for name, (low, high) in range_variables(qat_model).items():
        if is_activation_range(name):
            values[name] = (float(np.min(low.numpy())), float(np.max(high.numpy())))
    return values


# A range is stale when it is this much wider than what the data produces, and by this much.
STALE_WIDTH_FACTOR = 2.0
STALE_WIDTH_MARGIN = 1.0


def uncalibrated_ranges(qat_model, images: np.ndarray) -> list[str]:
    """Ranges that do not fit the data: still at tfmot's ±6 start, or far wider than ``images`` need.

    An EMA range that started at ±6 keeps most of that width for hundreds of
    steps (decay 0.999), so "exactly ±6" alone would miss a short fine-tune.
    """
    stale = [
        name
        for name, (low, high) in range_variables(qat_model).items()
        if np.any(low.numpy() == -TFMOT_DEFAULT_RANGE) or np.any(high.numpy() == TFMOT_DEFAULT_RANGE)
    ]
    observed = observed_ranges(qat_model, images)
    for name, (low, high) in range_values(qat_model).items():
        width, needed = high - low, observed[name][1] - observed[name][0]
        if width > STALE_WIDTH_FACTOR * needed and width - needed > STALE_WIDTH_MARGIN and name not in stale:
            stale.append(name)
    return stale


def require_calibrated(qat_model, images: np.ndarray) -> None:
    """UserError naming the ranges that do not fit the data (never write such a model)."""
    stale = uncalibrated_ranges(qat_model, images)
    if stale:
        shown = ", ".join(stale[:3]) + (f" and {len(stale) - 3} more" if len(stale) > 3 else "")
        raise UserError(
            f"the QAT model has {len(stale)} quantizer range(s) still at or near tfmot's ±6 default "
            f"({shown}), far wider than the calibration images need: the int8 model would waste most "
            "of its 256 levels. Calibrate the ranges (qat.calibrate_ranges) before fine-tuning; "
            "this is a bug in prepare."
        )


@dataclass(frozen=True)
class RangeSummary:
    """What the manifest records of the final activation ranges."""

    count: int
    lowest_min: float
    highest_max: float
    median_width: float
    median_change: float  # median relative change of width during fine-tuning

    def as_dict(self) -> dict[str, float]:
        return {
            "activation_ranges": self.count,
            "lowest_min": round(self.lowest_min, 4),
            "highest_max": round(self.highest_max, 4),
            "median_width": round(self.median_width, 4),
            "median_relative_change_during_finetune": round(self.median_change, 4),
        }


def summarize_ranges(
    before: dict[str, tuple[float, float]], after: dict[str, tuple[float, float]]
) -> RangeSummary:
    """Summary of ``after``, and how far each range moved from ``before``."""
    widths = {name: high - low for name, (low, high) in after.items()}
    changes = [
        abs(widths[name] - (before[name][1] - before[name][0])) / widths[name]
        for name in after
        if name in before and widths[name] > 0
    ]
    return RangeSummary(
        count=len(after),
        lowest_min=min(low for low, _ in after.values()),
        highest_max=max(high for _, high in after.values()),
        median_width=statistics.median(widths.values()),
        median_change=statistics.median(changes) if changes else 0.0,
    )


def float_weights_model(qat_model, inference_model):
    """The QAT model with its quantizers off: the fine-tuned float weights in the float graph.

    A quantize wrapper owns its layer's kernel, so weights are matched by their
    variable names (``layer/kernel``), which the wrapping keeps.
    """
    import tf_keras as keras

    fine_tuned = {weight.name.split(":")[0]: weight for weight in qat_model.weights}
    graph = keras.models.clone_model(inference_model)
    for layer in graph.layers:
        if not layer.weights:
            continue
        names = [f"{layer.name}/{w.name.split(':')[0].rsplit('/', 1)[-1]}" for w in layer.weights]
        missing = [name for name in names if name not in fine_tuned]
        if missing:
            raise RuntimeError(f"QAT model has no weight {missing[0]}: cannot rebuild its float graph")
        layer.set_weights([fine_tuned[name].numpy() for name in names])
    return graph
