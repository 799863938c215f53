"""SavedModels of one ``serve`` function: the float graph, or the QAT fake-quant graph
(float kernels plus FakeQuant ops, what the 2018 measurement timed)."""

from __future__ import annotations

from pathlib import Path

from harness.bench.conversion import ConversionSources
from harness.bench.model import IMAGE_SHAPE
from harness.runtime_registry import VariantSpec


def convert(variant: VariantSpec, sources: ConversionSources, target: Path) -> None:
    model = sources.qat_model if variant.precision == "fakequant" else sources.float_model
    save_tf_graph(model, target)


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
