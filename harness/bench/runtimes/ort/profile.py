"""Where an ONNX Runtime call's time goes, from ORT's own profiler (``enable_profiling``).

Profiling is a session option and slows every call, so the profile comes from a
second session with the timed session's options plus profiling; the timed session
is never touched. ORT writes one JSON trace per session: "model_run" events mark
each ``run`` and "<node>_kernel_time" events time each node's kernel inside it.
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Iterable
from typing import Any

import numpy as np

from harness.bench.runtimes.ort.graph import INTEGER_COMPUTE, QUANTIZE
from harness.op_profile import (
    PRECISION_CONVERT,
    PRECISION_FP32,
    PRECISION_INT8,
    OpProfile,
    OpRow,
    grouped,
    per_op_profile,
    profiled_calls,
    warm_up,
)

# Tensor element types of ORT's trace ("input_type_shape") that are 8-bit integers.
INTEGER_TENSORS = frozenset({"uint8", "int8"})


def op_profile(model_path: str, options, batch: int, images: np.ndarray) -> OpProfile:
    """Profile ``batch`` images through a session of its own built from ``options``
    (the timed session's options; profiling is switched on here)."""
    import onnxruntime as ort

    with tempfile.TemporaryDirectory(prefix="quantbench-ort-profile-") as folder:
        options.enable_profiling = True
        options.profile_file_prefix = f"{folder}/ort"
        session = ort.InferenceSession(model_path, options, providers=["CPUExecutionProvider"])
        feed = {session.get_inputs()[0].name: np.ascontiguousarray(images[:batch], dtype=np.float32)}

        def call() -> None:
            session.run(None, feed)

        warm_up(call)
        walls = profiled_calls(call)
        with open(session.end_profiling()) as trace:
            events = json.load(trace)
    rows = rows_from_trace(events, len(walls))
    return per_op_profile(
        f"onnxruntime {ort.__version__} profiler (enable_profiling)",
        batch,
        walls,
        rows,
        "kernel time per node from ORT's trace, summed by op type over the last "
        f"{len(walls)} runs of a profiled session (warm-up runs dropped); the time between "
        "kernels (the executor, fences, the Python call) is in no row",
    )


def rows_from_trace(events: list[dict[str, Any]], runs: int) -> tuple[OpRow, ...]:
    """Rows per (op type, precision, provider) from a trace: the kernel events inside the
    last ``runs`` "model_run" windows, time and count per run."""
    windows = sorted(
        (event["ts"], event["ts"] + event["dur"])
        for event in events
        if event.get("cat") == "Session" and event.get("name") == "model_run"
    )[-runs:]
    rows = []
    for event in _kernel_events(events):
        if any(start <= event["ts"] <= end for start, end in windows):
            args = event["args"]
            rows.append(
                OpRow(
                    name=args["op_name"],
                    precision=precision_of(args["op_name"], _input_types(args)),
                    ms=event["dur"] / 1000 / len(windows),
                    count=1,
                    kernel=args.get("provider", ""),
                )
            )
    merged = grouped(rows)
    # every kernel event counted once; a type that ran in each window ``runs`` times
    return tuple(
        OpRow(row.name, row.precision, row.ms, round(row.count / len(windows)), row.kernel) for row in merged
    )


def precision_of(op_type: str, input_types: Iterable[str]) -> str:
    """ "int8" for an integer kernel, "convert" for (de)quantization, "fp32" otherwise.

    Ops named in neither set (MaxPool, Transpose, Reshape, ...) run in their input's type:
    on a uint8 tensor they are integer kernels of the quantized path, not float work.
    """
    if op_type in QUANTIZE:
        return PRECISION_CONVERT
    if op_type in INTEGER_COMPUTE or op_type.startswith("QLinear"):
        return PRECISION_INT8
    first = next(iter(input_types), "")
    return PRECISION_INT8 if first in INTEGER_TENSORS else PRECISION_FP32


def _kernel_events(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [
        event
        for event in events
        if event.get("cat") == "Node" and str(event.get("name", "")).endswith("_kernel_time")
    ]


def _input_types(args: dict[str, Any]) -> list[str]:
    """Element types of a node's inputs, in order (the trace lists ``[{"float": shape}, ...]``)."""
    return [next(iter(entry)) for entry in args.get("input_type_shape", ()) if entry]
