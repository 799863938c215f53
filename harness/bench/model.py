"""ResNet v2 (pre-activation bottleneck), the slim ``resnet_v2_50`` shape, in tf_keras.

The layer structure and names follow ``tf_keras.applications.ResNet50V2``
(stride in the last unit of each stage, 1×1 max-pool shortcuts), generalised so
a tiny config of the same family can make tests run in seconds. One difference,
slim's: ``pool1`` is a SAME max-pool (Keras pads with zeros, then pools VALID).

The network is convolutional up to its global average pool, so one set of
weights serves any input side: the seed's 32×32 (trained there) and ImageNet's
224×224 (the same weights, 49× the positions per image).
"""

from __future__ import annotations

from dataclasses import dataclass

from harness.errors import UserError

SEED_INPUT_SIZE = 32  # the seed's CIFAR-100 images: what the model is trained at
IMAGE_SHAPE = (SEED_INPUT_SIZE, SEED_INPUT_SIZE, 3)
# the sides prepare can build (--input-size): the seed's, and ImageNet's
INPUT_SIZES = (SEED_INPUT_SIZE, 224)


def image_shape(input_size: int) -> tuple[int, int, int]:
    """The NHWC image shape (without the batch) of one input side."""
    return (input_size, input_size, 3)


@dataclass(frozen=True)
class ModelConfig:
    """Which ResNet v2: blocks per stage, width of the first stage, classes."""

    name: str
    blocks_per_stage: tuple[int, ...]
    base_width: int
    num_classes: int = 100


MODEL_CONFIGS: dict[str, ModelConfig] = {
    # slim resnet_v2_50: bottleneck blocks [3, 4, 6, 3], widths 64..512 (x4 out)
    "resnet50": ModelConfig("resnet50", (3, 4, 6, 3), 64),
    # same family, for tests only: one block per stage, 1/8 width
    "tiny": ModelConfig("tiny", (1, 1, 1, 1), 8),
}


def model_config(name: str, num_classes: int) -> ModelConfig:
    """The named config with the data's class count."""
    if name not in MODEL_CONFIGS:
        raise UserError(f"unknown model {name!r}; choose one of: {', '.join(MODEL_CONFIGS)}.")
    base = MODEL_CONFIGS[name]
    return ModelConfig(base.name, base.blocks_per_stage, base.base_width, num_classes)


def build_resnet_v2(config: ModelConfig, input_size: int = SEED_INPUT_SIZE):
    """Build the float tf_keras model (softmax output) for input_size×input_size×3 images."""
    import tf_keras as keras

    layers = keras.layers
    inputs = keras.Input(shape=image_shape(input_size), name="image")
    x = layers.ZeroPadding2D(((3, 3), (3, 3)), name="conv1_pad")(inputs)
    x = layers.Conv2D(config.base_width, 7, strides=2, name="conv1_conv")(x)
    # slim's resnet_arg_scope: SAME max-pool, padded with -inf, not a zero pad then VALID.
    # A zero pad before a max-pool is also what ONNX Runtime 1.31 folds into the pool's
    # own (-inf) padding, changing border maxima of negative conv1 outputs.
    x = layers.MaxPooling2D(3, strides=2, padding="same", name="pool1_pool")(x)
    last_stage = len(config.blocks_per_stage)
    for stage, blocks in enumerate(config.blocks_per_stage, start=1):
        filters = config.base_width * 2 ** (stage - 1)
        stride = 1 if stage == last_stage else 2
        x = _stack(layers, x, filters, blocks, stride, name=f"conv{stage + 1}")
    x = layers.BatchNormalization(epsilon=1.001e-5, name="post_bn")(x)
    x = layers.Activation("relu", name="post_relu")(x)
    x = layers.GlobalAveragePooling2D(name="avg_pool")(x)
    outputs = layers.Dense(config.num_classes, activation="softmax", name="predictions")(x)
    return keras.Model(inputs, outputs, name=f"resnet_v2_{config.name}")


def _stack(layers, x, filters: int, blocks: int, stride: int, name: str):
    for index in range(1, blocks + 1):
        x = _bottleneck(
            layers,
            x,
            filters,
            stride=stride if index == blocks else 1,
            conv_shortcut=index == 1,
            name=f"{name}_block{index}",
        )
    return x


def _bottleneck(layers, x, filters: int, stride: int, conv_shortcut: bool, name: str):
    preact = layers.BatchNormalization(epsilon=1.001e-5, name=f"{name}_preact_bn")(x)
    preact = layers.Activation("relu", name=f"{name}_preact_relu")(preact)
    if conv_shortcut:
        shortcut = layers.Conv2D(4 * filters, 1, strides=stride, name=f"{name}_0_conv")(preact)
    elif stride > 1:
        shortcut = layers.MaxPooling2D(1, strides=stride, name=f"{name}_0_pool")(x)
    else:
        shortcut = x
    y = layers.Conv2D(filters, 1, use_bias=False, name=f"{name}_1_conv")(preact)
    y = layers.BatchNormalization(epsilon=1.001e-5, name=f"{name}_1_bn")(y)
    y = layers.Activation("relu", name=f"{name}_1_relu")(y)
    y = layers.ZeroPadding2D(((1, 1), (1, 1)), name=f"{name}_2_pad")(y)
    y = layers.Conv2D(filters, 3, strides=stride, use_bias=False, name=f"{name}_2_conv")(y)
    y = layers.BatchNormalization(epsilon=1.001e-5, name=f"{name}_2_bn")(y)
    y = layers.Activation("relu", name=f"{name}_2_relu")(y)
    y = layers.Conv2D(4 * filters, 1, name=f"{name}_3_conv")(y)
    return layers.Add(name=f"{name}_out")([shortcut, y])
