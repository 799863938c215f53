"""Prepare once: the model from its source (the built-in one trained here, or a user's file), every
variant it can make, the eval set they are checked on.

The artifacts are architecture-independent; ``measure`` runs them anywhere.
When the inputs (model, data, epochs, tool versions, code) are unchanged and
every file still matches its checksum, the existing artifacts are reused.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from harness.bench import manifest as mf
from harness.bench import training
from harness.bench.artifact_set import EvalImages, SetOutputs, StepTimes, write_set
from harness.bench.data import Dataset
from harness.bench.model import SEED_INPUT_SIZE
from harness.bench.preprocess import BUILTIN_NORMALIZATION, model_inputs
from harness.bench.progress import StepProgress
from harness.bench.sources import builtin
from harness.bench.sources.base import InputSpec, Made
from harness.bench.sysinfo import package_versions
from harness.errors import UserError
from harness.runtime_registry import runtimes, variant_specs

SEED = builtin.SEED
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
    normalize: str = BUILTIN_NORMALIZATION  # a user's model: how its pixels are normalized


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
    "prepare.py",
    "side_conversions.py",
    "data.py",
    "data_files.py",
    "preprocess.py",
)


def code_fingerprint() -> str:
    """sha256 of the modules that decide the artifacts (each runtime's declaration and
    converter too): changed code, new artifacts."""
    digest = hashlib.sha256()
    here = Path(__file__).parent
    files = [here / name for name in CODE_FILES] + sorted((here / "sources").glob("*.py"))
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
    """The built-in model: train, rewrite, QAT, convert; write artifacts and the manifest into
    ``config.out``; then the set of every other input side in ``config.input_sizes``
    (``prepare_shape``), from the same weights.

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
        times = StepTimes()
        import tensorflow as tf

        config.out.mkdir(parents=True, exist_ok=True)
        made = builtin.train(
            config.model, config.epochs, config.qat_epochs, config.train_minutes, dataset, log, times
        )
        outputs = write_set(
            config.out, made, EvalImages(dataset.eval_images, dataset.eval_labels), specs, log, times
        )
        weights_file, weights_sha256 = made.keep(config.out) if made.keep else ("", "")
        manifest = _manifest(
            config,
            dataset,
            key,
            {**versions, "tensorflow_used": tf.__version__},
            made,
            outputs,
            times,
            source_weights=weights_file,
            source_weights_sha256=weights_sha256,
        )
        log_times(log, times)
        mf.write_manifest(manifest, config.out)
    prepare_shape.drop_stale(config.out, manifest)
    for size in others:
        prepare_shape.prepare_size(size, config.out, manifest, dataset, specs, log)
    return manifest


def prepare_user(
    config: PrepareConfig, source, spec: InputSpec, dataset: Dataset, log: StepProgress | None = None
) -> mf.Manifest:
    """A user's model (``sources.keras_file``, ``sources.onnx_file``): every variant it can make,
    each one not made recorded with its reason; nothing trained. Everything that can be wrong
    with the model or the data is refused before anything is written.

    Progress units: one per variant.
    """
    log = log or StepProgress("prepare")
    specs = variant_specs()
    log.total = len(specs)
    versions = package_versions()
    key = user_inputs_key(config, source, spec, dataset, versions)
    manifest = reusable_manifest(config, key)
    if manifest:
        log(f"artifacts in {config.out} are up to date (same model, data, versions): reused.")
        log.reach(len(specs), "reused: artifacts up to date")
        return manifest
    times = StepTimes()
    calibration = model_inputs(dataset.train_images, config.normalize)
    made = source.make(spec, calibration)
    made.calibration = calibration
    made.calibration_images = dataset.train_images
    made.calibration_labels = dataset.train_labels if dataset.has_labels else None
    _check_outputs(source.name, made, calibration, dataset)
    times.lap("setup (the model and the images)")
    log(
        f"{source.name} ({source.kind}, input {spec.describe()}, normalized '{config.normalize}'): "
        f"{len(calibration)} calibration and {len(dataset.eval_images)} eval images from {dataset.name}"
    )
    config.out.mkdir(parents=True, exist_ok=True)
    evaluation = EvalImages(dataset.eval_images, dataset.eval_labels, config.normalize)
    outputs = write_set(config.out, made, evaluation, specs, log, times, tolerant=True)
    made.cost = _counted_cost(config.out, outputs, spec)
    manifest = _manifest(
        config,
        dataset,
        key,
        versions,
        made,
        outputs,
        times,
        model_kind=source.kind,
        model_sha256=source.fingerprint(),
        input_size=spec.side,
        trained_input_size=spec.side,
        input_layout=spec.layout,
        input_channels=spec.channels,
        normalize=config.normalize,
        output_kind=outputs.output_kind,
        not_made=outputs.not_made,
        data_split=dataset.split,
    )
    manifest.model = source.name
    log_times(log, times)
    mf.write_manifest(manifest, config.out)
    return manifest


def user_inputs_key(config: PrepareConfig, source, spec: InputSpec, dataset: Dataset, versions: dict) -> str:
    """What decides a user model's artifacts: its content (not its path), its input, the
    normalization, the images, the tools and the code."""
    facts = {
        "model": source.name,
        "model_sha256": source.fingerprint(),
        "input": [spec.height, spec.width, spec.channels, spec.layout],
        "normalize": config.normalize,
        "data": dataset.fingerprint(),
        "split": {k: v for k, v in dataset.split.items() if k not in ("calibration", "eval")},
        "versions": versions,
        "code": code_fingerprint(),
    }
    return hashlib.sha256(json.dumps(facts, sort_keys=True, default=str).encode()).hexdigest()


def _check_outputs(name: str, made: Made, calibration: np.ndarray, dataset: Dataset) -> None:
    """The model gives one score per class for each image, at least as many as the data's classes."""
    scores = np.asarray(made.float_scores(calibration[:2]))
    if scores.ndim != 2 or scores.shape[0] != min(2, len(calibration)):
        raise UserError(
            f"{name} outputs an array of shape {list(scores.shape)} for 2 images, not one row of "
            "class scores "
            "per image; quantbench measures image classifiers (logits or probabilities)."
        )
    if dataset.has_labels and dataset.num_classes > scores.shape[1]:
        raise UserError(
            f"{dataset.name} has {dataset.num_classes} classes, more than the {scores.shape[1]} "
            f"scores {name} "
            "outputs; give images of the model's own classes (a labels.txt in the folder sets their order)."
        )


def _counted_cost(out: Path, outputs: SetOutputs, spec: InputSpec):
    """A user model's multiply-adds and weights, counted from its float ONNX file (ort-fp32's)."""
    from harness.bench.model_cost import ModelCost, onnx_model_cost

    entry = next((e for e in outputs.entries if e.runtime == "ort" and e.name.endswith("fp32")), None)
    if entry is None:
        return ModelCost(0, 0)
    shape = (1, spec.height, spec.width, spec.channels)
    if spec.layout == "NCHW":
        shape = (1, spec.channels, spec.height, spec.width)
    try:
        return onnx_model_cost(out / entry.file, shape)
    except ValueError:  # a shape the counter cannot follow: the cost stays unknown (0)
        return ModelCost(0, 0)


def _manifest(
    config: PrepareConfig,
    dataset: Dataset,
    key: str,
    versions: dict[str, str],
    made: Made,
    outputs: SetOutputs,
    times: StepTimes,
    **fields,
) -> mf.Manifest:
    times.lap("accuracy and manifest")
    labelled = dataset.has_labels
    manifest = mf.Manifest(
        model=config.model,
        data=dataset.name,
        data_fingerprint=dataset.fingerprint(),
        has_labels=labelled,
        num_classes=dataset.num_classes,
        epochs=made.epochs,
        qat_epochs=made.qat_epochs,
        inputs_key=key,
        versions=versions,
        training={
            **made.training,
            "eval_images": len(dataset.eval_images),
            "calibration_images": len(made.calibration) if made.calibration is not None else 0,
            "steps_s": times.seconds,
            "params": made.params,
            **outputs.top1s(dataset.eval_labels if labelled else None),
        },
        variants=outputs.entries,
        macs_per_image=made.cost.macs_per_image,
        weight_count=made.cost.weight_count,
        **fields,
    )
    return manifest


def log_times(log: StepProgress, times: StepTimes) -> None:
    log(
        f"prepare took {sum(times.seconds.values()):.0f} s: "
        + ", ".join(f"{k} {v:.0f} s" for k, v in times.seconds.items())
    )
