"""Where a TensorFlow graph's call spends its time, from TensorFlow's own profiler.

Used for the fake-quant graph: the report says why it is slow from these
numbers (op types by self time, and whether those ops work on the weights or
on the activations), not from a guess. ``op_profile`` gives every graph's rows
by op type from the same statistics.
"""

from __future__ import annotations

import glob
import json
import tempfile
from dataclasses import replace
from typing import Any

import numpy as np

from harness.op_profile import (
    PRECISION_CONVERT,
    PRECISION_FP32,
    OpProfile,
    OpRow,
    grouped,
    per_op_profile,
    profiled_calls,
    warm_up,
)

PROFILED_CALLS = 3
TOP_OPS = 4
WEIGHT_READ_OPS = ("ReadVariableOp", "VarHandleOp", "Const")  # a weight, not an activation


def profile_calls(serve, batch: int, calls: int = PROFILED_CALLS) -> dict[str, Any]:
    """Profile ``calls`` calls of ``serve`` on a zero batch; op types by share of self time."""
    import tensorflow as tf
    from tensorflow.python.profiler.internal import _pywrap_profiler_plugin as plugin

    images = tf.zeros([batch, 32, 32, 3], tf.float32)
    serve(images).numpy()  # traced and warm before the profile starts
    with tempfile.TemporaryDirectory(prefix="quantbench-profile-") as logdir:
        tf.profiler.experimental.start(logdir)
        try:
            for _ in range(calls):
                serve(images).numpy()
        finally:
            tf.profiler.experimental.stop()
        files = glob.glob(f"{logdir}/**/*.xplane.pb", recursive=True)
        data, ok = plugin.xspace_to_tools_data(files, "framework_op_stats", {})
    if not ok:
        raise RuntimeError("TensorFlow's profiler returned no op statistics")
    self_us = _self_time_by_type(data)
    total = sum(self_us.values()) or 1.0
    counts, on_weights = graph_op_types(serve.get_concrete_function().graph)
    top = sorted(self_us.items(), key=lambda item: -item[1])[:TOP_OPS]
    return {
        "tool": f"tensorflow {tf.__version__} profiler (framework_op_stats)",
        "batch": batch,
        "calls": calls,
        "ms_per_call": round(total / calls / 1000, 3),
        "top_ops": [
            {
                "type": op_type,
                "share": round(us / total, 4),
                "ms_per_call": round(us / calls / 1000, 3),
                "in_graph": counts.get(op_type, 0),
                "on_weights": on_weights.get(op_type, 0),
            }
            for op_type, us in top
        ],
    }


def op_profile(serve, batch: int, images: np.ndarray) -> OpProfile:
    """Rows by op type (self time and ops per call) for ``batch`` images, from TensorFlow's
    profiler around calls timed one by one; FakeQuant* ops are the "convert" rows."""
    import tensorflow as tf

    batch_input = tf.constant(np.ascontiguousarray(images[:batch], dtype=np.float32))

    def call() -> None:
        serve(batch_input).numpy()

    warm_up(call)  # traced and warm before the profile starts
    with tempfile.TemporaryDirectory(prefix="quantbench-profile-") as logdir:
        tf.profiler.experimental.start(logdir)
        try:
            walls = profiled_calls(call)
        finally:
            tf.profiler.experimental.stop()
        stats = _op_stats(logdir)
    calls = len(walls)
    rows = grouped(
        [
            OpRow(
                name=op_type,
                precision=PRECISION_CONVERT if "FakeQuant" in op_type else PRECISION_FP32,
                ms=self_us / calls / 1000,
                count=round(occurrences / calls),
            )
            for op_type, (self_us, occurrences) in stats.items()
        ]
    )
    note = (
        f"self time per op type over {calls} profiled calls (TensorFlow's framework_op_stats, IDLE dropped)"
    )
    tool = f"tensorflow {tf.__version__} profiler (framework_op_stats)"
    profile = per_op_profile(tool, batch, walls, rows, note)
    if profile.missing:
        # the profiler runs during the profiled calls: its own tracing is in the wall time, in no op
        note += "; the wall time includes the profiler's own overhead, which no op row holds"
        profile = replace(profile, note=note)
    return profile


def _op_stats(logdir: str) -> dict[str, tuple[float, float]]:
    """Per op type: total self time (µs) and occurrences over the profile in ``logdir``."""
    from tensorflow.python.profiler.internal import _pywrap_profiler_plugin as plugin

    files = glob.glob(f"{logdir}/**/*.xplane.pb", recursive=True)
    data, ok = plugin.xspace_to_tools_data(files, "framework_op_stats", {})
    if not ok:
        raise RuntimeError("TensorFlow's profiler returned no op statistics")
    table = json.loads(data)
    table = table[0] if isinstance(table, list) else table
    columns = [column["id"] for column in table["cols"]]
    kind, self_time, occurrences = (
        columns.index(name) for name in ("type", "total_self_time", "occurrences")
    )
    totals: dict[str, tuple[float, float]] = {}
    for row in table["rows"]:
        cells = [cell.get("v") for cell in row["c"]]
        if cells[kind] != "IDLE":
            spent, seen = totals.get(cells[kind], (0.0, 0.0))
            totals[cells[kind]] = (spent + float(cells[self_time]), seen + float(cells[occurrences]))
    return totals


def _self_time_by_type(data: bytes | str) -> dict[str, float]:
    """Sum of self time (µs) per op type; "IDLE" is not an op."""
    table = json.loads(data)
    table = table[0] if isinstance(table, list) else table
    columns = [column["id"] for column in table["cols"]]
    kind, self_time = columns.index("type"), columns.index("total_self_time")
    totals: dict[str, float] = {}
    for row in table["rows"]:
        cells = [cell.get("v") for cell in row["c"]]
        if cells[kind] != "IDLE":
            totals[cells[kind]] = totals.get(cells[kind], 0.0) + float(cells[self_time])
    return totals


def graph_op_types(graph) -> tuple[dict[str, int], dict[str, int]]:
    """Per op type, in the graph and every function it calls: how many, and how many take a
    weight (a variable read or a constant, through Identity ops) as their first input."""
    graph_def = graph.as_graph_def()
    bodies = [list(graph_def.node)] + [list(function.node_def) for function in graph_def.library.function]
    counts: dict[str, int] = {}
    on_weights: dict[str, int] = {}
    for nodes in bodies:
        by_name = {node.name: node for node in nodes}
        for node in nodes:
            counts[node.op] = counts.get(node.op, 0) + 1
            if node.input and _is_weight(node.input[0], by_name):
                on_weights[node.op] = on_weights.get(node.op, 0) + 1
    return counts, on_weights


def _is_weight(input_name: str, by_name: dict, depth: int = 4) -> bool:
    node = by_name.get(input_name.lstrip("^").split(":")[0])
    while node is not None and node.op == "Identity" and node.input and depth > 0:
        node, depth = by_name.get(node.input[0].lstrip("^").split(":")[0]), depth - 1
    return node is not None and node.op in WEIGHT_READ_OPS
