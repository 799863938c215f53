"""ONNX files for ONNX Runtime, from the float model's ONNX file (a user's as given, or the export).

Static int8 is ``quantize_static`` with min/max calibration on the images LiteRT
calibrates with, per-channel weights, after ORT's own pre-processing (shape
inference and graph clean-up, as its documentation asks). Two formats, both
kept, because which is faster depends on the CPU: QOperator with uint8
activations (QLinearConv etc.: ORT's x86 int8 kernels are U8S8) and QDQ with
int8 activations (Quantize/Dequantize pairs the session fuses where it has a
kernel, else the op stays float). Weights are not reduced to 7 bits: on x86
without VNNI, U8S8 may saturate, which the agreement with float measures.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np

from harness.bench.conversion import ConversionSources
from harness.runtime_registry import VariantSpec

PREPROCESSED_FILE = "float-preprocessed.onnx"


def convert(variant: VariantSpec, sources: ConversionSources, target: Path) -> None:
    """Write one variant's .onnx file at ``target``."""
    from onnxruntime.quantization import QuantFormat, QuantType, quantize_dynamic, quantize_static

    exported = sources.onnx()
    if variant.precision == "fp32":
        target.write_bytes(exported.read_bytes())
        return
    source = preprocessed(exported, sources.scratch)
    if variant.precision == "dynamic-int8":
        quantize_dynamic(str(source), str(target), weight_type=QuantType.QInt8, per_channel=True)
        return
    qdq = variant.name.endswith("-qdq")
    quantize_static(
        str(source),
        str(target),
        CalibrationImages(sources.onnx_input_name(), sources.calibration_in(sources.onnx_layout)),
        quant_format=QuantFormat.QDQ if qdq else QuantFormat.QOperator,
        activation_type=QuantType.QInt8 if qdq else QuantType.QUInt8,
        weight_type=QuantType.QInt8,
        per_channel=True,
    )


def preprocessed(exported: Path, scratch: Path, skip_optimization: bool = False) -> Path:
    """ORT's quantization pre-processing of ``exported`` (shape inference and clean-up), once."""
    from onnxruntime.quantization.shape_inference import quant_pre_process

    path = scratch / (f"{exported.stem}-preprocessed.onnx" if skip_optimization else PREPROCESSED_FILE)
    if not path.is_file():
        quant_pre_process(str(exported), str(path), skip_optimization=skip_optimization)
    return path


class CalibrationImages:
    """ORT's CalibrationDataReader protocol: one image per call, then None."""

    def __init__(self, input_name: str, images: np.ndarray) -> None:
        self._input_name = input_name
        self._images: Iterator[np.ndarray] = iter(images.astype(np.float32))

    def get_next(self) -> dict[str, np.ndarray] | None:
        image = next(self._images, None)
        return None if image is None else {self._input_name: image[None]}
