"""Never trust a runtime's optimizer blindly: a float32 variant must compute the trained model.

Every fp32 variant's top-1 is compared with the trained float model's, which
prepare stores with the eval set. A runtime that rewrites the graph wrongly
(ONNX Runtime 1.31 folds a zero Pad into MaxPool, which pads with −inf) or runs
"fp32" in a lower precision shows up here; its result fails, naming the runtime
and its configuration, instead of entering a speed-up as if it were float32.
"""

from __future__ import annotations

import numpy as np

FLOAT_MODEL_REFERENCE = "float-model"  # the trained float model's top-1 (prepare, eval set)
MIN_FP32_AGREEMENT = 0.995
# Images whose top two float probabilities are closer than this are near-ties: float rounding
# (another kernel, another summation order) may flip them, so they do not count.
MIN_DECISIVE_MARGIN = 1e-3


def decisive(reference: np.ndarray, margins: np.ndarray | None, count: int) -> np.ndarray:
    """Indices among the first ``count`` images whose reference top-1 is not a near-tie."""
    indices = np.arange(min(count, len(reference)))
    if margins is None:
        return indices
    return indices[np.asarray(margins)[indices] >= MIN_DECISIVE_MARGIN]


def agreement(predictions: np.ndarray, reference: np.ndarray, margins: np.ndarray | None = None) -> float:
    """Share of decisive images with the same top-1 (the common prefix, for --eval-limit)."""
    indices = decisive(reference, margins, len(predictions))
    if len(indices) == 0:
        return 1.0  # nothing decisive to disagree on
    return float(np.mean(np.asarray(predictions)[indices] == np.asarray(reference)[indices]))


def fp32_agreement_error(
    variant: str, runtime: str, configuration: str, share: float, images: int
) -> str | None:
    """The failure message of an fp32 variant that does not compute the float model, else None."""
    if share >= MIN_FP32_AGREEMENT:
        return None
    return (
        f"{variant} ({runtime}, {configuration}) agrees with the trained float model on only "
        f"{share:.1%} of {images} eval images (at least {MIN_FP32_AGREEMENT:.1%} is required of a float32 "
        "variant): the runtime changed what the model computes (a graph rewrite or a lower precision), so "
        "its timings are not float32 timings. Change that runtime's configuration (e.g. its graph "
        "optimization level) or report the runtime's bug."
    )
