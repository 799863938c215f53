"""Small user models and image sets for the "your own model" tests, made as a user would make them.

Each is built in a fresh Python process (Keras 3 as a user has it, nothing of quantbench), so the
test process's TensorFlow set-up does not leak into them.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np

SIDE = 16  # the tiny models' input side
CLASSES = 3

KERAS_MODELS = textwrap.dedent(
    """
    import os, sys
    os.environ.pop("TF_USE_LEGACY_KERAS", None)
    os.environ["TF_CPP_MIN_LOG_LEVEL"] = "3"
    import keras, numpy as np
    import tensorflow as tf
    out, side, classes = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    keras.utils.set_random_seed(0)

    def body(x):
        x = keras.layers.Conv2D(8, 3, strides=2, padding="same", activation="relu")(x)
        x = keras.layers.DepthwiseConv2D(3, padding="same")(x)
        x = keras.layers.BatchNormalization()(x)
        x = keras.layers.ReLU(6.0)(x)
        x = keras.layers.GlobalAveragePooling2D()(x)
        return keras.layers.Dense(classes, activation="softmax")(x)

    inputs = keras.Input((side, side, 3))
    model = keras.Model(inputs, body(inputs))
    model.predict(np.zeros((1, side, side, 3), np.float32), verbose=0)  # Keras's ONNX export wants a call
    model.save(f"{out}/tiny.keras")
    model.export(f"{out}/tiny.onnx", format="onnx", verbose=False)
    # the same network with its input NCHW and a dynamic height and width, as PyTorch exports do
    import tf2onnx
    serve = tf.function(lambda x: model(x, training=False))
    spec = [tf.TensorSpec([None, None, None, 3], tf.float32, name="pixels")]
    tf2onnx.convert.from_function(serve, input_signature=spec, opset=17, output_path=f"{out}/nchw.onnx",
                                  inputs_as_nchw=["pixels"])

    @keras.saving.register_keras_serializable(package="mine")
    class Doubling(keras.layers.Layer):
        def call(self, x):
            return x * 2.0

    inputs = keras.Input((side, side, 3))
    keras.Model(inputs, body(Doubling(name="my_doubling")(inputs))).save(f"{out}/custom.keras")
    inputs = keras.Input((side, side, 3))
    keras.Model(inputs, body(keras.layers.Lambda(lambda t: t * 2.0, name="times_two")(inputs))).save(
        f"{out}/lambda.keras")
    inputs = keras.Input((10,))
    keras.Model(inputs, keras.layers.Dense(classes)(inputs)).save(f"{out}/vector.keras")
    print("ok")
    """
)


def make_models(folder: Path) -> Path:
    """tiny.keras, tiny.onnx (Keras's export), nchw.onnx (dynamic NCHW), custom.keras (a registered
    custom layer), lambda.keras (a Lambda layer), vector.keras (input not an image batch)."""
    folder.mkdir(parents=True, exist_ok=True)
    done = subprocess.run(
        [sys.executable, "-c", KERAS_MODELS, str(folder), str(SIDE), str(CLASSES)],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0 and "ok" in done.stdout, done.stderr[-3000:]
    return folder


def make_image_folder(folder: Path, classes: int = CLASSES, per_class: int = 12, side: int = 20) -> Path:
    """One subfolder of PNGs per class: each class a different colour, so a model can tell them
    apart; a side other than the models' so prepare must fit them."""
    from PIL import Image

    rng = np.random.default_rng(1)
    for label in range(classes):
        target = folder / f"class_{label}"
        target.mkdir(parents=True, exist_ok=True)
        for index in range(per_class):
            image = rng.integers(0, 60, (side, side, 3), dtype=np.uint8)
            image[..., label % 3] += np.uint8(150)
            Image.fromarray(image).save(target / f"{index:03d}.png")
    return folder


def onnx_outside_data(folder: Path) -> Path:
    """An ONNX model whose weights are external data in the folder above its own."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    folder.mkdir(parents=True, exist_ok=True)
    weight = numpy_helper.from_array(np.ones((CLASSES, 3, 1, 1), np.float32), "weight")
    graph = helper.make_graph(
        [
            helper.make_node("Conv", ["images", "weight"], ["conv"]),
            helper.make_node("GlobalAveragePool", ["conv"], ["pooled"]),
            helper.make_node("Flatten", ["pooled"], ["scores"]),
        ],
        "outside",
        [helper.make_tensor_value_info("images", TensorProto.FLOAT, ["batch", 3, SIDE, SIDE])],
        [helper.make_tensor_value_info("scores", TensorProto.FLOAT, ["batch", CLASSES])],
        [weight],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    path = folder / "outside.onnx"
    onnx.save_model(model, str(path), save_as_external_data=True, location="weights.bin", size_threshold=0)
    # point the tensor's data one folder up, as a hand-edited or moved model might
    (folder / "weights.bin").rename(folder.parent / "weights.bin")
    reloaded = onnx.load(str(path), load_external_data=False)
    for entry in reloaded.graph.initializer[0].external_data:
        if entry.key == "location":
            entry.value = "../weights.bin"
    onnx.save_model(reloaded, str(path))
    return path
