"""LiteRT (``ai_edge_litert``) interpreter with its default XNNPACK delegate."""

from __future__ import annotations

from collections import Counter
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np

PREDICT_BATCH = 64
# ops that are float by design at the edges of an int8 model with float I/O
FLOAT_BOUNDARY_OPS = {"DEQUANTIZE", "QUANTIZE", "SOFTMAX"}


class LiteRTRunner:
    """One interpreter; resized per batch; the timed call is ``invoke()`` alone."""

    def __init__(self, path: Path, threads: int) -> None:
        from ai_edge_litert.interpreter import Interpreter

        self._path = path
        self._threads = threads
        self._interpreter = Interpreter(model_path=str(path), num_threads=threads)
        self._input = self._interpreter.get_input_details()[0]["index"]
        self._output = self._interpreter.get_output_details()[0]["index"]
        self._batch = 0
        self.call = self._interpreter.invoke  # the timed call: nothing of ours around it
        self.runtime_name = f"ai-edge-litert {metadata.version('ai-edge-litert')}"

    def _resize(self, batch: int) -> None:
        if batch != self._batch:
            self._interpreter.resize_tensor_input(self._input, [batch, 32, 32, 3])
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
        self._resize(PREDICT_BATCH)
        outputs = []
        for start in range(0, len(images), PREDICT_BATCH):
            chunk = images[start : start + PREDICT_BATCH]
            padded = np.zeros((PREDICT_BATCH, *images.shape[1:]), np.float32)
            padded[: len(chunk)] = chunk
            self._interpreter.set_tensor(self._input, padded)
            self._interpreter.invoke()
            outputs.append(self._interpreter.get_tensor(self._output)[: len(chunk)].copy())
        return np.concatenate(outputs)

    def kernel_path(self) -> dict[str, Any]:
        """XNNPACK partitions, and which ops still compute in float (from the model itself)."""
        from ai_edge_litert.interpreter import Interpreter, OpResolverType

        delegated = self._interpreter._get_ops_details()
        partitions = sum(op["op_name"] == "DELEGATE" for op in delegated)
        plain = Interpreter(
            model_path=str(self._path),
            experimental_op_resolver_type=OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES,
        )
        plain.allocate_tensors()
        dtypes = {t["index"]: t["dtype"] for t in plain.get_tensor_details()}
        ops = plain._get_ops_details()
        float_ops = Counter(
            op["op_name"]
            for op in ops
            if op["op_name"] not in FLOAT_BOUNDARY_OPS
            and any(dtypes.get(i) == np.float32 for i in op["outputs"] if i >= 0)
        )
        integer_ops = sum(
            any(dtypes.get(i) in (np.int8, np.uint8) for i in op["outputs"] if i >= 0) for op in ops
        )
        return {
            "delegate": "xnnpack" if partitions else "none",
            "xnnpack_partitions": partitions,
            "ops_total": len(ops),
            "integer_ops": integer_ops,
            "float_ops": sorted(float_ops.elements()) if integer_ops else [],
            "float_op_count": sum(float_ops.values()),
            "quantize_ops": sum(op["op_name"] in ("QUANTIZE", "DEQUANTIZE") for op in ops),
        }


def load(path: Path, threads: int) -> LiteRTRunner:
    return LiteRTRunner(path, threads)
