"""Model construction and BatchNorm recalibration (tiny config, in-process)."""

from __future__ import annotations

import numpy as np
import pytest

tf_keras = pytest.importorskip("tf_keras")

from harness.bench.inference_form import standalone_batchnorm_names  # noqa: E402
from harness.bench.model import build_resnet_v2, model_config  # noqa: E402
from harness.bench.training import recalibrate_batchnorm  # noqa: E402


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
