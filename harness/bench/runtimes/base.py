"""The interface every runtime family implements."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

import numpy as np

from harness.op_profile import OpProfile


class Runner(Protocol):
    """One loaded model, ready to time and evaluate."""

    runtime_name: str  # e.g. "ai-edge-litert 2.3.0"

    def prepare(self, batch: int, images: np.ndarray) -> None:
        """Get ready to run ``batch`` images (float32 [batch, 32, 32, 3]) and call once."""

    def release(self) -> None:
        """Give back what ``prepare`` allocated for a large batch."""

    def call(self) -> None:
        """Run the prepared batch once. Only this is timed."""

    def predict(self, images: np.ndarray) -> np.ndarray:
        """Class scores for any number of images (float32 NHWC in [0, 1])."""

    def op_profile(self, batch: int, images: np.ndarray) -> OpProfile:
        """Where one call's time goes at ``batch``, from a profiled pass of its own (a second
        session, compiled model or interpreter), never the timed one."""

    def kernel_path(self, profile: bool) -> dict[str, Any]:
        """Which kernels ran: delegate, partitions, ops left in float. ``profile``: also measure
        where a call's time goes, where the runtime offers that (costly under emulation)."""


def predict_in_fixed_batches(
    images: np.ndarray,
    largest: int,
    set_batch: Callable[[int], None],
    run: Callable[[np.ndarray], np.ndarray],
) -> np.ndarray:
    """Class scores of ``images`` from a model of one static batch size.

    The size is ``largest`` or fewer when there are fewer images (a few images are not
    padded to 64); ``set_batch(size)`` readies the model, ``run`` scores one full batch. The
    last batch is padded with zeros and its padding's scores dropped.
    """
    size = max(1, min(largest, len(images)))
    set_batch(size)
    outputs = []
    for start in range(0, len(images), size):
        chunk = images[start : start + size]
        padded = np.zeros((size, *images.shape[1:]), np.float32)
        padded[: len(chunk)] = chunk
        outputs.append(np.array(run(padded))[: len(chunk)])
    return np.concatenate(outputs)
