"""What one image costs the network at its input side, counted from the Keras model itself.

Multiply-adds are those of its convolutions and its dense layer (the usual count:
BatchNorm, pooling and additions are left out; every runtime folds or fuses
them). Weights are those layers' kernels and biases: what a call reads, once per
call whatever its batch. Together they give a call's arithmetic intensity, the
fact that decides whether int8's 4× smaller weights or its multiply-add rate
matters more.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ModelCost:
    """Multiply-adds of one image and the weights of one call."""

    macs_per_image: int
    weight_count: int


def model_cost(model) -> ModelCost:
    """Count a built tf_keras model's Conv2D, DepthwiseConv2D and Dense layers (static shapes)."""
    import tf_keras as keras

    macs = weights = 0
    for layer in model.layers:
        if isinstance(layer, keras.layers.DepthwiseConv2D):
            kernel_h, kernel_w, channels, multiplier = layer.depthwise_kernel.shape
            _, out_h, out_w, _ = layer.output_shape
            macs += out_h * out_w * kernel_h * kernel_w * channels * multiplier
        elif isinstance(layer, keras.layers.Conv2D):
            kernel_h, kernel_w, in_per_group, out_channels = layer.kernel.shape
            _, out_h, out_w, _ = layer.output_shape
            macs += out_h * out_w * kernel_h * kernel_w * in_per_group * out_channels
        elif isinstance(layer, keras.layers.Dense):
            inputs, outputs = layer.kernel.shape
            macs += inputs * outputs
        else:
            continue
        weights += sum(int(w.shape.num_elements()) for w in layer.weights)
    return ModelCost(int(macs), int(weights))
