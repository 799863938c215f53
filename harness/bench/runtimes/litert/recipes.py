"""LiteRT's int8 recipes for ``quantbench tune``: its converter's quantization modes, most promising first.

Full-integer post-training int8 (the ``tflite-int8`` recipe), int8 weights with
int16 activations (16x8: finer activation steps, kernels XNNPACK may not take),
dynamic-range int8, the QAT model's file when the model was trained here, and
selective float fallback: LiteRT's quantization debugger measures each layer's
quantization error on the calibration images (RMSE over the quantization step)
and the ``FALLBACK_LAYERS`` worst stay float, the rest int8.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from harness.bench.sources.base import NotMade
from harness.bench.tune.recipe import Recipe, TuneInputs

REPRESENTATIVE_IMAGES = 512
FALLBACK_LAYERS = 3

RECIPES = (
    Recipe(
        "int8", "tflite-int8", "LiteRT converter, full-integer int8 (TFLITE_BUILTINS_INT8), post-training"
    ),
    Recipe(
        "16x8",
        "tflite-int8",
        "LiteRT converter, int8 weights with int16 activations (16x8), post-training",
        {"mode": "16x8"},
    ),
    Recipe(
        "fallback",
        "tflite-int8",
        f"LiteRT converter, int8 with the {FALLBACK_LAYERS} layers of largest quantization error "
        "(quantization debugger: RMSE / scale) left float",
        {"mode": "fallback", "layers": FALLBACK_LAYERS},
    ),
    Recipe(
        "dynamic",
        "tflite-dynamic",
        "LiteRT converter, dynamic-range int8 (int8 weights, float activations)",
        {"mode": "dynamic"},
    ),
    Recipe(
        "qat",
        "tflite-int8-qat",
        "the QAT model's full-integer file (quantization-aware training here)",
        {"mode": "qat"},
    ),
)


def build(recipe: Recipe, inputs: TuneInputs, target: Path) -> None:
    """Write the recipe's .tflite file at ``target``."""
    import tensorflow as tf

    mode = recipe.options.get("mode", "int8")
    if mode == "qat":
        if inputs.qat_tflite is None:
            raise NotMade("no QAT model: quantization-aware training happens only for the model trained here")
        shutil.copyfile(inputs.qat_tflite, target)
        return
    if inputs.float_saved_model is None:
        raise NotMade("the prepared set has no float TensorFlow graph (tf-fp32) to convert from")
    images = inputs.calibration[:REPRESENTATIVE_IMAGES]

    def representative() -> Iterator[list[np.ndarray]]:
        for image in images:
            yield [image[None].astype(np.float32)]

    converter = tf.lite.TFLiteConverter.from_saved_model(str(inputs.float_saved_model))
    converter.optimizations = [tf.lite.Optimize.DEFAULT]
    if mode == "fallback":
        target.write_bytes(_fallback(converter, representative, recipe.options["layers"]))
        return
    if mode != "dynamic":
        converter.representative_dataset = representative
        ops = tf.lite.OpsSet
        int16 = ops.EXPERIMENTAL_TFLITE_BUILTINS_ACTIVATIONS_INT16_WEIGHTS_INT8
        converter.target_spec.supported_ops = [int16] if mode == "16x8" else [ops.TFLITE_BUILTINS_INT8]
    target.write_bytes(converter.convert())


def _fallback(converter, representative, layers: int) -> bytes:
    """An int8 model whose ``layers`` worst layers (by the debugger's RMSE / scale) stay float."""
    import csv
    import io

    import tensorflow as tf

    converter.representative_dataset = representative
    debugger = tf.lite.experimental.QuantizationDebugger(converter=converter, debug_dataset=representative)
    debugger.run()
    dump = io.StringIO()
    debugger.layer_statistics_dump(dump)
    scored = []
    for row in csv.DictReader(io.StringIO(dump.getvalue())):
        scale = float(row.get("scale") or 0)
        if scale > 0 and row.get("mean_squared_error"):
            scored.append((float(row["mean_squared_error"]) ** 0.5 / scale, row["tensor_name"]))
    if not scored:
        raise NotMade("LiteRT's quantization debugger found no quantized layer to leave float")
    worst = [name for _, name in sorted(scored, reverse=True)[:layers]]
    options = tf.lite.experimental.QuantizationDebugOptions(denylisted_nodes=worst)
    selective = tf.lite.experimental.QuantizationDebugger(
        converter=converter, debug_dataset=representative, debug_options=options
    )
    return selective.get_nondebug_quantized_model()
