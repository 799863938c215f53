"""A user's images for a user's model: an image folder or an .npz file, split and fitted.

- ``imagefolder:DIR``: one subfolder per class holding JPEG or PNG files; a class's
  index is its place among the sorted folder names, unless ``DIR/labels.txt`` lists
  the folder names one per line (then the line number is the index).
- ``npz:FILE``: an ``images`` array (N×H×W×C or N×H×W, uint8 0..255, NHWC) and, if
  the images are labelled, a ``labels`` array of N class indices.
- ``digits``, ``cifar100:PATH`` and ``synthetic`` (harness.bench.data) as they are.

Calibration and evaluation images are disjoint: a seeded permutation picks
the calibration images first, then the evaluation images from the rest; only
those are decoded, each brought to the model's input (``preprocess.fit_images``).
What was picked (file names or indices) is recorded in the manifest.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from harness.bench.data import Dataset, load_dataset
from harness.bench.preprocess import fit_images, with_channels
from harness.errors import UserError

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg")
LABELS_FILE = "labels.txt"
DEFAULT_CALIBRATION_IMAGES = 512  # what the built-in model's int8 files calibrate on
DEFAULT_EVAL_IMAGES = 1000  # of a folder or .npz: more adds minutes to every variant's evaluation
SPLIT_SEED = 0


@dataclass(frozen=True)
class ImageRequest:
    """What the model takes and how many images each role gets (None: the defaults)."""

    height: int
    width: int
    channels: int
    resize: str = "center-crop"
    calibration_images: int | None = None
    eval_images: int | None = None
    seed: int = SPLIT_SEED


@dataclass(frozen=True)
class _Listing:
    """The images of a folder or .npz before decoding: a name, a label and a loader each."""

    name: str
    names: list[str]
    labels: np.ndarray | None
    class_names: list[str]
    source: Path


def load_images(spec: str, request: ImageRequest) -> Dataset:
    """The data named by ``--data`` at the model's input, split into calibration (``train_*``)
    and evaluation images; UserError with the fix for anything unreadable."""
    kind, _, path = spec.partition(":")
    if kind == "imagefolder":
        return _split_and_fit(_list_folder(_path(path, spec)), request)
    if kind == "npz":
        return _npz(_path(path, spec), request)
    dataset = load_dataset(spec)
    calibration = _count(request.calibration_images, len(dataset.train_images), "--calibration-images")
    evaluation = _count(request.eval_images, len(dataset.eval_images), "--eval-images")
    train = _fit(list(dataset.train_images[:calibration]), request)
    test = _fit(list(dataset.eval_images[:evaluation]), request)
    split = {
        "seed": "the data set's own split",
        "calibration_images": calibration,
        "eval_images": evaluation,
        "calibration": f"the first {calibration} of {dataset.name}'s training split",
        "eval": f"the first {evaluation} of {dataset.name}'s test split",
    }
    return Dataset(
        dataset.name,
        train,
        dataset.train_labels[:calibration],
        test,
        dataset.eval_labels[:evaluation],
        dataset.num_classes,
        dataset.has_labels,
        split=split,
    )


def _path(text: str, spec: str) -> Path:
    if not text:
        raise UserError(f"--data {spec!r} names no path; write it as imagefolder:DIR or npz:FILE.")
    return Path(text).expanduser()


def _count(asked: int | None, available: int, option: str) -> int:
    if asked is None:
        return available
    if asked > available:
        raise UserError(f"{option} {asked} is more than the {available} images there are; ask for fewer.")
    return asked


def _list_folder(folder: Path) -> _Listing:
    if not folder.is_dir():
        raise UserError(
            f"image folder {folder} does not exist; pass imagefolder:DIR with one subfolder per class."
        )
    folders = sorted(p.name for p in folder.iterdir() if p.is_dir() and not p.name.startswith("."))
    labels_file = folder / LABELS_FILE
    if labels_file.is_file():
        class_names = [line.strip() for line in labels_file.read_text().splitlines() if line.strip()]
        unknown = sorted(set(folders) - set(class_names))
        if unknown:
            raise UserError(
                f"{labels_file} does not list the class folder(s) {', '.join(unknown[:5])}; add them "
                "(one folder name per line, in class-index order) or remove those folders."
            )
    else:
        class_names = folders
    names, labels = [], []
    for index, class_name in enumerate(class_names):
        directory = folder / class_name
        if not directory.is_dir():
            continue
        for file in sorted(directory.iterdir()):
            if file.is_file() and file.suffix.lower() in IMAGE_SUFFIXES:
                names.append(f"{class_name}/{file.name}")
                labels.append(index)
    with_images = len(set(labels))
    if with_images < 2:
        raise UserError(
            f"image folder {folder} has {with_images} class folder(s) with JPEG or PNG images; it needs at "
            "least 2 (one subfolder per class, e.g. DIR/cat/*.jpg, DIR/dog/*.jpg)."
        )
    return _Listing(f"imagefolder:{folder.name}", names, np.asarray(labels, np.int64), class_names, folder)


def _npz(path: Path, request: ImageRequest) -> Dataset:
    if not path.is_file():
        raise UserError(f"--data npz:{path}: no such file.")
    try:
        with np.load(path, allow_pickle=False) as archive:
            if "images" not in archive:
                raise UserError(f"{path} has no 'images' array (it has: {', '.join(archive.files)}).")
            images = archive["images"]
            labels = archive.get("labels")
    except (OSError, ValueError) as error:
        raise UserError(f"{path} is not a readable .npz file ({error}).") from error
    if (
        images.dtype != np.uint8
        or images.ndim not in (3, 4)
        or (images.ndim == 4 and images.shape[-1] not in (1, 3))
    ):
        raise UserError(
            f"{path}: 'images' is {images.dtype} {images.shape}; it must be uint8 0..255, N×H×W×C (C 1 or 3) "
            "or N×H×W."
        )
    if images.ndim == 3:
        images = images[..., None]
    if labels is not None:
        labels = np.asarray(labels)
        if labels.shape != (len(images),) or not np.issubdtype(labels.dtype, np.integer) or labels.min() < 0:
            raise UserError(
                f"{path}: 'labels' must be {len(images)} class indices (0 or more), one per image."
            )
    classes = int(labels.max()) + 1 if labels is not None else 0
    listing = _Listing(
        f"npz:{path.name}",
        [f"index {i}" for i in range(len(images))],
        labels.astype(np.int64) if labels is not None else None,
        [str(i) for i in range(classes)],
        path,
    )
    return _split_and_fit(listing, request, arrays=images)


def _split_and_fit(listing: _Listing, request: ImageRequest, arrays: np.ndarray | None = None) -> Dataset:
    total = len(listing.names)
    calibration = request.calibration_images
    if calibration is None:
        calibration = min(DEFAULT_CALIBRATION_IMAGES, max(1, total // 4))
    evaluation = request.eval_images
    if evaluation is None:
        evaluation = min(DEFAULT_EVAL_IMAGES, total - calibration)
    if calibration + evaluation > total or evaluation < 1:
        raise UserError(
            f"{listing.name} has {total} images: too few for {calibration} calibration and {evaluation} "
            "evaluation images, which must not overlap; lower --calibration-images or --eval-images."
        )
    order = np.random.default_rng(request.seed).permutation(total)
    chosen = {"calibration": order[:calibration], "eval": order[calibration : calibration + evaluation]}
    decoded = {}
    for role, indices in chosen.items():
        if arrays is not None:
            images = [arrays[i] for i in indices]
        else:
            images = [_decode(listing.source / listing.names[i]) for i in indices]
        decoded[role] = _fit(images, request)
    labels = listing.labels
    split = {
        "seed": request.seed,
        "calibration_images": calibration,
        "eval_images": evaluation,
        "of": total,
        "resize": request.resize,
        "calibration": [listing.names[i] for i in chosen["calibration"]],
        "eval": [listing.names[i] for i in chosen["eval"]],
        "classes": listing.class_names,
    }
    missing = np.zeros(0, np.int64)
    return Dataset(
        listing.name,
        decoded["calibration"],
        labels[chosen["calibration"]] if labels is not None else missing,
        decoded["eval"],
        labels[chosen["eval"]] if labels is not None else np.full(evaluation, -1, np.int64),
        len(listing.class_names),
        labels is not None,
        split=split,
    )


def _decode(path: Path) -> np.ndarray:
    """One JPEG or PNG as uint8 RGB; UserError naming the file when it cannot be read."""
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as picture:
            picture.load()
            return np.asarray(picture.convert("RGB"), dtype=np.uint8)
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError) as error:
        raise UserError(f"cannot read the image {path} ({error}); remove or replace it.") from error


def _fit(images: list[np.ndarray], request: ImageRequest) -> np.ndarray:
    if not images:
        return np.zeros((0, request.height, request.width, request.channels), np.uint8)
    rgb = [image if image.shape[-1] == 3 else np.repeat(image, 3, axis=-1) for image in images]
    return with_channels(fit_images(rgb, request.height, request.width, request.resize), request.channels)
