"""Model construction and BatchNorm recalibration (tiny config, in-process)."""

from __future__ import annotations

import numpy as np
import pytest

tf_keras = pytest.importorskip("tf_keras")

from harness.bench.inference_form import standalone_batchnorm_names  # noqa: E402
from harness.bench.model import build_resnet_v2, model_config  # noqa: E402
from harness.bench.training import (  # noqa: E402
    Schedule,
    recalibrate_batchnorm,
    split_validation,
    train,
    validation_scores,
)


def test_resnet50_has_the_slim_v2_shape():
    model = build_resnet_v2(model_config("resnet50", 100))
    assert model.input_shape == (None, 32, 32, 3) and model.output_shape == (None, 100)
    assert model.count_params() == 23_769_700  # tf_keras.applications.ResNet50V2 at 32x32x100
    # 16 pre-activation BNs + post_bn stand alone: tfmot cannot fold them into a conv
    assert len(standalone_batchnorm_names(model)) == 17


def test_recalibration_sets_moving_statistics_from_the_images():
    model = build_resnet_v2(model_config("tiny", 100))
    images = np.random.default_rng(0).uniform(0.0, 1.0, (64, 32, 32, 3)).astype(np.float32)
    first = model.get_layer("conv2_block1_preact_bn")
    assert np.allclose(first.moving_mean.numpy(), 0.0)  # fresh layer: the initial value
    counted = recalibrate_batchnorm(model, images)
    assert counted == sum(isinstance(layer, tf_keras.layers.BatchNormalization) for layer in model.layers)
    feeding = tf_keras.Model(model.input, model.get_layer("pool1_pool").output)
    activations = feeding(images, training=False).numpy()
    expected = activations.reshape(-1, activations.shape[-1]).mean(axis=0)
    assert np.allclose(first.moving_mean.numpy(), expected, rtol=1e-3, atol=1e-4)
    assert first.momentum == pytest.approx(0.99)  # restored afterwards


def test_the_one_cycle_schedule_warms_up_to_its_peak_then_anneals_to_zero():
    schedule = Schedule(2e-3, epochs=6, warmup_epochs=1)
    rate = schedule.learning_rate(steps_per_epoch=10)
    assert float(rate(0)) == pytest.approx(2e-4)  # a tenth of the peak
    assert float(rate(10)) == pytest.approx(2e-3)  # the peak, after one epoch
    assert float(rate(35)) == pytest.approx(1e-3, rel=1e-3)  # half-way down the cosine
    assert float(rate(60)) == pytest.approx(0.0, abs=1e-9)
    assert Schedule(1e-5, epochs=1, anneal=False).learning_rate(10) == 1e-5


def test_a_whole_schedule_keeps_its_last_epoch_and_records_every_epoch():
    images = np.random.default_rng(0).uniform(0.0, 1.0, (96, 32, 32, 3)).astype(np.float32)
    labels = np.random.default_rng(1).integers(0, 10, 96)
    split = split_validation(images, labels, seed=0)
    model = build_resnet_v2(model_config("tiny", 100))
    run = train(model, split, Schedule(1e-3, epochs=2), None, seed=0, log=lambda text: None)
    assert run.stopped_by == "schedule" and run.epochs_run == 2
    assert [entry["epoch"] for entry in run.history] == [1, 2]
    assert run.validation_loss == run.history[-1]["validation_loss"] > 0
    assert (run.validation_top1, run.validation_loss) == validation_scores(model, split)


def test_the_cost_counts_each_conv_and_dense_multiply_add_and_weight_by_hand():
    from harness.bench.model_cost import model_cost

    layers = tf_keras.layers
    inputs = tf_keras.Input((8, 8, 2))
    x = layers.Conv2D(4, 3, padding="same")(inputs)  # 8*8 positions * 3*3*2 inputs * 4 outputs
    x = layers.DepthwiseConv2D(1)(x)  # 8*8 * 4 channels, a multiply each
    x = layers.BatchNormalization()(x)  # not a multiply-add count, not a weight of the count
    x = layers.GlobalAveragePooling2D()(x)
    outputs = layers.Dense(10)(x)  # 4 * 10
    cost = model_cost(tf_keras.Model(inputs, outputs))
    assert cost.macs_per_image == 8 * 8 * 3 * 3 * 2 * 4 + 8 * 8 * 4 + 4 * 10
    assert cost.weight_count == (3 * 3 * 2 * 4 + 4) + (4 + 4) + (4 * 10 + 10)


def test_resnet50_at_224_is_the_same_weights_and_49_times_the_conv_multiply_adds():
    from harness.bench.model_cost import model_cost

    config = model_config("resnet50", 100)
    small, large = build_resnet_v2(config), build_resnet_v2(config, 224)
    assert large.input_shape == (None, 224, 224, 3) and large.count_params() == small.count_params()
    at_32, at_224 = model_cost(small), model_cost(large)
    assert at_32.weight_count == at_224.weight_count
    dense = 2048 * 100  # the classifier sees one pooled vector at either side
    assert at_224.macs_per_image - dense == 49 * (at_32.macs_per_image - dense)
    # TensorFlow's own profiler counts the same graph's Conv2D and MatMul flops (2 per multiply-add)
    assert at_224.macs_per_image == pytest.approx(_profiled_macs(large, 224), rel=0.01)


def _profiled_macs(model, size: int) -> float:
    import tensorflow as tf
    from tensorflow.python.framework.convert_to_constants import convert_variables_to_constants_v2

    spec = tf.TensorSpec([1, size, size, 3], tf.float32)
    graph = convert_variables_to_constants_v2(tf.function(model).get_concrete_function(spec)).graph
    options = (
        tf.compat.v1.profiler.ProfileOptionBuilder(
            tf.compat.v1.profiler.ProfileOptionBuilder.float_operation()
        )
        .with_empty_output()
        .build()
    )
    profile = tf.compat.v1.profiler.profile(graph=graph, cmd="op", options=options)
    return sum(op.total_float_ops for op in profile.children if op.name in ("Conv2D", "MatMul")) / 2
