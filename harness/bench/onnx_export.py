"""The float model as ONNX, once per prepare: what ONNX Runtime and OpenVINO start from.

tf2onnx converts the inference form (the model ``tf-fp32`` is saved from) at
opset 17, with the same input every variant takes: float32 [N, S, S, 3] in
[0, 1], named ``images``. Both runtimes' int8 variants quantize this one graph
with the same calibration images LiteRT uses, so their differences are the
runtimes', not the exports'.
"""

from __future__ import annotations

from pathlib import Path

from harness.bench.conversion import ConversionSources

OPSET = 17
INPUT_NAME = "images"
FLOAT_FILE = "float.onnx"


def float_onnx(sources: ConversionSources) -> Path:
    """The exported float model in the scratch folder (exported on first use)."""
    path = sources.scratch / FLOAT_FILE
    if not path.is_file():
        import tensorflow as tf
        import tf2onnx

        model = sources.float_model
        serve = tf.function(lambda images: model(images, training=False))
        signature = [tf.TensorSpec([None, *model.input_shape[1:]], tf.float32, name=INPUT_NAME)]
        tf2onnx.convert.from_function(serve, input_signature=signature, opset=OPSET, output_path=str(path))
    return path
