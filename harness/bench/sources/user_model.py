"""What a user's model file has in common, whatever its format: a name, a content key, an image input."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from harness.bench import manifest as mf
from harness.bench.sources.base import InputSpec, Made, SourceGraphs
from harness.cli_args import MAX_SIDE, MIN_SIDE
from harness.errors import UserError


class UserModel:
    """A model file (or folder) given with ``--model PATH``; subclasses load one format."""

    kind = "user"

    def __init__(self, path: Path) -> None:
        self.path = path
        self.name = path.name

    def files(self) -> list[Path]:
        """Every file the model is made of (the model file, and an ONNX file's external data)."""
        return [self.path]

    def fingerprint(self) -> str:
        """sha256 of the model's content (not its path): the artifacts are keyed on it."""
        return mf.combined_sha256(self.files())

    def input_spec(self, requested: int | None) -> InputSpec:
        raise NotImplementedError

    def graphs(self, spec: InputSpec, calibration: np.ndarray) -> SourceGraphs:
        """The converters' inputs; ``calibration``: float32 NHWC inputs a conversion may be checked on."""
        raise NotImplementedError

    def scores(self, inputs: np.ndarray) -> np.ndarray:
        """The model's own class scores for float32 NHWC inputs (its own framework, unconverted)."""
        raise NotImplementedError

    def params(self) -> int:
        raise NotImplementedError

    def make(self, spec: InputSpec, calibration: np.ndarray) -> Made:
        """The graphs and reference of this model, as given (nothing trained)."""
        from harness.bench.model_cost import ModelCost

        return Made(
            graphs=self.graphs(spec, calibration),
            float_scores=self.scores,
            cost=ModelCost(0, 0),  # counted from its ONNX file once that is written (prepare)
            params=self.params(),
            training={"model": f"{self.name}, measured as given (not trained or fine-tuned here)"},
        )


def image_input(
    name: str,
    shape: tuple,
    dtype: str,
    requested: int | None,
    layouts: tuple[str, ...] = ("NHWC", "NCHW"),
) -> InputSpec:
    """The InputSpec of a model input of ``shape`` (None, -1 or a name for a dynamic dimension);
    UserError, naming the model and the fix, when it is not a float image batch."""
    dims = [d if isinstance(d, int) and d > 0 else None for d in shape]
    if len(dims) != 4:
        raise UserError(
            f"{name}'s input has shape {_shape_text(shape)}, not an image batch (4 dimensions: batch, "
            "height, "
            "width, channels); quantbench measures image classifiers."
        )
    if "float32" not in dtype and dtype not in ("float", "tensor(float)"):
        raise UserError(
            f"{name}'s input is {dtype}; quantbench feeds float32 images: export it with a float input."
        )
    layout = _layout(dims, layouts)
    if layout is None:
        raise UserError(
            f"{name}'s input has shape {_shape_text(shape)}, which is not an image batch with 1 or 3 "
            "channels "
            f"({' or '.join(layouts)}); quantbench measures image classifiers."
        )
    batch, height, width, channels = (
        (dims[0], dims[1], dims[2], dims[3]) if layout == "NHWC" else (dims[0], dims[2], dims[3], dims[1])
    )
    if batch is not None:
        raise UserError(
            f"{name} has a fixed batch of {batch}; quantbench times batch 1 and 64: export it with a dynamic "
            "batch dimension (Keras does by default; torch.onnx.export(..., dynamic_axes={'input': "
            "{0: 'batch'}}))."
        )
    if height is None or width is None:
        if requested is None:
            raise UserError(
                f"{name}'s input has a dynamic height or width; say which to measure with "
                "--input-size, e.g. 224."
            )
        height, width = height or requested, width or requested
    elif requested is not None and (height, width) != (requested, requested):
        raise UserError(
            f"{name} takes {height}×{width} images; --input-size {requested} does not fit it (drop "
            "--input-size)."
        )
    if height != width:
        raise UserError(
            f"{name} takes {height}×{width} images; quantbench keys its results on one image side and "
            "measures "
            "square inputs only: export it with a square input."
        )
    if not MIN_SIDE <= height <= MAX_SIDE:
        raise UserError(
            f"{name} takes {height}×{width} images; quantbench measures sides {MIN_SIDE} to {MAX_SIDE}."
        )
    return InputSpec(height, width, channels, layout)


def _layout(dims: list[int | None], layouts: tuple[str, ...]) -> str | None:
    """NCHW when the second dimension is 1 or 3 and the last is not (PyTorch's export); NHWC when
    the last is; None when neither is a channel count."""
    first, last = dims[1], dims[3]
    if "NCHW" in layouts and first in (1, 3) and last not in (1, 3):
        return "NCHW"
    if "NHWC" in layouts and last in (1, 3):
        return "NHWC"
    if "NCHW" in layouts and first in (1, 3):
        return "NCHW"
    return None


def _shape_text(shape: tuple) -> str:
    return "[" + ", ".join("?" if not isinstance(d, int) or d <= 0 else str(d) for d in shape) + "]"
