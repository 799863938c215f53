"""What every runtime's converter gets from prepare, and how prepare calls it."""

from __future__ import annotations

import importlib
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from harness.bench import manifest as mf
from harness.bench.progress import StepProgress
from harness.runtime_registry import RuntimeSpec, VariantSpec


@dataclass(frozen=True)
class ConversionSources:
    """The models of one prepare run; a converter writes one variant's artifact from them."""

    trained: Any  # the float tf_keras model as trained
    float_model: Any  # its inference form (inference_form.py): same outputs, int8-friendly layers
    qat_model: Any  # the calibrated, fine-tuned QAT model (tfmot fake-quant wrappers)
    calibration: np.ndarray  # float32 [N, S, S, 3] training images for calibration, at the model's side
    artifacts: Path  # where earlier runtimes' artifacts already are
    scratch: Path  # a private folder for intermediates (e.g. an exported ONNX file)


def convert_variant(
    runtime: RuntimeSpec, variant: VariantSpec, sources: ConversionSources, target: Path
) -> None:
    """Write ``variant``'s artifact at ``target`` with its runtime's converter."""
    importlib.import_module(runtime.convert_module).convert(variant, sources, target)


def save_serving_graph(model, directory: Path) -> None:
    """SavedModel with one ``serve`` function taking float32 [N, S, S, 3] in [0, 1] (S: the model's side).

    The weights only are tracked: tracking the model would also save its optimizer's
    slots (Adam: 2 more copies of every weight) and make the SavedModel 3x as big and slow.
    """
    import tensorflow as tf

    module = tf.Module()
    module.weights = list(model.weights)
    module.serve = tf.function(
        lambda images: model(images, training=False),
        input_signature=[tf.TensorSpec([None, *model.input_shape[1:]], tf.float32, name="images")],
    )
    tf.saved_model.save(module, str(directory))


def write_variant(
    out: Path, name: str, runtime: str, file: str, write: Callable[[Path], None], log: StepProgress
) -> mf.ArtifactEntry:
    """Write one artifact through a temp path, then record its checksum and size."""
    target = out / file
    temp = out / f".tmp-{file}"
    shutil.rmtree(temp, ignore_errors=True) if temp.is_dir() else temp.unlink(missing_ok=True)
    started = time.perf_counter()
    write(temp)
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
    )
    log(f"  {name}: {entry.size_bytes / 1e6:.1f} MB in {seconds:.1f} s")
    log.advance(1, f"converted {name}")
    return entry
