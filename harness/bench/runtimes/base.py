"""The interface every runtime family implements."""

from __future__ import annotations

from typing import Any, Protocol

import numpy as np


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

    def kernel_path(self, profile: bool) -> dict[str, Any]:
        """Which kernels ran: delegate, partitions, ops left in float. ``profile``: also measure
        where a call's time goes, where the runtime offers that (costly under emulation)."""
