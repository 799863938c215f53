"""Prepare once: train the float model, rewrite it, fine-tune it with QAT, write every variant.

The artifacts are architecture-independent; ``measure`` runs them anywhere.
When the inputs (model, data, epochs, tool versions) are unchanged and every
file still matches its checksum, the existing artifacts are reused.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from harness.bench import manifest as mf
from harness.bench import training
from harness.bench.artifact_set import EvalImages, SetModels, StepTimes, write_set
from harness.bench.data import Dataset
from harness.bench.model import SEED_INPUT_SIZE, model_config
from harness.bench.model_cost import model_cost
from harness.bench.progress import StepProgress
from harness.bench.sysinfo import package_versions
from harness.errors import UserError
from harness.runtime_registry import RuntimeSpec, VariantSpec, runtimes, variant_specs

SEED = 0
FLOAT_PEAK_LEARNING_RATE = 1e-3
QAT_LEARNING_RATE = 1e-5
DEFAULT_TRAIN_MINUTES = 30.0


@dataclass(frozen=True)
class PrepareConfig:
    """Everything that decides the artifacts."""

    model: str
    epochs: int | None  # None: the default schedule's length (training.FLOAT_EPOCHS)
    qat_epochs: int
    out: Path
    train_minutes: float = DEFAULT_TRAIN_MINUTES
    # the input sides to write sets for: the seed's (always, trained there) and others from its weights
    input_sizes: tuple[int, ...] = (SEED_INPUT_SIZE,)


def inputs_key(config: PrepareConfig, dataset: Dataset, versions: dict[str, str]) -> str:
    facts = {
        "model": config.model,
        "epochs": config.epochs,
        "qat_epochs": config.qat_epochs,
        "train_minutes": config.train_minutes,
        "data": dataset.fingerprint(),
        "versions": versions,
        "seed": SEED,
        "code": code_fingerprint(),
    }
    return hashlib.sha256(json.dumps(facts, sort_keys=True).encode()).hexdigest()


CODE_FILES = (
    "model.py",
    "model_cost.py",
    "artifact_set.py",
    "prepare_shape.py",
    "inference_form.py",
    "training.py",
    "qat.py",
    "conversion.py",
    "onnx_export.py",
    "prepare.py",
    "side_conversions.py",
    "data.py",
)


def code_fingerprint() -> str:
    """sha256 of the modules that decide the artifacts (each runtime's declaration and
    converter too): changed code, new artifacts."""
    digest = hashlib.sha256()
    here = Path(__file__).parent
    files = [here / name for name in CODE_FILES]
    for runtime in runtimes():
        folder = here / "runtimes" / runtime.name
        files += [folder / "__init__.py", folder / "convert.py"]
    for path in files:
        digest.update(path.name.encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


def reusable_manifest(config: PrepareConfig, key: str, need_weights: bool = False) -> mf.Manifest | None:
    """The existing manifest if it was made from the same inputs and is intact (with its source
    weights, when another input side is to be made from them)."""
    return mf.intact_manifest(config.out, key, need_weights)


def prepare(config: PrepareConfig, dataset: Dataset, log: StepProgress | None = None) -> mf.Manifest:
    """Train, rewrite, QAT, convert; write artifacts and the manifest into ``config.out``; then the
    set of every other input side in ``config.input_sizes`` (``prepare_shape``), from the same weights.

    Progress units: one per float epoch (up to the epoch limit), one per QAT epoch, one per
    variant of each side; a float training that converges early jumps to the end of its share.
    """
    from harness.bench import prepare_shape

    log = log or StepProgress("prepare")
    specs = variant_specs()
    float_limit = config.epochs or training.FLOAT_EPOCHS
    others = [size for size in config.input_sizes if size != SEED_INPUT_SIZE]
    log.total = float_limit + config.qat_epochs + len(specs) * (1 + len(others))
    versions = package_versions()
    key = inputs_key(config, dataset, versions)
    manifest = reusable_manifest(config, key, need_weights=bool(others))
    if manifest:
        log(f"artifacts in {config.out} are up to date (same model, data, epochs, versions): reused.")
        log.reach(float_limit + config.qat_epochs + len(specs), "reused: artifacts up to date")
    else:
        manifest = _prepare_seed(config, dataset, key, versions, specs, log)
    prepare_shape.drop_stale(config.out, manifest)
    for size in others:
        prepare_shape.prepare_size(size, config.out, manifest, dataset, specs, log)
    return manifest


def _prepare_seed(
    config: PrepareConfig,
    dataset: Dataset,
    key: str,
    versions: dict[str, str],
    specs: dict[str, tuple[RuntimeSpec, VariantSpec]],
    log: StepProgress,
) -> mf.Manifest:
    """The seed's set: train at 32×32, QAT, convert every variant."""
    times = StepTimes()
    import tensorflow as tf
    import tf_keras as keras

    from harness.bench import qat
    from harness.bench.inference_form import MAX_OUTPUT_DIFFERENCE, max_output_difference, to_inference_form
    from harness.bench.model import build_resnet_v2

    float_limit = config.epochs or training.FLOAT_EPOCHS
    config.out.mkdir(parents=True, exist_ok=True)
    keras.utils.set_random_seed(SEED)
    cfg = model_config(config.model, num_classes=100)
    if dataset.num_classes > cfg.num_classes:
        raise UserError(f"{dataset.name} has {dataset.num_classes} classes; the model has 100.")
    split = training.split_validation(
        dataset.train_images.astype(np.float32) / 255.0, dataset.train_labels, SEED
    )
    eval_x = dataset.eval_images.astype(np.float32) / 255.0
    calibration = split.train_x[: training.RECALIBRATION_IMAGES]
    cap_s = config.train_minutes * 60
    float_schedule = training.Schedule(
        FLOAT_PEAK_LEARNING_RATE,
        float_limit,
        training.WARMUP_EPOCHS,
        training.FLOAT_BATCH,
    )
    how_long = float_schedule.describe()
    log(
        f"training {config.model} (float) {how_long} on {len(split.train_x)} images, "
        f"{len(split.val_x)} held out for validation"
    )
    trained = build_resnet_v2(cfg)
    times.lap("setup (imports, data, model)")
    float_run = training.train(
        trained,
        split,
        float_schedule,
        cap_s,
        SEED,
        log,
        on_epoch=lambda epoch, limit: log.reach(epoch, f"float training, epoch {epoch}/{limit}"),
    )
    log.reach(float_limit, f"float model trained ({float_run.epochs_run} epochs)")
    times.lap("float training")

    float_model = to_inference_form(trained)
    difference = max_output_difference(trained, float_model, eval_x)
    if difference > MAX_OUTPUT_DIFFERENCE:
        raise UserError(
            f"the inference form of the model differs from the trained one by {difference:.2g} "
            f"(limit {MAX_OUTPUT_DIFFERENCE:g}); this is a bug in inference_form.py."
        )
    log(f"inference form: BatchNorm and 1×1 pools as 1×1 depthwise convs (max |Δ| {difference:.1e})")
    times.lap("inference form")

    log(f"quantization-aware fine-tuning: {config.qat_epochs} epoch(s), ranges calibrated first")
    qat_model = qat.make_qat_model(float_model)
    qat.calibrate_ranges(qat_model, calibration)
    calibrated = qat.range_values(qat_model)
    qat_run = training.train(
        qat_model,
        split,
        training.Schedule(QAT_LEARNING_RATE, config.qat_epochs, anneal=False),
        None,
        SEED + 1,
        log,
        on_epoch=lambda epoch, limit: log.reach(
            float_limit + epoch, f"QAT fine-tuning, epoch {epoch}/{limit}"
        ),
    )
    qat.require_calibrated(qat_model, calibration)
    ranges = qat.summarize_ranges(calibrated, qat.range_values(qat_model))
    times.lap("QAT (calibration, fine-tuning, range check)")
    outputs = write_set(
        config.out,
        SetModels(trained, float_model, qat_model),
        calibration,
        EvalImages(dataset.eval_images, dataset.eval_labels),
        specs,
        log,
        times,
    )
    weights_file, weights_sha256 = save_source_weights(config.out, trained, qat_model)
    cost = model_cost(trained)
    labelled = dataset.has_labels
    manifest = mf.Manifest(
        model=config.model,
        data=dataset.name,
        data_fingerprint=dataset.fingerprint(),
        has_labels=labelled,
        num_classes=dataset.num_classes,
        epochs=float_run.epochs_run,
        qat_epochs=config.qat_epochs,
        inputs_key=key,
        versions={**versions, "tensorflow_used": tf.__version__},
        training={
            "train_images": len(split.train_x),
            "validation_images": len(split.val_x),
            "eval_images": len(dataset.eval_images),
            "batch_size": {"float": training.FLOAT_BATCH, "qat": training.TRAIN_BATCH},
            "augmentation": f"random shift of up to {training.MAX_SHIFT} px",
            "float": float_run.as_dict(),
            "qat": {**qat_run.as_dict(), "calibration_images": len(calibration), "ranges": ranges.as_dict()},
            "steps_s": times.seconds,
            "tf_enable_onednn_opts": os.environ.get("TF_ENABLE_ONEDNN_OPTS", "(TensorFlow's default)"),
            "params": int(float_model.count_params()),
            "inference_form_max_difference": difference,
            **outputs.top1s(dataset.eval_labels if labelled else None),
        },
        variants=outputs.entries,
        macs_per_image=cost.macs_per_image,
        weight_count=cost.weight_count,
        source_weights=weights_file,
        source_weights_sha256=weights_sha256,
    )
    times.lap("accuracy and manifest")
    log(
        f"prepare took {sum(times.seconds.values()):.0f} s: "
        + ", ".join(f"{k} {v:.0f} s" for k, v in times.seconds.items())
    )
    mf.write_manifest(manifest, config.out)
    return manifest


SOURCE_WEIGHTS = "source-weights.npz"


def save_source_weights(out: Path, trained, qat_model) -> tuple[str, str]:
    """The trained float and the fine-tuned QAT weights, for the sets of other input sides: the
    network is convolutional up to its global pool, so the same weights fit any side."""
    arrays = {f"float_{i}": w for i, w in enumerate(trained.get_weights())}
    arrays.update({f"qat_{i}": w for i, w in enumerate(qat_model.get_weights())})
    np.savez(out / SOURCE_WEIGHTS, **arrays)
    return SOURCE_WEIGHTS, mf.path_sha256(out / SOURCE_WEIGHTS)
