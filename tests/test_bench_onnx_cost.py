"""onnx_model_cost: multiply-adds and weights counted from an ONNX graph, by hand and against Keras."""

from __future__ import annotations

import math
import os

import numpy as np
import pytest

os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")  # before TensorFlow loads, as the bench does

onnx = pytest.importorskip("onnx")

from harness.bench.model_cost import model_cost, onnx_model_cost  # noqa: E402

HAND_MACS = 4 * 8 * 8 * (3 * 3 * 3) + 4 * 4 * 4 * (1 * 3 * 3) + 4 * 5  # conv, depthwise conv, gemm
HAND_WEIGHTS = (4 * 3 * 3 * 3 + 4) + (4 * 1 * 3 * 3 + 4) + (5 * 4 + 5)


def _hand_built_nchw():
    """PyTorch-style: [batch, 3, 8, 8] in, a conv, a depthwise conv, global pool, a Gemm, softmax."""
    from onnx import TensorProto, helper, numpy_helper

    rng = np.random.default_rng(0)

    def initializer(name, shape, dtype=np.float32):
        return numpy_helper.from_array(rng.uniform(-1, 1, shape).astype(dtype), name)

    nodes = [
        # 8×8 outputs × 4 channels, each from 3 channels × 3×3
        helper.make_node("Conv", ["x", "w1", "b1"], ["c1"], kernel_shape=[3, 3], pads=[1, 1, 1, 1]),
        # the depthwise kernel stored as int8 behind a DequantizeLinear, its bias a Constant node
        helper.make_node("DequantizeLinear", ["w2_int8", "w2_scale"], ["w2"]),
        helper.make_node("Constant", [], ["b2"], value=initializer("b2_value", [4])),
        # stride 2: 4×4 outputs × 4 channels, each from 1 channel × 3×3
        helper.make_node("Conv", ["c1", "w2", "b2"], ["c2"], group=4, pads=[1] * 4, strides=[2, 2]),
        helper.make_node("GlobalAveragePool", ["c2"], ["pooled"]),
        helper.make_node("Flatten", ["pooled"], ["flat"]),
        helper.make_node("Gemm", ["flat", "w3", "b3"], ["logits"], transB=1),  # torch's Linear: [out, in]
        helper.make_node("Softmax", ["logits"], ["scores"]),
    ]
    initializers = [
        initializer("w1", [4, 3, 3, 3]),
        initializer("b1", [4]),
        numpy_helper.from_array(rng.integers(-127, 128, [4, 1, 3, 3]).astype(np.int8), "w2_int8"),
        numpy_helper.from_array(np.array(0.01, np.float32), "w2_scale"),
        initializer("w3", [5, 4]),
        initializer("b3", [5]),
    ]
    graph = helper.make_graph(
        nodes,
        "hand",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["batch", 3, 8, 8])],
        [helper.make_tensor_value_info("scores", TensorProto.FLOAT, ["batch", 5])],
        initializers,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], ir_version=8)
    onnx.checker.check_model(model)
    return model


def test_a_hand_built_nchw_model_counts_its_convs_and_gemm_by_hand(tmp_path):
    path = tmp_path / "hand.onnx"
    onnx.save(_hand_built_nchw(), path)
    cost = onnx_model_cost(path, (1, 3, 8, 8))
    assert (cost.macs_per_image, cost.weight_count) == (HAND_MACS, HAND_WEIGHTS) == (7508, 177)
    assert onnx.load(str(path)).graph.input[0].type.tensor_type.shape.dim[0].dim_param == "batch"  # untouched


def test_weights_in_external_data_count_the_same(tmp_path):
    path = tmp_path / "external" / "hand.onnx"
    path.parent.mkdir()
    onnx.save(_hand_built_nchw(), path, save_as_external_data=True, location="hand.data", size_threshold=0)
    assert (path.parent / "hand.data").stat().st_size > 0
    cost = onnx_model_cost(path, (1, 3, 8, 8))
    assert (cost.macs_per_image, cost.weight_count) == (HAND_MACS, HAND_WEIGHTS)


def test_a_transposed_conv_and_a_token_matmul_count_and_a_product_of_activations_does_not(tmp_path):
    from onnx import TensorProto, helper, numpy_helper

    nodes = [
        helper.make_node("ConvTranspose", ["x", "w"], ["up"], strides=[2, 2]),  # [1, 3, 9, 9]
        helper.make_node("Reshape", ["up", "tokens_shape"], ["tokens"]),  # [1, 27, 9]
        helper.make_node("MatMul", ["tokens", "projection"], ["projected"]),  # [1, 27, 7]
        helper.make_node("Transpose", ["projected"], ["keys"], perm=[0, 2, 1]),
        helper.make_node("MatMul", ["projected", "keys"], ["attention"]),  # no weights: not counted
    ]
    constants = {
        "w": np.ones((2, 3, 3, 3), np.float32),  # [C_in, C_out / group, kH, kW]
        "tokens_shape": np.array([1, -1, 9], np.int64),  # a shape, not a weight
        "projection": np.ones((9, 7), np.float32),
    }
    graph = helper.make_graph(
        nodes,
        "tokens",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["batch", 2, "height", "width"])],
        [helper.make_tensor_value_info("attention", TensorProto.FLOAT, None)],
        [numpy_helper.from_array(value, name) for name, value in constants.items()],
    )
    path = tmp_path / "tokens.onnx"
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], ir_version=8), path)
    cost = onnx_model_cost(path, (1, 2, 4, 4))
    # each of the 2×4×4 input elements meets 3×3×3 kernel weights; 27 tokens × 9 × 7
    assert cost.macs_per_image == 2 * 4 * 4 * (3 * 3 * 3) + 27 * 9 * 7
    assert cost.weight_count == 2 * 3 * 3 * 3 + 9 * 7


def test_the_model_quantized_by_onnx_runtime_in_qdq_form_counts_the_same(tmp_path):
    quantization = pytest.importorskip("onnxruntime.quantization")

    class Images(quantization.CalibrationDataReader):
        def __init__(self):
            rng = np.random.default_rng(0)
            self.batches = iter([{"x": rng.uniform(0, 1, (1, 3, 8, 8)).astype(np.float32)} for _ in range(4)])

        def get_next(self):
            return next(self.batches, None)

    float_path, int8_path = tmp_path / "hand.onnx", tmp_path / "hand_qdq.onnx"
    onnx.save(_hand_built_nchw(), float_path)
    quantization.quantize_static(float_path, int8_path, Images(), quant_format=quantization.QuantFormat.QDQ)
    assert any(node.op_type == "QuantizeLinear" for node in onnx.load(str(int8_path)).graph.node)
    # int8 kernels and int32 biases behind DequantizeLinear: as many weights; scales are not counted
    cost = onnx_model_cost(int8_path, (1, 3, 8, 8))
    assert (cost.macs_per_image, cost.weight_count) == (HAND_MACS, HAND_WEIGHTS)


def test_a_shape_inference_cannot_settle_names_the_node_and_a_wrong_input_is_refused(tmp_path):
    model = _hand_built_nchw()
    first = model.graph.node[0]
    first.input[0] = "mystery_out"  # the first conv now reads an op ONNX knows nothing about
    model.graph.node.insert(0, onnx.helper.make_node("Mystery", ["x"], ["mystery_out"], domain="user"))
    first.name = "first_conv"
    model.opset_import.append(onnx.helper.make_opsetid("user", 1))
    path = tmp_path / "mystery.onnx"
    onnx.save(model, path)
    with pytest.raises(ValueError, match="first_conv"):
        onnx_model_cost(path, (1, 3, 8, 8))
    onnx.save(_hand_built_nchw(), path)
    with pytest.raises(ValueError, match="cannot take"):
        onnx_model_cost(path, (1, 8, 8, 3))  # the model's channels are fixed at 3, first
    with pytest.raises(ValueError, match="batch-1"):
        onnx_model_cost(path, (4, 3, 8, 8))


def _nonzero_weights(model) -> None:
    # tf2onnx drops an Add of zeros and merges equal constants: a fresh model's zero biases and equal
    # BatchNorm statistics would leave the ONNX file fewer weights than the model holds
    rng = np.random.default_rng(0)
    model.set_weights([rng.uniform(0.5, 1.5, w.shape).astype(np.float32) for w in model.get_weights()])


def test_the_tiny_resnet_exported_like_onnx_export_counts_as_model_cost(tmp_path):
    tf = pytest.importorskip("tensorflow")
    tf2onnx = pytest.importorskip("tf2onnx")
    tf_keras = pytest.importorskip("tf_keras")
    from harness.bench.model import build_resnet_v2, model_config

    model = build_resnet_v2(model_config("tiny", 10), 32)
    _nonzero_weights(model)
    path = tmp_path / "float.onnx"
    # as the built-in model is exported (sources/keras_graphs.py): tf.function, opset 17, NHWC "images"
    serve = tf.function(lambda images: model(images, training=False))
    signature = [tf.TensorSpec([None, 32, 32, 3], tf.float32, name="images")]
    tf2onnx.convert.from_function(serve, input_signature=signature, opset=17, output_path=str(path))
    counted, built_in = onnx_model_cost(path, (1, 32, 32, 3)), model_cost(model)
    assert counted.macs_per_image == built_in.macs_per_image == 478_720
    # tf2onnx folds a BatchNorm into the bias-less conv before it, which so gains a bias
    foldable = sum(
        layer.filters
        for layer in model.layers
        if isinstance(layer, tf_keras.layers.Conv2D) and not layer.use_bias
    )
    # how many of them it folds varies between machines (CI folded 144 weights, a Xeon 80): only
    # the bounds are the model's
    assert built_in.weight_count <= counted.weight_count <= built_in.weight_count + foldable


def _keras3_cost(model, keras) -> tuple[int, int, int]:
    """Multiply-adds and weights of the Conv2D, DepthwiseConv2D and Dense layers, from their shapes;
    and the output channels of the bias-less Conv2D layers (a folded BatchNorm's bias in ONNX)."""
    macs = weights = foldable = 0
    for layer in model.layers:
        if isinstance(layer, (keras.layers.Conv2D, keras.layers.DepthwiseConv2D, keras.layers.Dense)):
            positions = math.prod(layer.output.shape[1:-1])  # output height × width; 1 for Dense
            macs += positions * math.prod(layer.kernel.shape)
            weights += sum(math.prod(weight.shape) for weight in layer.weights)
            if isinstance(layer, keras.layers.Conv2D) and not layer.use_bias:
                foldable += layer.filters
    return macs, weights, foldable


def test_a_keras3_mobilenet_exported_to_onnx_counts_as_its_layers_within_one_percent(tmp_path):
    pytest.importorskip("tensorflow")
    pytest.importorskip("tf2onnx")
    keras = pytest.importorskip("keras")
    if not keras.__version__.startswith("3."):
        pytest.skip("needs Keras 3")
    model = keras.applications.MobileNetV2(weights=None, input_shape=(32, 32, 3), classes=10)
    _nonzero_weights(model)
    model(np.zeros((1, 32, 32, 3), np.float32))  # Keras exports only a model that has been called
    path = tmp_path / "mobilenetv2.onnx"
    model.export(str(path), format="onnx", verbose=False)
    counted = onnx_model_cost(path, (1, 32, 32, 3))
    macs, weights, foldable = _keras3_cost(model, keras)
    assert counted.macs_per_image == macs == 6_124_928
    assert counted.weight_count == pytest.approx(weights, rel=0.01)
    assert weights <= counted.weight_count <= weights + foldable  # how many tf2onnx folds varies
