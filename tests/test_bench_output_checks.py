"""A float32 variant that does not compute the trained model fails, naming runtime and configuration."""

from __future__ import annotations

import numpy as np
import pytest

from harness.bench.output_checks import MIN_FP32_AGREEMENT, agreement, fp32_agreement_error


def test_agreement_at_or_above_the_bar_passes_and_below_names_the_runtime():
    assert fp32_agreement_error("x-fp32", "rt 1.0", "level 2, 2 threads", MIN_FP32_AGREEMENT, 200) is None
    message = fp32_agreement_error("x-fp32", "rt 1.0", "level 2, 2 threads", 0.953, 360)
    assert message.startswith(
        "x-fp32 (rt 1.0, level 2, 2 threads) agrees with the trained float model on only 95.3%"
    )
    assert agreement(np.array([1, 2, 3, 4]), np.array([1, 2, 0])) == pytest.approx(2 / 3)  # common prefix


def pad_then_maxpool_model() -> bytes:
    """Zero Pad, then MaxPool: the pattern ORT's level-1 rules fold into MaxPool's own pads (−inf)."""
    from onnx import TensorProto, helper, numpy_helper

    nodes = [
        helper.make_node("Pad", ["x", "pads"], ["padded"], mode="constant"),
        helper.make_node("MaxPool", ["padded"], ["y"], kernel_shape=[3, 3], strides=[2, 2]),
    ]
    graph = helper.make_graph(
        nodes,
        "pad_maxpool",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [None, 2, 6, 6])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [None, 2, 3, 3])],
        initializer=[numpy_helper.from_array(np.array([0, 0, 1, 1, 0, 0, 1, 1], np.int64), "pads")],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    return model.SerializeToString()


def test_the_check_catches_onnx_runtimes_pad_maxpool_fusion():
    ort = pytest.importorskip("onnxruntime")
    images = -np.random.default_rng(0).uniform(0.1, 1.0, (300, 2, 6, 6)).astype(np.float32)  # all negative
    # what the model computes: zeros padded around negative values win every border window
    windows = np.lib.stride_tricks.sliding_window_view(
        np.pad(images, ((0, 0), (0, 0), (1, 1), (1, 1))), (3, 3), axis=(2, 3)
    )
    expected = windows[:, :, ::2, ::2].max(axis=(-1, -2)).reshape(len(images), -1).argmax(axis=1)

    def top1(level) -> np.ndarray:
        options = ort.SessionOptions()
        options.graph_optimization_level = level
        session = ort.InferenceSession(pad_then_maxpool_model(), options, providers=["CPUExecutionProvider"])
        return session.run(None, {"x": images})[0].reshape(len(images), -1).argmax(axis=1)

    runtime = f"onnxruntime {ort.__version__}"
    plain = top1(ort.GraphOptimizationLevel.ORT_DISABLE_ALL)
    assert (
        fp32_agreement_error("ort-fp32", runtime, "ORT_DISABLE_ALL", agreement(plain, expected), 300) is None
    )
    fused = top1(ort.GraphOptimizationLevel.ORT_ENABLE_BASIC)
    message = fp32_agreement_error("ort-fp32", runtime, "ORT_ENABLE_BASIC", agreement(fused, expected), 300)
    assert message is not None and f"(onnxruntime {ort.__version__}, ORT_ENABLE_BASIC)" in message


def test_near_ties_of_the_float_model_do_not_count():
    reference = np.array([0, 1, 2, 3])
    flipped_tie = np.array([0, 1, 2, 9])  # the 4th image is a near-tie: float rounding may flip it
    margins = np.array([0.5, 0.2, 0.9, 1e-6])
    assert agreement(flipped_tie, reference, margins) == 1.0
    assert agreement(flipped_tie, reference) == 0.75  # without margins every image counts
