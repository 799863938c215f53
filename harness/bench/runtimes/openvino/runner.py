"""OpenVINO CPU plugin: a model compiled per batch size, one infer request."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np

from harness.bench.runtimes.base import predict_in_fixed_batches
from harness.bench.runtimes.openvino.convert import COMPILE_FILE, MODEL_FILE
from harness.op_profile import OpProfile

PREDICT_BATCH = 64
# Layers that carry the arithmetic; their runtime precision is the kernel path.
COMPUTE_LAYERS = frozenset({"Convolution", "GroupConvolution", "Deconvolution", "FullyConnected", "MatMul"})
INTEGER_PRECISIONS = frozenset({"i8", "u8"})


class OpenVinoRunner:
    """Static shapes (recompiled when the batch changes); the timed call is ``infer()`` alone."""

    def __init__(self, path: Path, threads: int) -> None:
        import openvino as ov

        self._core = ov.Core()
        self._path = path
        self._model = self._core.read_model(str(path / MODEL_FILE))
        # H, W, C of the file's input (its batch is dynamic)
        self._image_shape = [side.get_length() for side in list(self._model.input().get_partial_shape())[1:]]
        self._properties: dict[str, Any] = {"NUM_STREAMS": 1, "PERFORMANCE_HINT": "LATENCY"}
        if threads > 0:
            self._properties["INFERENCE_NUM_THREADS"] = threads
        self._properties.update(json.loads((path / COMPILE_FILE).read_text()))
        self._batch = 0
        self._compiled = None
        self._request = None
        self.runtime_name = f"openvino {ov.get_version().split('-')[0]}"

    def _compile(self, batch: int) -> None:
        if batch != self._batch:
            self._request = self._compiled = None
            self._model.reshape([batch, *self._image_shape])
            self._compiled = self._core.compile_model(self._model, "CPU", self._properties)
            self._request = self._compiled.create_infer_request()
            self._batch = batch

    def prepare(self, batch: int, images: np.ndarray) -> None:
        import openvino as ov

        self._compile(batch)
        self._request.set_input_tensor(ov.Tensor(np.ascontiguousarray(images, dtype=np.float32)))
        self.call()

    def release(self) -> None:
        """Drop a large batch's compiled model; the next ``prepare`` or ``predict`` compiles anew."""
        if self._batch > 1:
            self._request = self._compiled = None
            self._batch = 0

    def call(self) -> None:
        self._request.infer()

    def predict(self, images: np.ndarray) -> np.ndarray:
        return predict_in_fixed_batches(
            images, PREDICT_BATCH, self._compile, lambda batch: self._request.infer({0: batch})[0]
        )

    def op_profile(self, batch: int, images: np.ndarray) -> OpProfile:
        """Per-layer time at ``batch`` from a model compiled with PERF_COUNT; the timed one is untouched."""
        from harness.bench.runtimes.openvino.profile import op_profile

        return op_profile(self._core, self._path / MODEL_FILE, self._properties, batch, images)

    def kernel_path(self, profile: bool = False) -> dict[str, Any]:
        """Each compute layer's runtime precision in the compiled model, and the precision hint."""
        if self._compiled is None:
            self._compile(1)
        layers = []
        for op in self._compiled.get_runtime_model().get_ordered_ops():
            info = op.get_rt_info()
            layers.append((str(info["layerType"].astype(str)), str(info["runtimePrecision"].astype(str))))
        compute = [(kind, precision) for kind, precision in layers if kind in COMPUTE_LAYERS]
        not_integer = [
            f"{kind} in {precision}" for kind, precision in compute if precision not in INTEGER_PRECISIONS
        ]
        integer = len(compute) - len(not_integer)
        return {
            "device": "CPU",
            "inference_precision": _type_name(self._compiled.get_property("INFERENCE_PRECISION_HINT")),
            "compute_layers": {
                f"{kind} in {precision}": n for (kind, precision), n in Counter(compute).items()
            },
            "ops_total": len(layers),
            "integer_ops": integer,
            "float_ops": not_integer if integer else [],
            "float_op_count": len(not_integer),
        }


def _type_name(element_type: Any) -> str:
    """ "f32", "bf16", "f16" for an ``ov.Type`` (its str() reads "<Type: 'float32'>")."""
    to_string = getattr(element_type, "to_string", None)
    return to_string() if callable(to_string) else str(element_type)


def load(path: Path, threads: int) -> OpenVinoRunner:
    return OpenVinoRunner(path, threads)
