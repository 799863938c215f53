"""Prepare once: train the float model, fine-tune it with QAT, write every variant.

The artifacts are architecture-independent; ``measure`` runs them anywhere.
When the inputs (model, data, epochs, tool versions) are unchanged and every
file still matches its checksum, the existing artifacts are reused.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from harness.bench import manifest as mf
from harness.bench.data import Dataset
from harness.bench.model import model_config
from harness.bench.sysinfo import package_versions
from harness.errors import UserError

TRAIN_BATCH = 64
SEED = 0
RECALIBRATION_IMAGES = 512


@dataclass(frozen=True)
class PrepareConfig:
    """Everything that decides the artifacts."""

    model: str
    epochs: int
    qat_epochs: int
    out: Path


def inputs_key(config: PrepareConfig, dataset: Dataset, versions: dict[str, str]) -> str:
    facts = {
        "model": config.model,
        "epochs": config.epochs,
        "qat_epochs": config.qat_epochs,
        "data": dataset.fingerprint(),
        "versions": versions,
        "seed": SEED,
        "code": code_fingerprint(),
    }
    return hashlib.sha256(json.dumps(facts, sort_keys=True).encode()).hexdigest()


def code_fingerprint() -> str:
    """sha256 of the modules that decide the artifacts: changed code, new artifacts."""
    digest = hashlib.sha256()
    for name in ("model.py", "qat.py", "convert.py", "prepare.py", "data.py"):
        digest.update((Path(__file__).parent / name).read_bytes())
    return digest.hexdigest()


def reusable_manifest(config: PrepareConfig, key: str) -> mf.Manifest | None:
    """The existing manifest if it was made from the same inputs and is intact."""
    try:
        existing = mf.read_manifest(config.out)
        if existing.inputs_key != key:
            return None
        for entry in existing.variants:
            mf.verify_artifact(config.out, entry)
    except UserError:
        return None
    return existing if (config.out / existing.eval_file).is_file() else None


def prepare(config: PrepareConfig, dataset: Dataset, log: Callable[[str], None] = print) -> mf.Manifest:
    """Train, QAT, convert; write artifacts and the manifest into ``config.out``."""
    versions = package_versions()
    key = inputs_key(config, dataset, versions)
    existing = reusable_manifest(config, key)
    if existing:
        log(f"artifacts in {config.out} are up to date (same model, data, epochs, versions): reused.")
        return existing
    import tensorflow as tf
    import tf_keras as keras

    from harness.bench.convert import save_tf_graph, tflite_converters
    from harness.bench.model import build_resnet_v2
    from harness.bench.qat import make_qat_model

    config.out.mkdir(parents=True, exist_ok=True)
    keras.utils.set_random_seed(SEED)
    train_x = dataset.train_images.astype(np.float32) / 255.0
    cfg = model_config(config.model, num_classes=100)
    if dataset.num_classes > cfg.num_classes:
        raise UserError(f"{dataset.name} has {dataset.num_classes} classes; the model has 100.")

    calibration = train_x[:RECALIBRATION_IMAGES]
    log(f"training {config.model} (float) for {config.epochs} epoch(s) on {len(train_x)} images")
    float_model = build_resnet_v2(cfg)
    float_run = train(float_model, train_x, dataset.train_labels, 1e-3, config.epochs, calibration)
    log(f"quantization-aware fine-tuning for {config.qat_epochs} epoch(s)")
    qat_model = make_qat_model(float_model)
    qat_run = train(qat_model, train_x, dataset.train_labels, 1e-4, config.qat_epochs, calibration)

    entries = [
        _write_variant(config.out, "tf-fp32", "tf", "tf-fp32", lambda d: save_tf_graph(float_model, d), log),
        _write_variant(
            config.out, "tf-fakequant", "tf", "tf-fakequant", lambda d: save_tf_graph(qat_model, d), log
        ),
    ]
    for name, convert in tflite_converters(float_model, qat_model, train_x).items():
        entries.append(
            _write_variant(
                config.out, name, "litert", f"{name}.tflite", lambda p, c=convert: p.write_bytes(c()), log
            )
        )
    np.savez_compressed(config.out / mf.EVAL_FILE, images=dataset.eval_images, labels=dataset.eval_labels)
    manifest = mf.Manifest(
        model=config.model,
        data=dataset.name,
        data_fingerprint=dataset.fingerprint(),
        has_labels=dataset.has_labels,
        num_classes=dataset.num_classes,
        epochs=config.epochs,
        qat_epochs=config.qat_epochs,
        inputs_key=key,
        versions={**versions, "tensorflow_used": tf.__version__},
        training={
            "train_images": len(train_x),
            "eval_images": len(dataset.eval_images),
            "batch_size": TRAIN_BATCH,
            "float_train_s": float_run.seconds,
            "qat_train_s": qat_run.seconds,
            "float_train_accuracy": float_run.accuracy,
            "qat_train_accuracy": qat_run.accuracy,
            "params": int(float_model.count_params()),
            "batchnorm_recalibration_images": len(calibration),
            "float_eval_top1": _top1(float_model, dataset),
            "qat_eval_top1": _top1(qat_model, dataset),
        },
        variants=entries,
    )
    mf.write_manifest(manifest, config.out)
    return manifest


@dataclass(frozen=True)
class TrainingRun:
    seconds: float
    accuracy: float | None  # on the training data, last epoch


def train(
    model, images: np.ndarray, labels: np.ndarray, learning_rate: float, epochs: int, calibration: np.ndarray
) -> TrainingRun:
    """Adam + cross-entropy for some epochs, then recalibrate BatchNorm statistics."""
    import tf_keras as keras

    model.compile(
        optimizer=keras.optimizers.Adam(learning_rate),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )
    started = time.perf_counter()
    verbose = 1 if sys.stdout.isatty() else 2
    history = model.fit(images, labels, batch_size=TRAIN_BATCH, epochs=epochs, verbose=verbose)
    seconds = round(time.perf_counter() - started, 2)
    recalibrate_batchnorm(model, calibration)
    return TrainingRun(seconds, _last(history.history.get("accuracy")))


def recalibrate_batchnorm(model, images: np.ndarray) -> int:
    """Set every BatchNormalization's moving statistics from one pass over ``images``.

    A short training run (one epoch here is ~23 steps) leaves the moving averages
    (momentum 0.99) near their initial values, so inference would predict one
    class for everything. With momentum 0 one training-mode pass replaces them
    by the statistics of these images, layer by layer. Returns the layer count.
    """
    import tf_keras as keras

    layers = [m for m in model.submodules if isinstance(m, keras.layers.BatchNormalization)]
    momenta = [layer.momentum for layer in layers]
    for layer in layers:
        layer.momentum = 0.0
    try:
        model(images, training=True)
    finally:
        for layer, momentum in zip(layers, momenta, strict=True):
            layer.momentum = momentum
    return len(layers)


def _write_variant(
    out: Path, name: str, runtime: str, file: str, write: Callable[[Path], None], log
) -> mf.ArtifactEntry:
    """Write one artifact through a temp path, then record its checksum and size."""
    target = out / file
    temp = out / f".tmp-{file}"
    shutil.rmtree(temp, ignore_errors=True) if temp.is_dir() else temp.unlink(missing_ok=True)
    started = time.perf_counter()
    write(temp)
    seconds = time.perf_counter() - started
    if target.is_dir():
        shutil.rmtree(target)
    temp.replace(target)
    entry = mf.ArtifactEntry(
        name=name,
        runtime=runtime,
        file=file,
        sha256=mf.path_sha256(target),
        size_bytes=mf.path_size(target),
        conversion_s=round(seconds, 2),
    )
    log(f"  {name}: {entry.size_bytes / 1e6:.1f} MB in {seconds:.1f} s")
    return entry


def _top1(model, dataset: Dataset) -> float | None:
    """Top-1 of the Keras model on the eval split (None when labels are not real)."""
    if not dataset.has_labels:
        return None
    scores = model.predict(dataset.eval_images.astype(np.float32) / 255.0, batch_size=256, verbose=0)
    return round(float(np.mean(scores.argmax(axis=1) == dataset.eval_labels)), 4)


def _last(values) -> float | None:
    return round(float(values[-1]), 4) if values else None
