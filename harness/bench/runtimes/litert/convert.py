"""LiteRT files from the LiteRT converter; input and output stay float32 so every
variant is fed the same images.

Float, fp16 and both full-integer variants come from the inference form; the
QAT variant from the QAT model. Dynamic-range int8 keeps float activations, so
BatchNorm may stay a float MUL/ADD that XNNPACK runs: it is converted from the
model as trained, since the inference form's wide 1×1 depthwise convs would
become hybrid int8-weight ops XNNPACK does not take (measured: 10 ops outside
the delegate, batch-1 call 1.06 ms instead of 0.62 ms).

Each source graph is a weights-only SavedModel, saved once and converted from
there: the Keras converter saves the whole model, optimizer slots too, for every
variant (measured: 38 s of a 39 s float conversion on a 2-core Zen 3). A user's
model is converted as given ("float" and "trained" are the same graph).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np

from harness.bench.conversion import ConversionSources
from harness.bench.sources.base import FLOAT, QAT, TRAINED
from harness.errors import UserError
from harness.runtime_registry import VariantSpec

REPRESENTATIVE_IMAGES = 512  # 100 left 4 of 360 digits flipped vs float, 512 left 2


def convert(variant: VariantSpec, sources: ConversionSources, target: Path) -> None:
    """Convert and write one variant; refuse an integer-only one with float ops left in it."""
    import tensorflow as tf

    def representative() -> Iterator[list[np.ndarray]]:
        for image in sources.calibration[:REPRESENTATIVE_IMAGES]:
            yield [image[None].astype(np.float32)]

    def dynamic(converter) -> None:
        converter.optimizations = [tf.lite.Optimize.DEFAULT]

    def full_int8(converter) -> None:
        # for the QAT model its ranges decide the scales; the converter still demands images
        converter.optimizations = [tf.lite.Optimize.DEFAULT]
        converter.representative_dataset = representative
        converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]

    def fp16(converter) -> None:
        converter.optimizations = [tf.lite.Optimize.DEFAULT]
        converter.target_spec.supported_types = [tf.float16]

    recipes: dict[str, tuple[str, Callable | None]] = {
        "fp32": (FLOAT, None),
        "dynamic-int8": (TRAINED, dynamic),
        "int8": (FLOAT, full_int8),
        "int8-qat": (QAT, full_int8),
        "fp16": (FLOAT, fp16),
    }
    role, configure = recipes[variant.precision]
    converter = tf.lite.TFLiteConverter.from_saved_model(str(sources.saved_model(role)))
    if configure:
        configure(converter)
    content = converter.convert()
    if variant.integer_only:
        require_integer(variant.name, content)
    target.write_bytes(content)


def require_integer(name: str, model_content: bytes) -> None:
    """UserError if an integer-only variant computes anything in float."""
    from harness.bench.runtimes.litert.graph import graph_ops

    floats = Counter(graph_ops(model_content).float_compute)
    if floats:
        listed = ", ".join(f"{op}×{count}" for op, count in sorted(floats.items()))
        raise UserError(
            f"{name} is meant to be integer-only, but the converter left float compute ops in it "
            f"({listed}); a layer of the model has no int8 kernel. Rewrite that layer "
            "(see inference_form.py) rather than measuring a mixed model as int8."
        )
