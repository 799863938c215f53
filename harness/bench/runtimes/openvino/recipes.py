"""OpenVINO's int8 recipes for ``quantbench tune``: NNCF's post-training settings, most promising first.

``nncf.quantize`` with its presets (performance: symmetric activations; mixed:
asymmetric activations, which suit ReLU-free or shifted ranges) and with its
full bias correction instead of the fast one; and
``nncf.quantize_with_accuracy_control``, which reverts the layers that hurt most
to float until the top-1 drop on a validation set is within ``max_drop``. Its
validation set is the labelled calibration images, never the eval images the
gate judges on.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from harness.bench.runtimes.openvino.convert import COMPILE_FILE, MODEL_FILE, PINNED_PROPERTIES
from harness.bench.sources.base import NotMade
from harness.bench.tune.recipe import Recipe, TuneInputs

RECIPES = (
    Recipe("performance", "openvino-int8", "nncf.quantize, preset PERFORMANCE, fast bias correction"),
    Recipe(
        "mixed", "openvino-int8", "nncf.quantize, preset MIXED (asymmetric activations)", {"preset": "MIXED"}
    ),
    Recipe(
        "bias-correction",
        "openvino-int8",
        "nncf.quantize, preset PERFORMANCE, full bias correction",
        {"fast_bias_correction": False},
    ),
    Recipe(
        "accuracy-control",
        "openvino-int8",
        "nncf.quantize_with_accuracy_control: layers back to float until the top-1 drop is within the gate",
        {"accuracy_control": True},
    ),
)
VALIDATION_BATCH = 32


def build(recipe: Recipe, inputs: TuneInputs, target: Path) -> None:
    """Write the recipe's IR folder (model.xml, model.bin, compile.json) at ``target``."""
    import nncf
    import openvino as ov

    if inputs.float_onnx is None:
        raise FileNotFoundError("the prepared set has no float ONNX file (ort-fp32)")
    model = ov.convert_model(str(inputs.float_onnx))
    images = list(inputs.calibration_in(inputs.onnx_layout).astype(np.float32))
    calibration = nncf.Dataset(images, lambda image: image[None])
    options = recipe.options
    if options.get("accuracy_control"):
        model = _accuracy_controlled(model, images, inputs)
    else:
        model = nncf.quantize(
            model,
            calibration,
            subset_size=len(images),
            preset=getattr(nncf.QuantizationPreset, options.get("preset", "PERFORMANCE")),
            fast_bias_correction=options.get("fast_bias_correction", True),
        )
    target.mkdir(parents=True)
    ov.save_model(model, str(target / MODEL_FILE), compress_to_fp16=False)
    (target / COMPILE_FILE).write_text(json.dumps(PINNED_PROPERTIES, indent=1, sort_keys=True) + "\n")


def _accuracy_controlled(model, images: list[np.ndarray], inputs: TuneInputs):
    import nncf

    labels = inputs.calibration_labels
    if labels is None:
        raise NotMade(
            "accuracy control needs labelled calibration images to validate on; these have no labels"
        )
    pairs = list(zip(images, labels, strict=True))
    validation = nncf.Dataset(pairs, lambda pair: pair[0][None])

    def top1(compiled, items) -> float:
        output = compiled.outputs[0]
        right = [int(np.argmax(compiled(image[None])[output]) == label) for image, label in items]
        return float(np.mean(right))

    return nncf.quantize_with_accuracy_control(
        model,
        calibration_dataset=nncf.Dataset(images, lambda image: image[None]),
        validation_dataset=validation,
        validation_fn=top1,
        max_drop=inputs.max_drop / 100.0,
        drop_type=nncf.DropType.ABSOLUTE,
        subset_size=len(images),
    )
