"""Training: the float model on a warm-up + cosine schedule, and the QAT fine-tune.

Users quantize converged models. The float model trains on a one-cycle schedule:
the learning rate rises linearly to its peak over the first epoch, then falls
along a cosine to zero by the schedule's last epoch, which converges in a few
epochs where a constant rate needed ~20 (measured: validation top-1 0.972 at
epoch 6 of a constant 1e-3, best at 17). The schedule runs whole, with no rule
to be fooled by the ~143 validation images (one image is 0.7 points of top-1):
one on their loss (no 5 % drop in 2 epochs) would have cut a 12-epoch run at
epoch 9, before the rate had annealed, and a less converged model costs int8
agreement (measured here: an 8-epoch schedule left tflite-int8 agreeing with
float on 98.6 % of eval images, 12 epochs on 100 %). Every epoch's validation
top-1 and loss are recorded. Images are shifted by up to ``MAX_SHIFT`` pixels each
epoch (the digits are small and a fixed position is memorised in a few epochs).
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass

import numpy as np

TRAIN_BATCH = 64  # the QAT fine-tune's; the float schedule's is FLOAT_BATCH
FLOAT_BATCH = 32  # twice the updates per epoch: 8 epochs at 32 reached what ~20 at 64 did
MAX_SHIFT = 4  # pixels, each way
VALIDATION_FRACTION = 0.1
FLOAT_EPOCHS = 12  # the default schedule's length (eval top-1 0.986, int8 agreement 100 % here)
WARMUP_EPOCHS = 0.5
RECALIBRATION_IMAGES = 512


@dataclass(frozen=True)
class Schedule:
    """How one training run sets its learning rate, and whether it may stop early."""

    peak_learning_rate: float
    epochs: int
    warmup_epochs: float = 0.0  # linear from a tenth of the peak to the peak
    batch: int = TRAIN_BATCH
    anneal: bool = True  # cosine from the peak to zero by the last epoch; else constant

    def learning_rate(self, steps_per_epoch: int):
        """What the optimizer takes: a schedule object, or the constant rate."""
        import tf_keras as keras

        if not self.anneal:
            return self.peak_learning_rate
        warmup = int(self.warmup_epochs * steps_per_epoch)
        return keras.optimizers.schedules.CosineDecay(
            self.peak_learning_rate / 10 if warmup else self.peak_learning_rate,
            max(1, self.epochs * steps_per_epoch - warmup),
            warmup_target=self.peak_learning_rate if warmup else None,
            warmup_steps=warmup,
        )

    def describe(self) -> str:
        if not self.anneal:
            return f"constant {self.peak_learning_rate:g}"
        warmup = f"{self.warmup_epochs:g} epoch warm-up to " if self.warmup_epochs else ""
        schedule = f"{warmup}{self.peak_learning_rate:g}, cosine to 0 over {self.epochs} epochs"
        return f"{schedule}, batch {self.batch}"


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
    stopped_by: str  # "schedule" (its last epoch) or "time cap"
    validation_top1: float | None
    validation_loss: float | None
    schedule: str
    time_cap_s: float | None
    history: list[dict[str, float]]  # per epoch: validation top-1 and loss, seconds since the start

    def as_dict(self) -> dict:
        return asdict(self)


def top1(model, images: np.ndarray, labels: np.ndarray) -> float:
    scores = model.predict(images, batch_size=256, verbose=0)
    return round(float(np.mean(scores.argmax(axis=1) == labels)), 4)


def validation_scores(model, split: Split) -> tuple[float, float]:
    """(top-1, mean cross-entropy) on the validation split."""
    scores = model.predict(split.val_x, batch_size=256, verbose=0)
    picked = scores[np.arange(len(split.val_y)), split.val_y]
    loss = float(np.mean(-np.log(np.maximum(picked, 1e-12))))
    return round(float(np.mean(scores.argmax(axis=1) == split.val_y)), 4), round(loss, 5)


def train(
    model,
    split: Split,
    schedule: Schedule,
    time_cap_s: float | None,
    seed: int,
    log=print,
    on_epoch=None,
) -> TrainingRun:
    """Adam + cross-entropy on shifted images, on ``schedule``.

    ``on_epoch(epoch, limit)`` is called after each epoch (progress for the host).

    After each epoch the BatchNorm statistics are recalibrated (``recalibrate_batchnorm``)
    and the validation top-1 and loss measured. The last epoch's weights are kept, also at
    the time cap: picking the "best" epoch on ~143 images would be picking noise.
    """
    import tf_keras as keras

    steps_per_epoch = -(-len(split.train_x) // schedule.batch)
    model.compile(
        optimizer=keras.optimizers.Adam(schedule.learning_rate(steps_per_epoch)),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )
    rng = np.random.default_rng(seed)
    calibration = split.train_x[:RECALIBRATION_IMAGES]
    started = time.perf_counter()
    history: list[dict[str, float]] = []
    stopped_by = "schedule"
    for epoch in range(1, schedule.epochs + 1):
        fitted = model.fit(
            shifted(split.train_x, rng), split.train_y, batch_size=schedule.batch, epochs=1, verbose=0
        )
        recalibrate_batchnorm(model, calibration)
        top1_score, loss = validation_scores(model, split)
        elapsed = time.perf_counter() - started
        history.append(
            {"epoch": epoch, "validation_top1": top1_score, "validation_loss": loss, "s": round(elapsed, 1)}
        )
        log(
            f"epoch {epoch}/{schedule.epochs}: training loss {fitted.history['loss'][-1]:.3f}, "
            f"validation top-1 {top1_score:.3f}, loss {loss:.4f} ({elapsed:.0f} s)"
        )
        if on_epoch is not None:
            on_epoch(epoch, schedule.epochs)
        if epoch == schedule.epochs:
            break
        if time_cap_s is not None and elapsed > time_cap_s:
            stopped_by = "time cap"
            log(f"stopping at the time cap ({time_cap_s:.0f} s): the model may not have converged")
            break
    return TrainingRun(
        epochs_run=len(history),
        steps=len(history) * steps_per_epoch,
        seconds=round(time.perf_counter() - started, 2),
        stopped_by=stopped_by,
        validation_top1=history[-1]["validation_top1"],
        validation_loss=history[-1]["validation_loss"],
        schedule=schedule.describe(),
        time_cap_s=time_cap_s,
        history=history,
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
