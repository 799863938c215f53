"""Training: the float model until it has converged, and the QAT fine-tune.

Users quantize converged models, so the default float training runs until the
top-1 on a held-out validation split (never the eval set) stops improving,
under an epoch and a wall-time cap; the best epoch's weights are kept. Images
are shifted by up to ``MAX_SHIFT`` pixels each epoch (the digits are small and
a fixed position is memorised in a few epochs).
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass

import numpy as np

TRAIN_BATCH = 64
MAX_SHIFT = 4  # pixels, each way
VALIDATION_FRACTION = 0.1
MAX_EPOCHS = 60
PATIENCE = 6  # epochs without a better validation top-1
RECALIBRATION_IMAGES = 512


@dataclass(frozen=True)
class Split:
    """Training images (float32 in [0, 1]) and labels, and the held-out validation part."""

    train_x: np.ndarray
    train_y: np.ndarray
    val_x: np.ndarray
    val_y: np.ndarray


def split_validation(images: np.ndarray, labels: np.ndarray, seed: int) -> Split:
    """Hold out ``VALIDATION_FRACTION`` of the training data (fixed by ``seed``)."""
    order = np.random.default_rng(seed).permutation(len(images))
    held = max(1, int(len(images) * VALIDATION_FRACTION))
    val, train = order[:held], order[held:]
    return Split(images[train], labels[train], images[val], labels[val])


def shifted(images: np.ndarray, rng: np.random.Generator, max_shift: int = MAX_SHIFT) -> np.ndarray:
    """Each image moved by a random whole-pixel offset in [−max_shift, max_shift], zero-filled."""
    size = images.shape[1]
    padded = np.pad(images, ((0, 0), (max_shift, max_shift), (max_shift, max_shift), (0, 0)))
    dy, dx = rng.integers(0, 2 * max_shift + 1, size=(2, len(images)))
    return np.stack([padded[i, dy[i] : dy[i] + size, dx[i] : dx[i] + size] for i in range(len(images))])


@dataclass(frozen=True)
class TrainingRun:
    """What one training did, for the manifest."""

    epochs_run: int
    steps: int
    seconds: float
    stopped_by: str  # "epochs" (as asked), "converged" (patience ran out), "time cap", "epoch cap"
    best_epoch: int
    validation_top1: float | None
    learning_rate: float
    time_cap_s: float | None

    def as_dict(self) -> dict:
        return asdict(self)


def top1(model, images: np.ndarray, labels: np.ndarray) -> float:
    scores = model.predict(images, batch_size=256, verbose=0)
    return round(float(np.mean(scores.argmax(axis=1) == labels)), 4)


def train(
    model,
    split: Split,
    learning_rate: float,
    epochs: int | None,
    time_cap_s: float | None,
    seed: int,
    log=print,
    on_epoch=None,
) -> TrainingRun:
    """Adam + cross-entropy on shifted images; ``epochs=None`` trains until converged.

    ``on_epoch(epoch, limit)`` is called after each epoch (progress for the host).

    After each epoch the BatchNorm statistics are recalibrated (``recalibrate_batchnorm``)
    and the validation top-1 measured; the best epoch's weights are restored at the end.
    """
    import tf_keras as keras

    model.compile(
        optimizer=keras.optimizers.Adam(learning_rate),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )
    rng = np.random.default_rng(seed)
    calibration = split.train_x[:RECALIBRATION_IMAGES]
    limit = epochs if epochs is not None else MAX_EPOCHS
    started = time.perf_counter()
    best = (-1.0, 0, model.get_weights())
    steps, stopped_by, epoch = 0, "epochs" if epochs is not None else "epoch cap", 0
    steps_per_epoch = -(-len(split.train_x) // TRAIN_BATCH)
    for epoch in range(1, limit + 1):
        history = model.fit(
            shifted(split.train_x, rng), split.train_y, batch_size=TRAIN_BATCH, epochs=1, verbose=0
        )
        steps += steps_per_epoch
        recalibrate_batchnorm(model, calibration)
        score = top1(model, split.val_x, split.val_y)
        elapsed = time.perf_counter() - started
        loss = history.history["loss"][-1]
        log(f"epoch {epoch}/{limit}: loss {loss:.3f}, validation top-1 {score:.3f} ({elapsed:.0f} s)")
        if on_epoch is not None:
            on_epoch(epoch, limit)
        if score > best[0]:
            best = (score, epoch, model.get_weights())
        if epochs is None and epoch - best[1] >= PATIENCE:
            stopped_by = "converged"
            break
        if time_cap_s is not None and elapsed > time_cap_s and epoch < limit:
            stopped_by = "time cap"
            log(f"stopping at the time cap ({time_cap_s:.0f} s): the model may not have converged")
            break
    if epochs is None:
        model.set_weights(best[2])
    return TrainingRun(
        epochs_run=epoch,
        steps=steps,
        seconds=round(time.perf_counter() - started, 2),
        stopped_by=stopped_by,
        best_epoch=best[1] if epochs is None else epoch,
        validation_top1=best[0] if epochs is None else score,
        learning_rate=learning_rate,
        time_cap_s=time_cap_s,
    )


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
