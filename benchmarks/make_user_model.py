"""A user's model and image folder, made outside quantbench: what "your own model" is tested with.

    .venv/bin/python benchmarks/make_user_model.py --out user-model [--size 64] [--epochs 10]

Builds Keras 3's ``MobileNetV2`` (``weights=None``: nothing downloaded; depthwise
convolutions, ReLU6, softmax output) at SIZE×SIZE×3 for 10 classes, trains it
briefly on scikit-learn's digits with this script's own split and preprocessing
(nothing of quantbench is imported), and writes into OUT:

- ``mobilenetv2.keras``: the model as a user saves it (Keras 3);
- ``mobilenetv2.onnx``: the same model exported by Keras (``model.export(format="onnx")``);
- ``images/<digit>/<n>.png``: the held-out digits (never trained on) as an image folder,
  one subfolder per class, 8×8 digits upscaled to SIZE×SIZE RGB;
- ``model.json``: how the model expects its input (normalization ``-1-1``: x / 127.5 − 1)
  and the held-out top-1 this script measured, to hold quantbench's float32 against.

Then, for example:

    make all-arch MODEL=user-model/mobilenetv2.keras DATA=imagefolder:user-model/images NORMALIZE=-1-1
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import numpy as np

SPLIT_SEED = 7  # not quantbench's split: this is the user's own
HELD_OUT_SHARE = 0.25


def digits(size: int) -> tuple[np.ndarray, np.ndarray]:
    """scikit-learn's 1,797 digits as uint8 RGB at size×size (nearest neighbour), and labels."""
    from sklearn.datasets import load_digits

    bunch = load_digits()
    small = (bunch.images * (255.0 / 16.0)).round().astype(np.uint8)
    factor = size // 8
    big = small.repeat(factor, axis=1).repeat(factor, axis=2)
    return np.repeat(big[..., None], 3, axis=3), bunch.target.astype(np.int64)


def normalize(images: np.ndarray) -> np.ndarray:
    """MobileNet's own convention: [-1, 1]."""
    return images.astype(np.float32) / 127.5 - 1.0


def write_folder(folder: Path, images: np.ndarray, labels: np.ndarray) -> None:
    from PIL import Image

    for index, (image, label) in enumerate(zip(images, labels, strict=True)):
        target = folder / str(int(label))
        target.mkdir(parents=True, exist_ok=True)
        Image.fromarray(image).save(target / f"{index:04d}.png")


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--size", type=int, default=64, help="input side, a multiple of 8 (default 64)")
    parser.add_argument("--epochs", type=int, default=10)
    args = parser.parse_args()
    if args.size % 8 or args.size < 32:
        parser.error("--size must be a multiple of 8, at least 32")
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    os.environ.pop("TF_USE_LEGACY_KERAS", None)  # a user's Keras is Keras 3
    import keras

    keras.utils.set_random_seed(SPLIT_SEED)
    images, labels = digits(args.size)
    order = np.random.default_rng(SPLIT_SEED).permutation(len(labels))
    cut = int(len(labels) * (1 - HELD_OUT_SHARE))
    train, held_out = order[:cut], order[cut:]
    model = keras.applications.MobileNetV2(
        input_shape=(args.size, args.size, 3), weights=None, classes=10, classifier_activation="softmax"
    )
    # Keras's MobileNetV2 keeps BatchNorm statistics with momentum 0.999: after a few hundred steps
    # from scratch they are still near their start and the model in inference mode answers one class
    for layer in model.layers:
        if isinstance(layer, keras.layers.BatchNormalization):
            layer.momentum = 0.9
    model.compile(
        optimizer=keras.optimizers.Adam(1e-3),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )
    started = time.perf_counter()
    model.fit(
        normalize(images[train]), labels[train], batch_size=32, epochs=args.epochs, verbose=2, shuffle=True
    )
    trained_s = time.perf_counter() - started
    scores = model.predict(normalize(images[held_out]), batch_size=64, verbose=0)
    top1 = float(np.mean(scores.argmax(axis=1) == labels[held_out]))
    args.out.mkdir(parents=True, exist_ok=True)
    model.save(args.out / "mobilenetv2.keras")
    model.export(str(args.out / "mobilenetv2.onnx"), format="onnx", verbose=False)
    write_folder(args.out / "images", images[held_out], labels[held_out])
    facts = {
        "model": "keras.applications.MobileNetV2(weights=None)",
        "input": [args.size, args.size, 3],
        "normalize": "-1-1",
        "classes": 10,
        "train_images": len(train),
        "held_out_images": len(held_out),
        "epochs": args.epochs,
        "train_s": round(trained_s, 1),
        "held_out_top1": round(top1, 4),
        "keras": keras.__version__,
    }
    (args.out / "model.json").write_text(json.dumps(facts, indent=1) + "\n")
    print(json.dumps(facts))
    return 0


if __name__ == "__main__":
    sys.exit(main())
