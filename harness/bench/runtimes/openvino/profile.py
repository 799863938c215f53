"""Where an OpenVINO call's time goes, from the CPU plugin's performance counters (PERF_COUNT).

PERF_COUNT is a compile property and times every node of every call, so the profile
comes from a second compiled model with the timed one's properties plus PERF_COUNT,
and an infer request of its own. ``get_profiling_info()`` does not give the last call:
the CPU plugin reports each node's mean over every call since compile, in whole
microseconds (``PerfCount::avg()``, each call's duration cut to whole µs first). The
profiled calls' time is therefore the difference of two readings, mean × calls, one
after the warm-up and one after the profiled calls.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from harness.op_profile import (
    PRECISION_CONVERT,
    PRECISION_FP32,
    PRECISION_INT8,
    WARMUP_CALLS,
    OpProfile,
    OpRow,
    grouped,
    per_op_profile,
    profiled_calls,
    warm_up,
)

# exec_type's last "_" part ("jit_avx2_1x1_I8", "brgconv_avx512_FP32", "ref_any_f32") -> precision
EXEC_PRECISIONS = {"I8": PRECISION_INT8, "U8": PRECISION_INT8, "FP32": PRECISION_FP32, "F32": PRECISION_FP32}
EXEC_PRECISIONS |= {"BF16": "bf16", "FP16": "fp16", "F16": "fp16"}
# Layers whose job is to move a tensor between precisions (FakeQuantize: f32 -> u8 on the
# way into an int8 convolution). Any other non-compute layer counts as a conversion when its
# input and output differ in being integer (a Subgraph or Reorder quantizing the input).
CONVERT_LAYERS = frozenset({"Convert", "FakeQuantize"})
COMPUTE_LAYERS = frozenset(
    {
        "Convolution",
        "GroupConvolution",
        "Deconvolution",
        "FullyConnected",
        "FullyConnectedQuantizedLegacy",
        "MatMul",
    }
)
INTEGER_ELEMENTS = frozenset({"i8", "u8"})


@dataclass(frozen=True)
class NodeTime:
    """One node of the compiled model as the counters report it."""

    node_type: str
    exec_type: str
    total_us: float  # mean × calls since compile: the node's time over all those calls


def op_profile(
    core, model_file: Path, properties: dict[str, Any], batch: int, images: np.ndarray
) -> OpProfile:
    """Profile ``batch`` images through a model compiled for it with ``properties`` plus PERF_COUNT."""
    import openvino as ov

    model = core.read_model(str(model_file))  # its own copy: the runner's model keeps its shape
    model.reshape([batch, *images.shape[1:]])  # the images come in the file's own layout and side
    compiled = core.compile_model(model, "CPU", {**properties, "PERF_COUNT": True})
    request = compiled.create_infer_request()
    request.set_input_tensor(ov.Tensor(np.ascontiguousarray(images[:batch], dtype=np.float32)))
    warm_up(request.infer)
    before = node_times(request.get_profiling_info(), WARMUP_CALLS)
    walls = profiled_calls(request.infer)
    after = node_times(request.get_profiling_info(), WARMUP_CALLS + len(walls))
    conversions = precision_changes(compiled.get_runtime_model())
    rows = rows_from_counters(before, after, len(walls), conversions)
    return per_op_profile(
        f"openvino {ov.get_version().split('-')[0]} CPU plugin performance counters (PERF_COUNT)",
        batch,
        walls,
        rows,
        f"node time over {len(walls)} profiled calls (difference of the plugin's since-compile "
        "means, warm-up excluded) summed by layer type and kernel; each node's time is cut to "
        "whole µs per call, and nodes fused into another report none of their own",
    )


def node_times(infos, calls: int) -> dict[str, NodeTime]:
    """Each node's total time over the ``calls`` calls since compile, from ``get_profiling_info()``."""
    return {
        info.node_name: NodeTime(
            node_type=info.node_type,
            exec_type=info.exec_type,
            total_us=info.real_time.total_seconds() * 1e6 * calls,
        )
        for info in infos
    }


def precision_changes(runtime_model) -> set[str]:
    """Names of the non-compute nodes whose input and output differ in being integer."""
    changes = set()
    for op in runtime_model.get_ordered_ops():
        if op.get_input_size() == 0:
            continue
        info = op.get_rt_info()
        layer_type = str(info["layerType"].astype(str)) if "layerType" in info else ""
        output = str(info["outputPrecisions"].astype(str)).split(",")[0] if "outputPrecisions" in info else ""
        first_input = op.input(0).get_element_type().to_string()
        if layer_type not in COMPUTE_LAYERS and (first_input in INTEGER_ELEMENTS) != (
            output in INTEGER_ELEMENTS
        ):
            changes.add(op.get_friendly_name())
    return changes


def rows_from_counters(
    before: dict[str, NodeTime], after: dict[str, NodeTime], calls: int, conversions: set[str]
) -> tuple[OpRow, ...]:
    """Rows per (layer type, precision, kernel): time per profiled call and nodes that ran."""
    times: dict[tuple[str, str, str], float] = {}
    counts: Counter[tuple[str, str, str]] = Counter()
    for name, node in after.items():
        spent_us = node.total_us - (before[name].total_us if name in before else 0.0)
        if spent_us <= 0:
            continue  # not run, fused into another node, or under 1 µs on every call
        precision = precision_of(node.node_type, node.exec_type, name in conversions)
        key = (node.node_type, precision, kernel_name(node.exec_type))
        times[key] = times.get(key, 0.0) + spent_us / calls / 1000
        counts[key] += 1
    return grouped(
        [
            OpRow(kind, precision, ms, counts[(kind, precision, kernel)], kernel)
            for (kind, precision, kernel), ms in times.items()
        ]
    )


def precision_of(node_type: str, exec_type: str, changes_precision: bool) -> str:
    """ "convert" for a layer that moves between precisions, else the exec_type's precision."""
    if node_type in CONVERT_LAYERS or changes_precision:
        return PRECISION_CONVERT
    suffix = exec_type.rsplit("_", 1)[-1].upper()
    return EXEC_PRECISIONS.get(suffix, suffix.lower() or PRECISION_FP32)


def kernel_name(exec_type: str) -> str:
    """The exec_type without its precision suffix ("jit_avx2_1x1_I8" -> "jit_avx2_1x1")."""
    head, _, suffix = exec_type.rpartition("_")
    return head if head and suffix.upper() in EXEC_PRECISIONS else exec_type
