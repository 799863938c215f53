"""Labelled image sets, all as uint8 NHWC 32×32×3 arrays.

- ``digits`` (the default): scikit-learn's bundled handwritten digits, a small
  *real* labelled set that needs no download, upscaled 8×8 → 32×32×3.
- ``cifar100:PATH``: the official "CIFAR-100 python version" directory. Its
  files are pickles; they are read with a restricted unpickler that can build
  numpy arrays and nothing else, so a hostile file cannot run code.
- ``synthetic``: random images with no real labels, for timing only.
"""

from __future__ import annotations

import hashlib
import importlib
import io
import pickle
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from harness.errors import UserError

IMAGE_SIZE = 32
CIFAR_IMAGE_BYTES = 3 * IMAGE_SIZE * IMAGE_SIZE
SPLIT_SEED = 0


@dataclass
class Dataset:
    """Train and eval splits (uint8 NHWC) and what they are."""

    name: str
    train_images: np.ndarray
    train_labels: np.ndarray
    eval_images: np.ndarray
    eval_labels: np.ndarray
    num_classes: int
    has_labels: bool  # False for synthetic data: accuracy is n/a
    # how a user's data was split into calibration (train_*) and eval images (data_files.py)
    split: dict[str, Any] = field(default_factory=dict)

    def fingerprint(self) -> str:
        """sha256 over the arrays: artifacts are reused only for the same data."""
        digest = hashlib.sha256(self.name.encode())
        for array in (self.train_images, self.train_labels, self.eval_images, self.eval_labels):
            digest.update(np.ascontiguousarray(array).tobytes())
        return digest.hexdigest()


def load_dataset(spec: str, synthetic_size: int = 512) -> Dataset:
    """Load the data named by ``--data``: digits, synthetic or cifar100:PATH."""
    if spec == "digits":
        return load_digits()
    if spec == "synthetic":
        return make_synthetic(synthetic_size)
    if spec.startswith("cifar100:"):
        return load_cifar100(Path(spec.split(":", 1)[1]))
    raise UserError(f"unknown --data {spec!r}; use digits, synthetic or cifar100:PATH.")


def load_digits() -> Dataset:
    """scikit-learn's 1,797 labelled 8×8 digits, upscaled to 32×32×3, 80/20 split."""
    from sklearn.datasets import load_digits as sklearn_digits

    bunch = sklearn_digits()
    small = (bunch.images * (255.0 / 16.0)).round().astype(np.uint8)  # 0..16 -> 0..255
    big = small.repeat(4, axis=1).repeat(4, axis=2)  # nearest-neighbour 8 -> 32
    images = np.repeat(big[..., None], 3, axis=3)
    labels = bunch.target.astype(np.int64)
    order = np.random.default_rng(SPLIT_SEED).permutation(len(labels))
    split = int(0.8 * len(labels))
    train, test = order[:split], order[split:]
    return Dataset("digits", images[train], labels[train], images[test], labels[test], 10, True)


def make_synthetic(count: int) -> Dataset:
    """Random images and labels: exercises the pipeline, says nothing about accuracy."""
    rng = np.random.default_rng(SPLIT_SEED)
    images = rng.integers(0, 256, size=(count, IMAGE_SIZE, IMAGE_SIZE, 3), dtype=np.uint8)
    labels = rng.integers(0, 10, size=count).astype(np.int64)
    split = count * 3 // 4
    return Dataset("synthetic", images[:split], labels[:split], images[split:], labels[split:], 10, False)


def load_cifar100(directory: Path) -> Dataset:
    """The official CIFAR-100 python directory (``train``, ``test``, ``meta``)."""
    if not directory.is_dir():
        raise UserError(
            f"CIFAR-100 directory {directory} does not exist; pass the unpacked "
            "'cifar-100-python' folder as --data cifar100:PATH."
        )
    for name in ("train", "test", "meta"):
        if not (directory / name).is_file():
            raise UserError(
                f"{directory} has no '{name}' file; it must be the unpacked "
                "'CIFAR-100 python version' folder (train, test, meta)."
            )
    train_images, train_labels = _read_cifar_split(directory / "train")
    eval_images, eval_labels = _read_cifar_split(directory / "test")
    return Dataset("cifar100", train_images, train_labels, eval_images, eval_labels, 100, True)


def _read_cifar_split(path: Path) -> tuple[np.ndarray, np.ndarray]:
    batch = read_restricted_pickle(path)
    if not isinstance(batch, dict) or b"data" not in batch or b"fine_labels" not in batch:
        raise UserError(f"{path} is not a CIFAR-100 split: it lacks b'data' or b'fine_labels'.")
    data = batch[b"data"]
    labels = np.asarray(batch[b"fine_labels"])
    if not isinstance(data, np.ndarray) or data.dtype != np.uint8 or data.ndim != 2:
        raise UserError(f"{path}: b'data' must be an N×3072 uint8 array.")
    if data.shape[1] != CIFAR_IMAGE_BYTES:
        raise UserError(
            f"{path}: images have {data.shape[1]} bytes, not {CIFAR_IMAGE_BYTES} (32×32×3); "
            "this is not CIFAR-100 data."
        )
    if labels.ndim != 1 or len(labels) != len(data):
        raise UserError(f"{path}: {len(labels)} labels for {len(data)} images.")
    if len(labels) and (labels.min() < 0 or labels.max() >= 100):
        raise UserError(
            f"{path}: labels run from {labels.min()} to {labels.max()}, outside 0..99 "
            "(CIFAR-100 fine labels)."
        )
    # channel-major rows (R plane, G plane, B plane) -> NHWC
    images = data.reshape(-1, 3, IMAGE_SIZE, IMAGE_SIZE).transpose(0, 2, 3, 1)
    return np.ascontiguousarray(images), labels.astype(np.int64)


# The only globals a CIFAR-100 pickle needs: numpy array builders (none runs code).
_ALLOWED_GLOBALS = {
    ("numpy.core.multiarray", "_reconstruct"),
    ("numpy._core.multiarray", "_reconstruct"),
    ("numpy.core.multiarray", "scalar"),
    ("numpy._core.multiarray", "scalar"),
    ("numpy.core.numeric", "_frombuffer"),  # protocol 5 arrays
    ("numpy._core.numeric", "_frombuffer"),
    ("numpy", "ndarray"),
    ("numpy", "dtype"),
    ("_codecs", "encode"),  # bytes inside protocol-2 pickles written by Python 3
}


class _NumpyOnlyUnpickler(pickle.Unpickler):
    """Refuses every global but numpy's array builders: no code from the file runs."""

    def find_class(self, module: str, name: str):
        if (module, name) not in _ALLOWED_GLOBALS:
            raise pickle.UnpicklingError(f"forbidden global {module}.{name}")
        real_module = module.replace("numpy.core.", "numpy._core.")
        return getattr(importlib.import_module(real_module), name)


def read_restricted_pickle(path: Path):
    """Unpickle a CIFAR file allowing only numpy arrays, lists, dicts and scalars."""
    try:
        payload = path.read_bytes()
    except OSError as error:
        raise UserError(f"cannot read {path}: {error.strerror}.") from error
    try:
        return _NumpyOnlyUnpickler(io.BytesIO(payload), encoding="bytes").load()
    except pickle.UnpicklingError as error:
        if "forbidden global" in str(error):
            raise UserError(
                f"{path} asks to load '{str(error).split()[-1]}', which a CIFAR-100 file never "
                "does; refusing it (nothing in it was run). Re-download the data set."
            ) from error
        raise UserError(f"{path} is not a valid pickle ({error}); re-download it.") from error
    except (EOFError, ValueError, TypeError, IndexError, AttributeError, KeyError) as error:
        raise UserError(
            f"{path} is truncated or corrupt ({type(error).__name__}: {error}); re-download it."
        ) from error
