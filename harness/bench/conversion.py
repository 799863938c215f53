"""What every runtime's converter gets from prepare, and how prepare calls it.

A converter asks for the graph it starts from (``saved_model(role)``, ``onnx()``)
and the calibration images in the layout it needs; it never asks which source
the model came from. A graph the source cannot give raises ``NotMade`` with the
reason, which prepare records for the variant.
"""

from __future__ import annotations

import importlib
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from harness.bench import manifest as mf
from harness.bench.progress import StepProgress
from harness.bench.sources.base import NotMade, SourceGraphs
from harness.runtime_registry import RuntimeSpec, VariantSpec

FLOAT_ONNX = "float.onnx"


@dataclass
class ConversionSources:
    """The graphs of one prepare run; a converter writes one variant's artifact from them."""

    graphs: SourceGraphs | None  # None in the side process, which finds the ONNX file written
    calibration: np.ndarray  # float32 [N, H, W, C] model inputs (normalized) for calibration
    artifacts: Path  # where earlier runtimes' artifacts already are
    scratch: Path  # a private folder for intermediates (SavedModels, the ONNX file)
    onnx_layout: str = "NHWC"  # of the ONNX file's input
    _failed: dict[str, NotMade] = field(default_factory=dict)

    def saved_model(self, role: str) -> Path:
        """The SavedModel of role (``sources.base.FLOAT``, ``TRAINED``, ``QAT``), written once."""
        return self._once(f"savedmodel-{role}", lambda path: self._graphs().saved_model(role, path))

    def onnx(self) -> Path:
        """The float model as one ONNX file, written once."""
        return self._once(FLOAT_ONNX, lambda path: self._graphs().onnx(path))

    def calibration_in(self, layout: str) -> np.ndarray:
        """The calibration inputs in ``layout`` ("NHWC" or "NCHW")."""
        if layout == "NCHW":
            return np.ascontiguousarray(self.calibration.transpose(0, 3, 1, 2))
        return self.calibration

    def onnx_input_name(self) -> str:
        import onnx

        model = onnx.load(str(self.onnx()), load_external_data=False)
        initializers = {tensor.name for tensor in model.graph.initializer}
        return next(value.name for value in model.graph.input if value.name not in initializers)

    def _graphs(self) -> SourceGraphs:
        if self.graphs is None:  # the side process: prepare writes the ONNX file before starting it
            raise FileNotFoundError(f"{self.scratch / FLOAT_ONNX} is missing: there is no model to convert")
        return self.graphs

    def _once(self, name: str, write: Callable[[Path], None]) -> Path:
        path = self.scratch / name
        if name in self._failed:
            raise self._failed[name]
        if not path.exists():
            temp = self.scratch / f".tmp-{name}"
            remove_path(temp)
            try:
                write(temp)
            except BaseException as error:
                remove_path(temp)
                if isinstance(error, NotMade):
                    self._failed[name] = error
                raise
            temp.replace(path)
        return path


def convert_variant(
    runtime: RuntimeSpec, variant: VariantSpec, sources: ConversionSources, target: Path
) -> None:
    """Write ``variant``'s artifact at ``target`` with its runtime's converter."""
    importlib.import_module(runtime.convert_module).convert(variant, sources, target)


def write_variant(
    out: Path,
    name: str,
    runtime: str,
    file: str,
    write: Callable[[Path], None],
    log: StepProgress,
    input_layout: str = "NHWC",
) -> mf.ArtifactEntry:
    """Write one artifact through a temp path, then record its checksum and size; nothing is left
    behind when the converter fails."""
    target = out / file
    temp = out / f".tmp-{file}"
    remove_path(temp)
    started = time.perf_counter()
    try:
        write(temp)
    except BaseException:
        remove_path(temp)
        raise
    seconds = time.perf_counter() - started
    if target.is_dir():
        shutil.rmtree(target)
    temp.replace(target)
    entry = mf.ArtifactEntry(
        name=name,
        runtime=runtime,
        file=file,
        sha256=mf.path_sha256(target),
        size_bytes=mf.path_size(target),
        conversion_s=round(seconds, 2),
        input_layout=input_layout,
    )
    log(f"  {name}: {entry.size_bytes / 1e6:.1f} MB in {seconds:.1f} s")
    log.advance(1, f"converted {name}")
    return entry


def remove_path(path: Path) -> None:
    """Remove a file or a folder, whichever path is; nothing when it is gone."""
    if path.is_dir():
        shutil.rmtree(path, ignore_errors=True)
    else:
        path.unlink(missing_ok=True)
