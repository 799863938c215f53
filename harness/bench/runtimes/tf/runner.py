"""TensorFlow SavedModel graphs: the float graph and the QAT fake-quant graph."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from harness.op_profile import OpProfile

PREDICT_CHUNK = 256


def configure_threads(threads: int) -> None:
    import tensorflow as tf

    tf.config.threading.set_intra_op_parallelism_threads(threads)
    tf.config.threading.set_inter_op_parallelism_threads(1)


class TensorFlowRunner:
    """Calls the SavedModel's ``serve`` function (a TF graph, not eager ops)."""

    def __init__(self, path: Path) -> None:
        import tensorflow as tf

        self._tf = tf
        self._module = tf.saved_model.load(str(path))  # owns the variables: keep it alive
        self._serve = self._module.serve
        self.runtime_name = f"tensorflow {tf.__version__}"
        self._batch_input = None
        from harness.bench.runtimes.tf.profile import graph_op_types

        # the serve graph calls the saved function: count the ops of every function it calls
        self._op_counts, _ = graph_op_types(self._serve.get_concrete_function().graph)

    def prepare(self, batch: int, images: np.ndarray) -> None:
        self._batch_input = self._tf.constant(images)
        self.call()  # traces once per shape outside the timed loop

    def release(self) -> None:
        """Drop the batch input (activations are freed when each call returns)."""
        self._batch_input = None

    def call(self) -> None:
        self._serve(self._batch_input).numpy()

    def predict(self, images: np.ndarray) -> np.ndarray:
        chunks = [
            self._serve(self._tf.constant(images[i : i + PREDICT_CHUNK])).numpy()
            for i in range(0, len(images), PREDICT_CHUNK)
        ]
        return np.concatenate(chunks)

    def op_profile(self, batch: int, images: np.ndarray) -> OpProfile:
        """Per-op-type time at ``batch`` from TensorFlow's profiler around calls of their own."""
        from harness.bench.runtimes.tf.profile import op_profile

        return op_profile(self._serve, batch, images)

    def kernel_path(self, profile: bool = False) -> dict[str, Any]:
        """Op counts; for a fake-quant graph also where a batch-1 call's time goes (TF's profiler)."""
        fake_quant = sum(count for op, count in self._op_counts.items() if "FakeQuant" in op)
        path: dict[str, Any] = {
            "delegate": "none",
            "graph_ops": sum(self._op_counts.values()),
            "fake_quant_ops": fake_quant,
            "note": "float kernels" + (" plus fake-quant ops" if fake_quant else ""),
        }
        if fake_quant and profile:
            from harness.bench.runtimes.tf.profile import profile_calls

            try:
                path["profile"] = profile_calls(self._serve, batch=1)
            except Exception as error:  # a private profiler API: say so, never fail the result
                path["profile_error"] = f"{type(error).__name__}: {error}"
        return path


def load(path: Path, threads: int) -> TensorFlowRunner:
    return TensorFlowRunner(path)
