"""Turn trained tf_keras models into the measured artifacts.

TF variants are SavedModels of one ``serve`` function (float graph, or the
QAT fake-quant graph: float kernels plus FakeQuant ops, what the 2018
measurement timed). TFLite variants come from the LiteRT converter; their
input and output stay float32 so every variant is fed the same images.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np

from harness.bench.model import IMAGE_SHAPE
from harness.errors import UserError

REPRESENTATIVE_IMAGES = 512  # 100 left 4 of 360 digits flipped vs float, 512 left 2


def save_tf_graph(model, directory: Path) -> None:
    """SavedModel with a ``serve`` function taking float32 [N, 32, 32, 3] in [0, 1]."""
    import tensorflow as tf

    module = tf.Module()
    # Track the weights only: tracking the model would also save its optimizer's
    # slots (Adam: 2 more copies of every weight) and inflate the artifact 3x.
    module.weights = list(model.weights)
    module.serve = tf.function(
        lambda images: model(images, training=False),
        input_signature=[tf.TensorSpec([None, *IMAGE_SHAPE], tf.float32, name="images")],
    )
    tf.saved_model.save(module, str(directory))


def tflite_converters(
    trained_model, float_model, qat_model, calibration_images: np.ndarray
) -> dict[str, Callable]:
    """Variant name -> function returning the .tflite bytes (each converts lazily).

    ``float_model`` is the inference form, ``trained_model`` the same function as
    trained. Dynamic-range int8 keeps float activations, so BatchNorm may stay a
    float MUL/ADD that XNNPACK runs; converted from the inference form, its wide
    1×1 depthwise convs would become hybrid int8-weight ops XNNPACK does not take
    (measured: 10 ops outside the delegate, batch-1 call 1.06 ms instead of 0.62 ms).
    """
    import tensorflow as tf

    def representative() -> Iterator[list[np.ndarray]]:
        for image in calibration_images[:REPRESENTATIVE_IMAGES]:
            yield [image[None].astype(np.float32)]

    def convert(model, configure: Callable | None = None) -> bytes:
        converter = tf.lite.TFLiteConverter.from_keras_model(model)
        if configure:
            configure(converter)
        return converter.convert()

    def dynamic(converter) -> None:
        converter.optimizations = [tf.lite.Optimize.DEFAULT]

    def full_int8(converter) -> None:
        converter.optimizations = [tf.lite.Optimize.DEFAULT]
        converter.representative_dataset = representative
        converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]

    def fp16(converter) -> None:
        converter.optimizations = [tf.lite.Optimize.DEFAULT]
        converter.target_spec.supported_types = [tf.float16]

    return {
        "tflite-fp32": lambda: convert(float_model),
        "tflite-dynamic": lambda: convert(trained_model, dynamic),
        "tflite-int8": lambda: convert(float_model, full_int8),
        # the QAT ranges decide the scales; the converter still demands images for an int8-only target
        "tflite-int8-qat": lambda: convert(qat_model, full_int8),
        "tflite-fp16": lambda: convert(float_model, fp16),
    }


INTEGER_VARIANTS = ("tflite-int8", "tflite-int8-qat")


def require_integer(name: str, model_content: bytes) -> bytes:
    """Return the bytes unchanged; UserError if an integer variant computes anything in float."""
    from harness.bench.runtimes.tflite_graph import graph_ops

    if name not in INTEGER_VARIANTS:
        return model_content
    floats = Counter(graph_ops(model_content).float_compute)
    if floats:
        listed = ", ".join(f"{op}×{count}" for op, count in sorted(floats.items()))
        raise UserError(
            f"{name} is meant to be integer-only, but the converter left float compute ops in it "
            f"({listed}); a layer of the model has no int8 kernel. Rewrite that layer "
            "(see inference_form.py) rather than measuring a mixed model as int8."
        )
    return model_content
