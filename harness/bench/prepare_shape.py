"""The set of another input side (``prepare --input-size 224``), made from the seed set's weights.

ResNet-50 v2 is convolutional up to its global average pool, so the float and
QAT weights trained at 32×32 fit a 224×224 network unchanged. Training at 224
costs ~49x per image (hours here), so nothing is trained there: the float
weights are the seed's, the QAT weights are the seed's fine-tuned ones, and
every activation range is calibrated anew on training images upscaled to the
side (the activations of a 224 image differ from a 32 one's). The eval images
are the seed's, upscaled the same way (nearest neighbour, so 7× at 224).

What that makes of accuracy is stated in the manifest and every result: the
top-1 at 224 is the network used off its training scale, a timing-only number;
the int8-vs-float32 agreement and the emulated-output check still hold.
"""

from __future__ import annotations

import dataclasses
import hashlib
import shutil

import numpy as np

from harness.bench import manifest as mf
from harness.bench import training
from harness.bench.artifact_set import EvalImages, StepTimes, write_set
from harness.bench.data import Dataset
from harness.bench.model import SEED_INPUT_SIZE, model_config
from harness.bench.progress import StepProgress
from harness.bench.sources.base import Made
from harness.errors import UserError
from harness.runtime_registry import RuntimeSpec, VariantSpec

# One training-mode pass over all of them sets the ranges: 64 images at 224 hold as many pixels
# as ~3,100 at 32 (the seed calibrates on 512), and keep that pass near 1 GB.
CALIBRATION_IMAGES = 64
PREDICT_BATCH = 32  # Keras predict at 224: 49x the activations of a 32×32 image
SPLIT_SEED = 0  # prepare.SEED: the same training split the seed set was calibrated from


def shape_key(seed: mf.Manifest, input_size: int) -> str:
    """A side's inputs: the seed set's (model, data, code, versions) and the side."""
    return hashlib.sha256(f"{seed.inputs_key}:{input_size}".encode()).hexdigest()


def upscale(images: np.ndarray, input_size: int) -> np.ndarray:
    """uint8 NHWC images repeated to input_size (nearest neighbour; a whole multiple only)."""
    side = images.shape[1]
    if input_size % side:
        raise UserError(f"--input-size {input_size} is not a whole multiple of the data's {side} px images.")
    factor = input_size // side
    return np.ascontiguousarray(images.repeat(factor, axis=1).repeat(factor, axis=2))


def drop_stale(out, seed: mf.Manifest) -> None:
    """Remove other-side sets not made from this seed set: a shipped stale set would be measured."""
    for folder in sorted(out.iterdir()) if out.is_dir() else []:
        size = mf.folder_input_size(folder.name)
        if not size or not folder.is_dir():
            continue
        try:
            current = mf.read_manifest(folder).inputs_key == shape_key(seed, size)
        except UserError:
            current = False
        if not current:
            shutil.rmtree(folder)


def prepare_size(
    input_size: int,
    out,
    seed: mf.Manifest,
    dataset: Dataset,
    specs: dict[str, tuple[RuntimeSpec, VariantSpec]],
    log: StepProgress,
) -> mf.Manifest:
    """The set at input_size in its subfolder of ``out`` (reused when made from this seed set)."""
    target = mf.set_directory(out, input_size)
    key = shape_key(seed, input_size)
    existing = mf.intact_manifest(target, key)
    if existing:
        log(f"the {input_size}×{input_size} set in {target} is up to date: reused.")
        log.advance(len(specs), f"reused: {input_size}×{input_size} set up to date")
        return existing
    shutil.rmtree(target, ignore_errors=True)
    target.mkdir(parents=True)
    times = StepTimes()
    trained, float_model, qat_model = _models_at(input_size, out, seed)
    split = training.split_validation(dataset.train_images, dataset.train_labels, SPLIT_SEED)
    calibration = upscale(split.train_x[:CALIBRATION_IMAGES], input_size).astype(np.float32) / 255.0
    eval_images = upscale(dataset.eval_images, input_size)
    times.lap("setup (weights from the seed set)")
    difference = _inference_form_difference(trained, float_model, eval_images[:PREDICT_BATCH])
    from harness.bench import qat
    from harness.bench.sources.builtin import keras_made

    qat.calibrate_ranges(qat_model, calibration)
    qat.require_calibrated(qat_model, calibration)
    times.lap("QAT ranges calibrated")
    made: Made = keras_made(
        trained,
        float_model,
        qat_model,
        training={},
        epochs=seed.epochs,
        qat_epochs=seed.qat_epochs,
        calibration=calibration,
        predict_batch=PREDICT_BATCH,
        calibration_labels=split.train_y[:CALIBRATION_IMAGES],
    )
    log(
        f"{input_size}×{input_size}: weights of the {SEED_INPUT_SIZE}×{SEED_INPUT_SIZE} set (float and QAT), "
        f"activation ranges calibrated on {len(calibration)} upscaled training images"
    )
    outputs = write_set(target, made, EvalImages(eval_images, dataset.eval_labels), specs, log, times)
    cost = made.cost
    manifest = dataclasses.replace(  # the seed's model, data and tools; this side's files and facts
        seed,
        inputs_key=key,
        training={
            "weights": (
                f"the {SEED_INPUT_SIZE}×{SEED_INPUT_SIZE} set's trained float and fine-tuned QAT weights "
                f"(inputs {seed.inputs_key[:12]}); nothing trained at {input_size}×{input_size}"
            ),
            "images": f"the seed's images upscaled {input_size // dataset.eval_images.shape[1]}x (nearest)",
            "eval_images": len(eval_images),
            "calibration_images": len(calibration),
            "steps_s": times.seconds,
            "params": made.params,
            "inference_form_max_difference": difference,
            **outputs.top1s(dataset.eval_labels if seed.has_labels else None),
        },
        variants=outputs.entries,
        input_size=input_size,
        trained_input_size=SEED_INPUT_SIZE,
        macs_per_image=cost.macs_per_image,
        weight_count=cost.weight_count,
        source_weights="",
        source_weights_sha256="",
    )
    mf.write_manifest(manifest, target)
    log(
        f"{input_size}×{input_size} set took {sum(times.seconds.values()):.0f} s: "
        + ", ".join(f"{k} {v:.0f} s" for k, v in times.seconds.items())
    )
    return manifest


def _models_at(input_size: int, out, seed: mf.Manifest) -> tuple:
    """The seed's three models (trained, inference form, QAT) rebuilt at input_size with its
    weights (the QAT ranges as well, calibrated anew by the caller)."""
    from harness.bench import qat
    from harness.bench.inference_form import to_inference_form
    from harness.bench.model import build_resnet_v2

    path = mf.verify_source_weights(out, seed)
    with np.load(path) as archive:
        float_weights = _numbered(archive, "float")
        qat_weights = _numbered(archive, "qat")
    trained = build_resnet_v2(model_config(seed.model, num_classes=100), input_size)
    trained.set_weights(float_weights)
    float_model = to_inference_form(trained)
    qat_model = qat.make_qat_model(float_model)
    qat_model.set_weights(qat_weights)
    return trained, float_model, qat_model


def _numbered(archive, prefix: str) -> list[np.ndarray]:
    count = sum(1 for name in archive.files if name.startswith(f"{prefix}_"))
    return [archive[f"{prefix}_{index}"] for index in range(count)]


def _inference_form_difference(trained, float_model, images: np.ndarray) -> float:
    from harness.bench.inference_form import MAX_OUTPUT_DIFFERENCE, max_output_difference

    difference = max_output_difference(trained, float_model, images.astype(np.float32) / 255.0)
    if difference > MAX_OUTPUT_DIFFERENCE:
        raise UserError(
            f"at this input side the inference form differs from the trained model by {difference:.2g} "
            f"(limit {MAX_OUTPUT_DIFFERENCE:g}); this is a bug in inference_form.py."
        )
    return difference
