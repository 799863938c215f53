"""ONNX Runtime's int8 recipes for ``quantbench tune``: ``quantize_static`` settings, most promising first.

The format decides the kernels: QOperator writes integer ops (QLinearConv...);
QDQ writes Quantize/Dequantize pairs the session fuses only where it has a
kernel for the pair's types, and leaves the op float elsewhere. Measured on the
built-in ResNet (x86, AVX-512 VNNI): QDQ with int8 activations left 26 of its 73
convolutions float (its grouped 1×1 convolutions: no S8S8 kernel), QDQ with uint8
activations none. Then per-channel or per-tensor weights, the calibration method
(MinMax, Entropy, Percentile), 7-bit weights (``reduce_range``: no saturation
of the 16-bit pair sums without VNNI), and the graph ONNX Runtime's basic
optimizations leave (constants folded, BatchNorm fused), quantized instead of
the exported one.
"""

from __future__ import annotations

from pathlib import Path

from harness.bench.tune.recipe import Recipe, TuneInputs


def _recipe(id_: str, variant: str, summary: str, **options) -> Recipe:
    settings = {"format": "QOperator", "activations": "uint8", "per_channel": True, "method": "MinMax"}
    settings.update(options)
    return Recipe(id_, variant, summary, settings)


RECIPES = (
    _recipe(
        "qop-u8s8",
        "ort-int8",
        "quantize_static QOperator, uint8 activations, per-channel int8 weights, MinMax",
    ),
    _recipe(
        "qdq-u8s8",
        "ort-int8-qdq",
        "quantize_static QDQ, uint8 activations, per-channel int8 weights, MinMax",
        format="QDQ",
    ),
    _recipe(
        "qdq-s8s8",
        "ort-int8-qdq",
        "quantize_static QDQ, int8 activations, per-channel int8 weights, MinMax",
        format="QDQ",
        activations="int8",
    ),
    _recipe(
        "qop-u8s8-entropy",
        "ort-int8",
        "quantize_static QOperator, uint8 activations, per-channel, Entropy calibration",
        method="Entropy",
    ),
    _recipe(
        "qop-u8s8-percentile",
        "ort-int8",
        "quantize_static QOperator, uint8 activations, per-channel, Percentile calibration (99.999)",
        method="Percentile",
    ),
    _recipe(
        "qop-u8s8-tensor",
        "ort-int8",
        "quantize_static QOperator, uint8 activations, per-tensor int8 weights, MinMax",
        per_channel=False,
    ),
    _recipe(
        "qop-u8s8-7bit",
        "ort-int8",
        "quantize_static QOperator, uint8 activations, per-channel 7-bit weights (reduce_range), MinMax",
        reduce_range=True,
    ),
    _recipe(
        "qdq-u8s8-optimized",
        "ort-int8-qdq",
        "quantize_static QDQ, uint8 activations, per-channel, MinMax, of ORT's basic-optimized graph",
        format="QDQ",
        optimized=True,
    ),
)


def build(recipe: Recipe, inputs: TuneInputs, target: Path) -> None:
    """Write the recipe's .onnx file at ``target``."""
    from onnxruntime.quantization import CalibrationMethod, QuantFormat, QuantType, quantize_static

    from harness.bench.runtimes.ort.convert import CalibrationImages, preprocessed

    options = recipe.options
    source = inputs.float_onnx
    if source is None:
        raise FileNotFoundError("the prepared set has no float ONNX file (ort-fp32)")
    if options.get("optimized"):
        source = _basic_optimized(source, inputs.scratch / "ort-basic-optimized.onnx")
    source = preprocessed(source, inputs.scratch, skip_optimization=bool(options.get("optimized")))
    quantize_static(
        str(source),
        str(target),
        CalibrationImages(_input_name(source), inputs.calibration_in(inputs.onnx_layout)),
        quant_format=QuantFormat.QDQ if options["format"] == "QDQ" else QuantFormat.QOperator,
        activation_type=QuantType.QInt8 if options["activations"] == "int8" else QuantType.QUInt8,
        weight_type=QuantType.QInt8,
        per_channel=options["per_channel"],
        reduce_range=bool(options.get("reduce_range")),
        calibrate_method=getattr(CalibrationMethod, options["method"]),
    )


def _basic_optimized(source: Path, target: Path) -> Path:
    import onnxruntime as ort

    if not target.is_file():
        options = ort.SessionOptions()
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_BASIC
        options.optimized_model_filepath = str(target)
        options.log_severity_level = 3
        ort.InferenceSession(str(source), options, providers=["CPUExecutionProvider"])
    return target


def _input_name(path: Path) -> str:
    import onnx

    model = onnx.load(str(path), load_external_data=False)
    initializers = {tensor.name for tensor in model.graph.initializer}
    return next(value.name for value in model.graph.input if value.name not in initializers)
