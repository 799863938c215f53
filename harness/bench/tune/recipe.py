"""A quantization recipe of one runtime's own tool, and what the search learnt of a candidate made by it.

Each runtime folder lists its recipes (``runtimes/<name>/recipes.py``: ``RECIPES`` and
``build``); a candidate is the file one recipe makes, named ``<variant>~<recipe id>``
(``harness.runtime_registry.candidate_name``), so measure times it like the variant it
is a candidate of, paired with that runtime's float32.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from harness.runtime_registry import candidate_name


@dataclass(frozen=True)
class Recipe:
    """One way a runtime's tool makes an int8 file."""

    id: str  # short, file-name safe: "qdq-u8s8-entropy"
    variant: str  # the declared variant it is a candidate of ("ort-int8-qdq")
    summary: str  # one line: the tool and its settings, for the table and recipe.json
    options: dict[str, Any] = field(default_factory=dict)  # what build() passes to the tool

    @property
    def candidate(self) -> str:
        return candidate_name(self.variant, self.id)


@dataclass
class TuneInputs:
    """What a recipe builds from: the prepared set's float files and calibration images."""

    artifacts: Path  # the prepared set (its float files, its QAT file if any)
    calibration: np.ndarray  # float32 NHWC model inputs (normalized), never an eval image
    calibration_labels: np.ndarray | None  # None: unlabelled
    onnx_layout: str  # of the float ONNX file
    scratch: Path
    max_drop: float  # the gate, in points of top-1 (or of agreement without labels)
    float_onnx: Path | None = None
    float_saved_model: Path | None = None
    qat_tflite: Path | None = None

    def calibration_in(self, layout: str) -> np.ndarray:
        if layout == "NCHW":
            return np.ascontiguousarray(self.calibration.transpose(0, 3, 1, 2))
        return self.calibration


@dataclass
class CandidateRecord:
    """One candidate as the search left it: stored after every step, so a stopped search resumes."""

    name: str  # "<variant>~<recipe id>"
    runtime: str
    recipe: dict[str, Any]  # Recipe as a dict
    status: str = "pending"  # pending, made, not made, evaluated
    file: str = ""  # relative to the tune folder
    sha256: str = ""
    size_bytes: int = 0
    build_s: float = 0.0
    reason: str = ""  # why not made
    top1: float | None = None
    agreement: float | None = None  # with the runtime's float32, on the eval images
    baseline_top1: float | None = None
    gate: str = ""  # "pass" or "fail"
    gate_rule: str = ""

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)
