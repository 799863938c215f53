"""Quantization-aware training model: tfmot fake-quant graph for ResNet v2.

``tfmot.quantization.keras.quantize_model`` refuses ResNet v2 because its
pre-activation BatchNormalization layers stand alone (no Conv2D before them to
fold into). Those layers get a QuantizeConfig that fake-quantizes their output
only; every other layer uses tfmot's default 8-bit scheme.
"""

from __future__ import annotations


def standalone_batchnorm_names(model) -> list[str]:
    """BatchNormalization layers whose input is not a Conv2D (tfmot cannot fold them)."""
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


def _batchnorm_output_config():
    import tensorflow_model_optimization as tfmot

    quantizers = tfmot.quantization.keras.quantizers

    class StandaloneBatchNormConfig(tfmot.quantization.keras.QuantizeConfig):
        """Keep the BN math in float; fake-quantize its output to 8 bits."""

        def get_weights_and_quantizers(self, layer):
            return []

        def get_activations_and_quantizers(self, layer):
            return []

        def set_quantize_weights(self, layer, quantize_weights):
            pass

        def set_quantize_activations(self, layer, quantize_activations):
            pass

        def get_output_quantizers(self, layer):
            return [
                quantizers.MovingAverageQuantizer(
                    num_bits=8, per_axis=False, symmetric=False, narrow_range=False
                )
            ]

        def get_config(self):
            return {}

    return StandaloneBatchNormConfig


def make_qat_model(float_model):
    """Wrap a trained float model in fake-quant ops (weights start from the float model)."""
    import tensorflow_model_optimization as tfmot
    import tf_keras as keras

    quantize = tfmot.quantization.keras
    config_class = _batchnorm_output_config()
    standalone = set(standalone_batchnorm_names(float_model))

    def annotate(layer):
        if layer.name in standalone:
            return quantize.quantize_annotate_layer(layer, quantize_config=config_class())
        return quantize.quantize_annotate_layer(layer)

    annotated = keras.models.clone_model(
        float_model,
        clone_function=lambda layer: annotate(layer.__class__.from_config(layer.get_config())),
    )
    annotated.set_weights(float_model.get_weights())
    with quantize.quantize_scope({config_class.__name__: config_class}):
        return quantize.quantize_apply(annotated)
