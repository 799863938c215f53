"""The trained float model rewritten into layers every int8 path takes whole.

ResNet v2 has two layer kinds that keep an int8 graph from being one integer
kernel chain:

- stand-alone (pre-activation) BatchNormalization: no convolution precedes it,
  so neither the converter nor tfmot can fold it, and it stays a float MUL and
  ADD. At inference a BN is a per-channel affine ``y = x·w + b`` with
  ``w = γ/√(σ²+ε)`` and ``b = β − μ·w``: a 1×1 ``DepthwiseConv2D`` with those
  weights computes exactly that and quantizes per channel to an int8
  DEPTHWISE_CONV_2D. (Folding it into the previous convolution would be wrong:
  in v2 the un-normalised sum also feeds the identity shortcut.)
- the 1×1 stride-2 MaxPooling shortcut: a max over one pixel is a subsampling,
  which XNNPACK does not delegate as a pooling. A frozen 1×1 stride-2
  ``DepthwiseConv2D`` with weights 1 subsamples the same way.

``to_inference_form`` builds that model with the trained weights; its outputs
equal the training form's to float rounding (``max_output_difference``).
"""

from __future__ import annotations

import numpy as np

AFFINE_SUFFIX = "_affine"  # a stand-alone BN, now a 1×1 depthwise conv
SUBSAMPLE_SUFFIX = "_subsample"  # a 1×1 strided max-pool, now a 1×1 depthwise conv
# The rewritten model must match the training form this closely (max |Δ probability|).
MAX_OUTPUT_DIFFERENCE = 1e-5


def standalone_batchnorm_names(model) -> list[str]:
    """BatchNormalization layers whose input is not a Conv2D (nothing to fold them into)."""
    import tf_keras as keras

    names = []
    for layer in model.layers:
        if not isinstance(layer, keras.layers.BatchNormalization):
            continue
        inbound = layer._inbound_nodes[0].inbound_layers
        inbound = inbound if isinstance(inbound, list) else [inbound]
        if not any(isinstance(source, keras.layers.Conv2D) for source in inbound):
            names.append(layer.name)
    return names


def subsampling_pool_names(model) -> list[str]:
    """MaxPooling2D layers with a 1×1 window: they only subsample."""
    import tf_keras as keras

    return [
        layer.name
        for layer in model.layers
        if isinstance(layer, keras.layers.MaxPooling2D) and tuple(layer.pool_size) == (1, 1)
    ]


def batchnorm_affine(layer) -> tuple[np.ndarray, np.ndarray]:
    """The inference BN as per-channel (scale, offset)."""
    gamma, beta, mean, variance = (np.asarray(w, np.float64) for w in layer.get_weights())
    scale = gamma / np.sqrt(variance + layer.epsilon)
    return scale.astype(np.float32), (beta - mean * scale).astype(np.float32)


def to_inference_form(model):
    """A new tf_keras model: the same function, BN and 1×1 pools as 1×1 depthwise convs."""
    import tf_keras as keras

    affine = set(standalone_batchnorm_names(model))
    subsample = set(subsampling_pool_names(model))

    def clone(layer):
        if layer.name in affine:
            return keras.layers.DepthwiseConv2D(1, use_bias=True, name=layer.name + AFFINE_SUFFIX)
        if layer.name in subsample:
            return keras.layers.DepthwiseConv2D(
                1, strides=layer.strides, use_bias=False, trainable=False, name=layer.name + SUBSAMPLE_SUFFIX
            )
        return layer.__class__.from_config(layer.get_config())

    rewritten = keras.models.clone_model(model, clone_function=clone)
    for layer in model.layers:
        if layer.name in affine:
            scale, offset = batchnorm_affine(layer)
            target = rewritten.get_layer(layer.name + AFFINE_SUFFIX)
            target.set_weights([scale.reshape(1, 1, -1, 1), offset])
        elif layer.name in subsample:
            target = rewritten.get_layer(layer.name + SUBSAMPLE_SUFFIX)
            target.set_weights([np.ones(target.get_weights()[0].shape, np.float32)])
        elif layer.weights:
            rewritten.get_layer(layer.name).set_weights(layer.get_weights())
    return rewritten


def max_output_difference(model, rewritten, images: np.ndarray) -> float:
    """Largest |Δ| between the two models' outputs (inference mode) on ``images``."""
    before = model.predict(images, batch_size=256, verbose=0)
    after = rewritten.predict(images, batch_size=256, verbose=0)
    return float(np.max(np.abs(before.astype(np.float64) - after)))
