"""What every model source gives prepare: the model's input, its graphs for the converters,
and its float scores as the reference every variant is checked against."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from harness.bench.model_cost import ModelCost

# The graphs a converter may ask a source for (SourceGraphs.saved_model):
FLOAT = "float"  # the float model as measured (the built-in one: its int8-friendly inference form)
TRAINED = "trained"  # the float model as trained (dynamic-range int8 keeps its float BatchNorm)
QAT = "qat"  # the calibrated, fine-tuned quantization-aware model (only the built-in one has one)


class NotMade(Exception):
    """A variant that cannot be made from this model; ``str()`` is the reason, one sentence."""


@dataclass(frozen=True)
class InputSpec:
    """The model's one input: an image batch of height×width×channels in ``layout``."""

    height: int
    width: int
    channels: int
    layout: str = "NHWC"  # of the file as given: "NHWC" or "NCHW"

    @property
    def side(self) -> int:
        """The image side (sources refuse non-square inputs: results key shapes on one side)."""
        return self.height

    def describe(self) -> str:
        return f"{self.height}×{self.width}×{self.channels} {self.layout}"


class SourceGraphs(Protocol):
    """The model's graphs in the forms the runtimes' converters start from."""

    onnx_layout: str  # the input layout of ``onnx()``'s file ("NHWC" or "NCHW")

    def saved_model(self, role: str, target: Path) -> None:
        """A TensorFlow SavedModel at ``target`` whose ``serve`` function takes float32 NHWC
        inputs (already normalized) and returns class scores; NotMade when there is none."""

    def onnx(self, target: Path) -> None:
        """The float model as one ONNX file at ``target`` (dynamic batch); NotMade when none."""


@dataclass
class Made:
    """What a source made ready in one prepare run: graphs, references and facts.

    ``float_scores`` gives the model's own class scores (its own framework, nothing
    converted) for float32 NHWC inputs, the reference every float32 variant must match;
    the built-in model adds its QAT model's (quantizers on and off) for the QAT variants.
    """

    graphs: SourceGraphs
    float_scores: Callable[[np.ndarray], np.ndarray]
    cost: ModelCost
    params: int
    calibration: np.ndarray | None = None  # float32 NHWC model inputs the int8 files calibrate on
    # the same calibration images as uint8 NHWC, and their labels (-1: none), kept beside the set
    # (``calibration.npz``) for what calibrates again later (``quantbench tune``)
    calibration_images: np.ndarray | None = None
    calibration_labels: np.ndarray | None = None
    qat_scores: Callable[[np.ndarray], np.ndarray] | None = None
    qat_float_scores: Callable[[np.ndarray], np.ndarray] | None = None
    training: dict[str, Any] = field(default_factory=dict)  # the manifest's facts of how it was made
    epochs: int = 0
    qat_epochs: int = 0
    # after the set is written: anything else the source keeps beside it (file name, sha256)
    keep: Callable[[Path], tuple[str, str]] | None = None


def reason_of(error: BaseException, tool: str) -> str:
    """Why a converter's failure left a variant unmade, in one sentence."""
    from harness.errors import UserError

    if isinstance(error, NotMade):
        return str(error)
    if isinstance(error, UserError):  # its first clause: what is wrong (the rest is the fix)
        return str(error).split("; ")[0]
    return f"{tool} failed ({first_sentence(error)})"


def first_sentence(error: BaseException, limit: int = 300) -> str:
    """A tool's error in one line: its first non-empty line, shortened, with the error's type."""
    lines = [line.strip() for line in str(error).splitlines() if line.strip()]
    text = lines[0] if lines else ""
    text = text if len(text) <= limit else text[: limit - 1] + "…"
    return f"{type(error).__name__}: {text}" if text else type(error).__name__
