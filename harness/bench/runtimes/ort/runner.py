"""ONNX Runtime InferenceSession on the CPU execution provider."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from harness.bench.runtimes.ort.graph import classify, optimized_op_types
from harness.op_profile import OpProfile

PREDICT_BATCH = 64
# Every optimization ORT has, as a user gets by default. The float32 check
# (output_checks.py) is what guards against a rewrite that changes results.
OPTIMIZATION = "ORT_ENABLE_ALL"


def session_options(threads: int):
    """intra-op threads = ``threads`` (0: ORT's default), one inter-op thread, sequential."""
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = max(threads, 0)
    options.inter_op_num_threads = 1
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    options.graph_optimization_level = getattr(ort.GraphOptimizationLevel, OPTIMIZATION)
    options.log_severity_level = 3  # errors only: its serialisation warnings are not the user's concern
    return options


class OnnxRuntimeRunner:
    """One session (any batch size); the timed call is ``session.run`` alone."""

    def __init__(self, path: Path, threads: int) -> None:
        import onnxruntime as ort

        self._path = path
        self._threads = threads
        self._session = ort.InferenceSession(
            str(path), session_options(threads), providers=["CPUExecutionProvider"]
        )
        self._input = self._session.get_inputs()[0].name
        self._feed: dict[str, np.ndarray] = {}
        self.runtime_name = f"onnxruntime {ort.__version__}"

    def prepare(self, batch: int, images: np.ndarray) -> None:
        self._feed = {self._input: np.ascontiguousarray(images, dtype=np.float32)}
        self.call()

    def release(self) -> None:
        self._feed = {}

    def call(self) -> None:
        self._session.run(None, self._feed)

    def predict(self, images: np.ndarray) -> np.ndarray:
        outputs = [
            self._session.run(None, {self._input: np.ascontiguousarray(images[i : i + PREDICT_BATCH])})[0]
            for i in range(0, len(images), PREDICT_BATCH)
        ]
        return np.concatenate(outputs)

    def op_profile(self, batch: int, images: np.ndarray) -> OpProfile:
        """Per-op time at ``batch`` from a profiled session of its own; the timed session is untouched."""
        from harness.bench.runtimes.ort.profile import op_profile

        return op_profile(str(self._path), session_options(self._threads), batch, images)

    def kernel_path(self, profile: bool = False) -> dict[str, Any]:
        """Integer vs float compute ops of the graph after ORT's optimizer."""
        graph = classify(optimized_op_types(str(self._path), session_options(self._threads)))
        return {
            "provider": "CPUExecutionProvider",
            "optimization": OPTIMIZATION,
            "ops_total": sum(graph.op_types.values()),
            "integer_ops": graph.integer,
            "float_ops": graph.float_compute if graph.integer else [],
            "float_op_count": len(graph.float_compute),
            "quantize_ops": graph.quantize,
            "op_types": graph.op_types,
        }


def load(path: Path, threads: int) -> OnnxRuntimeRunner:
    return OnnxRuntimeRunner(path, threads)
