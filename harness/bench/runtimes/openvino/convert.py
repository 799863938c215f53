"""OpenVINO IR folders (``model.xml``, ``model.bin``, ``compile.json``) from the ONNX export.

``compile.json`` holds the CPU plugin properties the runner compiles with:
``INFERENCE_PRECISION_HINT`` pinned to f32 for both variants, so "fp32" is
float32 and "int8" differs from it by the quantization alone, on every CPU.
Left to the plugin, the hint follows the CPU: bf16 on x86 with AVX512-BF16 or
AMX, f16 on arm64. Measured on emulated arm64 (neoverse-n1): with the default
f16, 30 of the int8 model's 74 compute layers ran in f16 and 3 of 32 images
changed their top-1 against the same file on x86 (max |Δ probability| 0.78);
pinned to f32, those layers run in f32 and no top-1 changed (max 0.046). The
runner records each layer's runtime precision, so layers without an int8
kernel show up in the kernel path either way. Weights are saved as f32
(``save_model`` would store them as f16 by default).
"""

from __future__ import annotations

import json
from pathlib import Path

from harness.bench.conversion import ConversionSources
from harness.runtime_registry import VariantSpec

MODEL_FILE = "model.xml"
COMPILE_FILE = "compile.json"
PINNED_PROPERTIES = {"INFERENCE_PRECISION_HINT": "f32"}


def convert(variant: VariantSpec, sources: ConversionSources, target: Path) -> None:
    """Write one variant's IR folder at ``target``."""
    import openvino as ov

    model = ov.convert_model(str(sources.onnx()))
    if variant.precision != "fp32":
        import nncf

        images = list(sources.calibration_in(sources.onnx_layout).astype("float32"))
        dataset = nncf.Dataset(images, lambda image: image[None])
        model = nncf.quantize(model, dataset, subset_size=len(images))
    target.mkdir(parents=True)
    ov.save_model(model, str(target / MODEL_FILE), compress_to_fp16=False)
    (target / COMPILE_FILE).write_text(json.dumps(PINNED_PROPERTIES, indent=1, sort_keys=True) + "\n")
