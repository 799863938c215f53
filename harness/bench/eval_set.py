"""The eval set prepare wrote (``eval.npz``): images, and what their outputs are checked against.

Read by measure (the truth) and by every worker (the images), so it lives apart from both.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from harness.bench.output_checks import FLOAT_MODEL_REFERENCE
from harness.bench.preprocess import BUILTIN_NORMALIZATION, model_inputs
from harness.bench.result_writer import QAT_FLOAT_REFERENCE, EvalTruth
from harness.errors import UserError


def batch_images(
    eval_images: np.ndarray, batch: int, normalize: str = BUILTIN_NORMALIZATION, layout: str = "NHWC"
) -> np.ndarray:
    """The first ``batch`` eval images (cycled when the set is smaller) as the model's float32
    inputs: normalized as the manifest says, in the variant's layout."""
    repeats = -(-batch // len(eval_images))
    tiled = np.concatenate([eval_images] * repeats)[:batch] if repeats > 1 else eval_images[:batch]
    return model_inputs(tiled, normalize, layout)


def load_eval_set(path: Path, limit: int | None) -> tuple[np.ndarray, np.ndarray]:
    images, truth = load_eval_archive(path, limit)
    return images, truth.labels


# eval-archive key -> the reference name results use for it
REFERENCE_PREDICTIONS = {
    "qat_float_predictions": QAT_FLOAT_REFERENCE,
    "float_predictions": FLOAT_MODEL_REFERENCE,
}


def load_eval_archive(path: Path, limit: int | None) -> tuple[np.ndarray, EvalTruth]:
    """Images, and what their outputs are checked against: labels, the predictions of
    references that are not variants (by name), the float model's top-1 margins."""
    try:
        with np.load(path) as archive:
            images, labels = archive["images"], archive["labels"]
            references = {name: archive[key] for key, name in REFERENCE_PREDICTIONS.items() if key in archive}
            margins = archive.get("float_margins")
    except (OSError, KeyError, ValueError) as error:
        raise UserError(f"cannot read the eval set {path} ({error}); rerun prepare.") from error
    if limit is not None:
        images, labels = images[:limit], labels[:limit]
        references = {name: predictions[:limit] for name, predictions in references.items()}
        margins = margins[:limit] if margins is not None else None
    if len(images) == 0:
        raise UserError(f"the eval set {path} holds no images; rerun prepare with more data.")
    return images, EvalTruth(labels, references, margins)
