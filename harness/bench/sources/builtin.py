"""The built-in model: ResNet-50 v2 (or its tiny test config), trained here on the chosen data.

Train the float model at the seed's 32×32, rewrite it into its int8-friendly
inference form (BatchNorm and 1×1 pools as depthwise convs: same outputs),
calibrate and fine-tune a QAT model from it. Every variant of every runtime
can be made from these three models.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from harness.bench import manifest as mf
from harness.bench import training
from harness.bench.artifact_set import StepTimes
from harness.bench.data import Dataset
from harness.bench.model import model_config
from harness.bench.model_cost import model_cost
from harness.bench.progress import StepProgress
from harness.bench.sources.base import FLOAT, QAT, TRAINED, Made
from harness.bench.sources.keras_graphs import KerasGraphs
from harness.errors import UserError

SEED = 0
FLOAT_PEAK_LEARNING_RATE = 1e-3
QAT_LEARNING_RATE = 1e-5


def train(
    model: str,
    epochs: int | None,
    qat_epochs: int,
    train_minutes: float,
    dataset: Dataset,
    log: StepProgress,
    times: StepTimes,
) -> Made:
    """Train, rewrite and QAT the built-in model on dataset; its graphs, references and facts."""
    import tf_keras as keras

    from harness.bench import qat
    from harness.bench.inference_form import MAX_OUTPUT_DIFFERENCE, max_output_difference, to_inference_form
    from harness.bench.model import build_resnet_v2

    float_limit = epochs or training.FLOAT_EPOCHS
    keras.utils.set_random_seed(SEED)
    cfg = model_config(model, num_classes=100)
    if dataset.num_classes > cfg.num_classes:
        raise UserError(f"{dataset.name} has {dataset.num_classes} classes; the model has 100.")
    split = training.split_validation(
        dataset.train_images.astype(np.float32) / 255.0, dataset.train_labels, SEED
    )
    eval_x = dataset.eval_images.astype(np.float32) / 255.0
    calibration = split.train_x[: training.RECALIBRATION_IMAGES]
    float_schedule = training.Schedule(
        FLOAT_PEAK_LEARNING_RATE, float_limit, training.WARMUP_EPOCHS, training.FLOAT_BATCH
    )
    log(
        f"training {model} (float) {float_schedule.describe()} on {len(split.train_x)} images, "
        f"{len(split.val_x)} held out for validation"
    )
    trained = build_resnet_v2(cfg)
    times.lap("setup (imports, data, model)")
    float_run = training.train(
        trained,
        split,
        float_schedule,
        train_minutes * 60,
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

    log(f"quantization-aware fine-tuning: {qat_epochs} epoch(s), ranges calibrated first")
    qat_model = qat.make_qat_model(float_model)
    qat.calibrate_ranges(qat_model, calibration)
    calibrated = qat.range_values(qat_model)
    qat_run = training.train(
        qat_model,
        split,
        training.Schedule(QAT_LEARNING_RATE, qat_epochs, anneal=False),
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
    return keras_made(
        trained,
        float_model,
        qat_model,
        training={
            "train_images": len(split.train_x),
            "validation_images": len(split.val_x),
            "eval_images": len(dataset.eval_images),
            "batch_size": {"float": training.FLOAT_BATCH, "qat": training.TRAIN_BATCH},
            "augmentation": f"random shift of up to {training.MAX_SHIFT} px",
            "float": float_run.as_dict(),
            "qat": {**qat_run.as_dict(), "calibration_images": len(calibration), "ranges": ranges.as_dict()},
            "tf_enable_onednn_opts": os.environ.get("TF_ENABLE_ONEDNN_OPTS", "(TensorFlow's default)"),
            "inference_form_max_difference": difference,
        },
        epochs=float_run.epochs_run,
        qat_epochs=qat_epochs,
        calibration=calibration,
        calibration_labels=split.train_y[: training.RECALIBRATION_IMAGES],
        keep=lambda out: save_source_weights(out, trained, qat_model),
    )


def keras_made(
    trained,
    float_model,
    qat_model,
    *,
    training: dict,
    epochs: int,
    qat_epochs: int,
    calibration: np.ndarray,
    predict_batch: int = 256,
    keep=None,
    calibration_labels: np.ndarray | None = None,
) -> Made:
    """The Made of the built-in model's three Keras models (at any input side)."""
    from harness.bench import qat

    qat_float = qat.float_weights_model(qat_model, float_model)
    return Made(
        graphs=KerasGraphs({FLOAT: float_model, TRAINED: trained, QAT: qat_model}),
        float_scores=lambda x: float_model.predict(x, batch_size=predict_batch, verbose=0),
        cost=model_cost(trained),
        params=int(float_model.count_params()),
        qat_scores=lambda x: qat_model.predict(x, batch_size=predict_batch, verbose=0),
        qat_float_scores=lambda x: qat_float.predict(x, batch_size=predict_batch, verbose=0),
        calibration=calibration,
        # the built-in model's inputs are x / 255 of uint8 images: exactly those bytes again
        calibration_images=np.rint(calibration * 255.0).astype(np.uint8),
        calibration_labels=calibration_labels,
        training=training,
        epochs=epochs,
        qat_epochs=qat_epochs,
        keep=keep,
    )


SOURCE_WEIGHTS = "source-weights.npz"


def save_source_weights(out: Path, trained, qat_model) -> tuple[str, str]:
    """The trained float and the fine-tuned QAT weights, for the sets of other input sides: the
    network is convolutional up to its global pool, so the same weights fit any side."""
    arrays = {f"float_{i}": w for i, w in enumerate(trained.get_weights())}
    arrays.update({f"qat_{i}": w for i, w in enumerate(qat_model.get_weights())})
    np.savez(out / SOURCE_WEIGHTS, **arrays)
    return SOURCE_WEIGHTS, mf.path_sha256(out / SOURCE_WEIGHTS)
