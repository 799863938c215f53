"""LiteRT (``ai_edge_litert``) interpreter with its default XNNPACK delegate."""

from __future__ import annotations

from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np

from harness.bench.runtimes.base import predict_in_fixed_batches
from harness.bench.runtimes.litert.graph import delegation, graph_ops
from harness.op_profile import OpProfile

PREDICT_BATCH = 64


class LiteRTRunner:
    """One interpreter; resized per batch; the timed call is ``invoke()`` alone."""

    def __init__(self, path: Path, threads: int) -> None:
        from ai_edge_litert.interpreter import Interpreter

        self._path = path
        self._threads = threads
        self._interpreter = Interpreter(model_path=str(path), num_threads=threads)
        details = self._interpreter.get_input_details()[0]
        self._input = details["index"]
        self._image_shape = [int(side) for side in details["shape"][1:]]  # H, W, C of the file
        self._output = self._interpreter.get_output_details()[0]["index"]
        self._batch = 0
        self.call = self._interpreter.invoke  # the timed call: nothing of ours around it
        self.runtime_name = f"ai-edge-litert {metadata.version('ai-edge-litert')}"

    def _resize(self, batch: int) -> None:
        if batch != self._batch:
            self._interpreter.resize_tensor_input(self._input, [batch, *self._image_shape])
            self._interpreter.allocate_tensors()
            self._batch = batch

    def prepare(self, batch: int, images: np.ndarray) -> None:
        self._resize(batch)
        self._interpreter.set_tensor(self._input, images)
        self.call()

    def release(self) -> None:
        """Back to batch 1, so the arena of a huge batch is not kept."""
        self._resize(1)

    def call(self) -> None:
        """Replaced per instance by the interpreter's own bound ``invoke`` (no extra frame)."""
        self._interpreter.invoke()

    def predict(self, images: np.ndarray) -> np.ndarray:
        return predict_in_fixed_batches(images, PREDICT_BATCH, self._resize, self._run)

    def _run(self, batch_images: np.ndarray) -> np.ndarray:
        self._interpreter.set_tensor(self._input, batch_images)
        self._interpreter.invoke()
        return self._interpreter.get_tensor(self._output).copy()

    def op_profile(self, batch: int, images: np.ndarray) -> OpProfile:
        """Stage times at ``batch`` from prefix models cut from this file, each in an interpreter
        of its own; this runner's interpreter is not touched."""
        from harness.bench.runtimes.litert.profile import stage_profile

        return stage_profile(self._path.read_bytes(), self._threads, batch, images)

    def kernel_path(self, profile: bool = False) -> dict[str, Any]:
        """XNNPACK partitions, the ops it left out, and which ops still compute in float."""
        split = delegation(self._interpreter)
        ops = graph_ops(self._path.read_bytes())
        return {
            "delegate": "xnnpack" if split.partitions else "none",
            "xnnpack_partitions": split.partitions,
            "outside_delegate_ops": split.outside_ops,
            "ops_total": ops.total,
            "integer_ops": ops.integer,
            "float_ops": ops.float_compute if ops.integer else [],
            "float_op_count": len(ops.float_compute),
            "quantize_ops": ops.quantize,
        }


def load(path: Path, threads: int) -> LiteRTRunner:
    return LiteRTRunner(path, threads)
