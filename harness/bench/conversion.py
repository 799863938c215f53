"""What every runtime's converter gets from prepare, and how prepare calls it."""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from harness.runtime_registry import RuntimeSpec, VariantSpec


@dataclass(frozen=True)
class ConversionSources:
    """The models of one prepare run; a converter writes one variant's artifact from them."""

    trained: Any  # the float tf_keras model as trained
    float_model: Any  # its inference form (inference_form.py): same outputs, int8-friendly layers
    qat_model: Any  # the calibrated, fine-tuned QAT model (tfmot fake-quant wrappers)
    calibration: np.ndarray  # float32 [N, 32, 32, 3] training images for calibration
    artifacts: Path  # where earlier runtimes' artifacts already are
    scratch: Path  # a private folder for intermediates (e.g. an exported ONNX file)


def convert_variant(
    runtime: RuntimeSpec, variant: VariantSpec, sources: ConversionSources, target: Path
) -> None:
    """Write ``variant``'s artifact at ``target`` with its runtime's converter."""
    importlib.import_module(runtime.convert_module).convert(variant, sources, target)
