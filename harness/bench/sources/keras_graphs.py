"""SavedModels and the ONNX export of Keras models: the built-in tf_keras ones and a user's Keras 3 one.

Each SavedModel holds one ``serve`` function taking float32 [N, H, W, C] (already
normalized) and returning class scores, with the model's weights only: tracking
the whole model would also save its optimizer's slots (Adam: 2 more copies of
every weight) and make the SavedModel 3x as big and slow to convert. A Keras 3
model is written with Keras's own ``ExportArchive`` (tf.Module does not track
Keras 3 variables, and the LiteRT converter then finds unfrozen READ_VARIABLE ops).

The ONNX file is tf2onnx's export of the ``FLOAT`` model at opset 17, its input
named ``images``: ONNX Runtime's and OpenVINO's variants all quantize this one
graph, so their differences are the runtimes', not the exports'.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from harness.bench.sources.base import FLOAT, NotMade

OPSET = 17
INPUT_NAME = "images"


class KerasGraphs:
    """The graphs of Keras models by role (``base.FLOAT``, ``TRAINED``, ``QAT``); a role without a
    model raises NotMade with the reason given for it."""

    onnx_layout = "NHWC"

    def __init__(self, models: dict[str, Any], missing: dict[str, str] | None = None) -> None:
        self._models = models
        self._missing = missing or {}

    def _model(self, role: str):
        if role not in self._models:
            raise NotMade(self._missing.get(role, f"this model has no {role} graph"))
        return self._models[role]

    def saved_model(self, role: str, target: Path) -> None:
        model = self._model(role)
        if is_keras3(model):
            _export_keras3(model, target)
        else:
            save_serving_graph(model, target)

    def onnx(self, target: Path) -> None:
        import tensorflow as tf
        import tf2onnx

        model = self._model(FLOAT)
        serve = tf.function(lambda images: model(images, training=False))
        signature = [tf.TensorSpec([None, *model.input_shape[1:]], tf.float32, name=INPUT_NAME)]
        tf2onnx.convert.from_function(serve, input_signature=signature, opset=OPSET, output_path=str(target))


def is_keras3(model) -> bool:
    """Whether model is a Keras 3 model (a user's ``.keras``), not a tf_keras one."""
    return type(model).__module__.startswith("keras.")


def save_serving_graph(model, directory: Path) -> None:
    """A tf_keras model's weights-only SavedModel with one ``serve`` function."""
    import tensorflow as tf

    module = tf.Module()
    module.weights = list(model.weights)
    module.serve = tf.function(
        lambda images: model(images, training=False),
        input_signature=[tf.TensorSpec([None, *model.input_shape[1:]], tf.float32, name=INPUT_NAME)],
    )
    tf.saved_model.save(module, str(directory))


def _export_keras3(model, directory: Path) -> None:
    import keras
    import tensorflow as tf

    archive = keras.export.ExportArchive()
    archive.track(model)
    archive.add_endpoint(
        "serve",
        lambda images: model(images, training=False),
        input_signature=[tf.TensorSpec([None, *model.inputs[0].shape[1:]], tf.float32, name=INPUT_NAME)],
    )
    archive.write_out(str(directory), verbose=False)
