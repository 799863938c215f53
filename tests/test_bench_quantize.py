"""The int8 paths: inference form, calibrated QAT, integer-only conversion (small configs, in-process)."""

from __future__ import annotations

import numpy as np
import pytest

tf_keras = pytest.importorskip("tf_keras")

from harness.bench import qat  # noqa: E402
from harness.bench.conversion import ConversionSources, convert_variant  # noqa: E402
from harness.bench.inference_form import (  # noqa: E402
    max_output_difference,
    standalone_batchnorm_names,
    subsampling_pool_names,
    to_inference_form,
)
from harness.bench.model import ModelConfig, build_resnet_v2  # noqa: E402
from harness.bench.runtimes.litert.convert import require_integer  # noqa: E402
from harness.bench.runtimes.litert.graph import delegation, graph_ops  # noqa: E402
from harness.bench.sources.base import FLOAT, QAT, TRAINED  # noqa: E402
from harness.bench.sources.keras_graphs import KerasGraphs  # noqa: E402
from harness.errors import UserError  # noqa: E402
from harness.runtime_registry import variant_specs  # noqa: E402

# two blocks per stage: the strided 1×1 max-pool shortcuts exist (tiny has one block, none)
SMALL = ModelConfig("small", (2, 2, 2, 2), 8, 10)


@pytest.fixture(scope="module")
def trained_like():
    """A small ResNet v2 whose BatchNorm layers hold non-trivial statistics, and images."""
    rng = np.random.default_rng(0)
    model = build_resnet_v2(SMALL)
    for layer in model.layers:
        if isinstance(layer, tf_keras.layers.BatchNormalization):
            shape = layer.gamma.shape
            layer.set_weights(
                [
                    rng.uniform(0.5, 1.5, shape),
                    rng.normal(0.0, 0.3, shape),
                    rng.normal(0.0, 0.3, shape),
                    rng.uniform(0.5, 2.0, shape),
                ]
            )
    images = rng.uniform(0.0, 1.0, (128, 32, 32, 3)).astype(np.float32)
    return model, images


@pytest.fixture(scope="module")
def converted(trained_like, tmp_path_factory):
    """LiteRT's converter output: {variant: bytes} (from a calibrated QAT model too)."""
    model, images = trained_like
    float_model = to_inference_form(model)
    qat_model = qat.make_qat_model(float_model)
    qat.calibrate_ranges(qat_model, images)
    folder = tmp_path_factory.mktemp("converted")
    graphs = KerasGraphs({TRAINED: model, FLOAT: float_model, QAT: qat_model})
    sources = ConversionSources(graphs, images, folder, folder)
    contents = {}
    for name in ("tflite-dynamic", "tflite-int8", "tflite-int8-qat"):
        runtime, variant = variant_specs()[name]
        convert_variant(runtime, variant, sources, folder / variant.artifact)
        contents[name] = (folder / variant.artifact).read_bytes()
    return contents


def test_inference_form_computes_the_same_function_with_no_bn_or_pool_left(trained_like):
    model, images = trained_like
    assert len(standalone_batchnorm_names(model)) == 9 and len(subsampling_pool_names(model)) == 3
    rewritten = to_inference_form(model)
    assert standalone_batchnorm_names(rewritten) == [] and subsampling_pool_names(rewritten) == []
    assert max_output_difference(model, rewritten, images) < 1e-5


@pytest.mark.parametrize("variant", ["tflite-int8", "tflite-int8-qat"])
def test_integer_variants_have_no_float_op_and_one_partition_besides_softmax(converted, variant):
    from ai_edge_litert.interpreter import Interpreter

    ops = graph_ops(converted[variant])
    assert ops.float_compute == [] and ops.integer == ops.total - 1  # all but the output DEQUANTIZE
    interpreter = Interpreter(model_content=converted[variant], num_threads=1)
    interpreter.allocate_tensors()
    split = delegation(interpreter)
    # XNNPACK runs SOFTMAX in float32 only: the int8 SOFTMAX stays outside, then DEQUANTIZE is a 2nd partition
    assert split.outside_ops == ["SOFTMAX"] and split.partitions == 2
    require_integer(variant, converted[variant])  # raises on a float compute op


def test_a_file_with_float_compute_ops_is_refused_as_int8(converted):
    dynamic = converted["tflite-dynamic"]  # weights int8, activations float: float CONV_2D, ADD, ...
    assert "CONV_2D" in graph_ops(dynamic).float_compute
    with pytest.raises(UserError, match=r"tflite-int8 is meant to be integer-only.*CONV_2D×"):
        require_integer("tflite-int8", dynamic)


def test_calibration_replaces_every_default_range_and_keeps_batchnorm(trained_like):
    model, images = trained_like
    qat_model = qat.make_qat_model(to_inference_form(model))
    assert qat.uncalibrated_ranges(qat_model, images)  # tfmot's ±6 start
    with pytest.raises(UserError, match="±6 default"):
        qat.require_calibrated(qat_model, images)
    statistics = {w.name: w.numpy().copy() for w in qat_model.weights if "moving" in w.name}
    qat.calibrate_ranges(qat_model, images)
    qat.require_calibrated(qat_model, images)
    assert all(np.array_equal(w.numpy(), statistics[w.name]) for w in qat_model.weights if "moving" in w.name)
    ranges = qat.range_values(qat_model)
    # the input's range (its layer is quantize_layer, _1, ... when several QAT models were built)
    (low, high), *_ = [value for name, value in ranges.items() if name.startswith("quantize_layer")]
    assert low == 0.0 and high == pytest.approx(images.max(), abs=1e-6)
    summary = qat.summarize_ranges(ranges, ranges)
    assert summary.count == len(ranges) and summary.median_change == 0.0


def test_the_qat_float_graph_holds_the_fine_tuned_weights(trained_like):
    model, images = trained_like
    float_model = to_inference_form(model)
    qat_model = qat.make_qat_model(float_model)
    untouched = qat.float_weights_model(qat_model, float_model)
    assert max_output_difference(float_model, untouched, images) == 0.0
    kernel = next(w for w in qat_model.weights if w.name.startswith("conv1_conv/kernel"))
    kernel.assign(kernel.numpy() * 2.0)  # as if fine-tuning had moved it
    graph = qat.float_weights_model(qat_model, float_model)
    assert np.array_equal(graph.get_layer("conv1_conv").kernel.numpy(), kernel.numpy())
    assert max_output_difference(float_model, graph, images) > 1e-3


def test_prepare_refuses_a_qat_model_whose_ranges_kept_the_default(tmp_path, monkeypatch):
    from harness.bench.data import make_synthetic
    from harness.bench.prepare import PrepareConfig, prepare

    monkeypatch.setattr(qat, "calibrate_ranges", lambda model, images: 0)  # the step a bug might lose
    with pytest.raises(UserError, match=r"quantizer range\(s\) still at or near tfmot's ±6 default"):
        prepare(PrepareConfig("tiny", 1, 1, tmp_path), make_synthetic(96))
    assert not list(tmp_path.glob("*.tflite"))  # nothing written as if it were fine
