"""Stage times of a .tflite model, by prefix models cut from the very same file.

LiteRT's Python API has no per-op timer (no profiler binding; XNNPACK times its operators
only for a C++ profiler), so this is the closest honest substitute: the file is cut after the
last operator of each stage (stem, conv2..convN, head: the built-in ResNet's, from its tensor
names; a model whose names say nothing of stages, a user's, is cut into ``PARTS`` runs of
equal op counts, named by their op indices), that operator's output becomes the graph's
output and every later operator is dropped. Nothing is reconverted: the cut changes
two vector lengths and one tensor index in a copy of the file's bytes, so the prefixes keep
the same weights, quantization parameters, alignment and kernels. Each prefix is timed in an
interpreter of its own; a stage's time is its prefix's median call minus the one before.
"""

from __future__ import annotations

import re
import statistics
import struct
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from importlib import metadata

import numpy as np

from harness.op_profile import (
    METHOD_NONE,
    METHOD_STAGES,
    PRECISION_CONVERT,
    PRECISION_FP32,
    PRECISION_INT8,
    PRECISION_INT16,
    PRECISION_MIXED,
    OpProfile,
    OpRow,
)

NOTE = (
    "stage times by difference of prefix models cut from this file; not a per-op timer; "
    "per-stage values carry the noise of two timings"
)
WARMUP_CALLS = 3
MIN_SECONDS = 0.5  # timed per prefix, in all
ROUNDS = 5  # every prefix at least once per round: ROUNDS calls at least
MAX_CALLS = 20_000  # per prefix: a 10 µs stem prefix needs no more for its share of the time

STEM, HEAD = 1, 1_000  # stage keys; conv stage N has key N (conv2 = 2, ...)
PARTS = 4  # op runs of a model whose tensor names give no stages
CONVERT_OPS = ("QUANTIZE", "DEQUANTIZE")
INTEGER_DTYPES = (np.int8, np.uint8)
FLOAT_DTYPES = (np.float32, np.float16)

# A Keras layer name inside a converted tensor name ("resnet_v2_resnet50/conv2_block1_out/add";
# QAT models prefix layers with "quant_"). Fused ops join several names with ";".
_LAYER = re.compile(
    r"^(?:quant_)?(?:(?P<stem>conv1_|pool1_)|conv(?P<conv>\d+)_block\d+_"
    r"|(?P<head>post_bn|post_relu|avg_pool|predictions)(?:_|$))"
)
# SubGraph table fields (schema.fbs: tensors 0, inputs 1, outputs 2, operators 3), as vtable
# offsets: 4 + 2 * field id.
_SUBGRAPH_OUTPUTS = 8
_SUBGRAPH_OPERATORS = 10


@dataclass(frozen=True)
class Stage:
    """One stage: the op whose output ends its prefix (None: the full model) and its ops."""

    name: str
    end_op: int | None
    ops: tuple[int, ...]  # indices of the ops that first run in this stage's prefix


def stage_name(key: int) -> str:
    """ "stem", "conv2", ..., "head" for a stage key."""
    return {STEM: "stem", HEAD: "head"}.get(key, f"conv{key}")


def stage_in_name(tensor_name: str) -> int | None:
    """The stage a converted tensor name belongs to, or None when it names no model layer.

    A fused op's name may list layers of two stages; the later one wins, since the op can
    only run once the earlier stage is done.
    """
    keys = []
    for part in re.split(r"[;/]", tensor_name):
        match = _LAYER.match(part)
        if match:
            keys.append(STEM if match["stem"] else HEAD if match["head"] else int(match["conv"]))
    return max(keys, default=None)


def plan_stages(
    ops: list[dict], tensor_names: dict[int, str], model_inputs: set[int]
) -> tuple[Stage, ...] | str:
    """Stages of a graph in op order (``Interpreter._get_ops_details()``), or why there are none.

    An op takes the stage its output tensor names; one whose name says nothing inherits the
    previous op's (the leading QUANTIZE: the stem). Ops fed by constants only (fp16 weights'
    DEQUANTIZE, gathered at the top of the graph) are not on the data path: they neither end
    a stage nor break the order, and count in the stage of their first consumer.
    """
    producer = {out: op["index"] for op in ops for out in op["outputs"] if out >= 0}
    consumers: dict[int, list[int]] = {}
    for op in ops:
        for tensor in op["inputs"]:
            consumers.setdefault(int(tensor), []).append(op["index"])
    constant_fed = {
        op["index"]
        for op in ops
        if all(t < 0 or (t not in producer and t not in model_inputs) for t in op["inputs"])
    }
    stage_of: dict[int, int] = {}
    current = STEM
    for op in ops:
        if op["index"] in constant_fed:
            continue
        named = stage_in_name(tensor_names.get(int(op["outputs"][0]), ""))
        if named is not None and named < current:
            return (
                f"op {op['index']} ({op['op_name']}) names stage {stage_name(named)} after "
                f"{stage_name(current)}: the graph's op order does not follow the stages"
            )
        current = named if named is not None else current
        stage_of[op["index"]] = current
    keys = sorted(set(stage_of.values()))
    convs = [key for key in keys if key not in (STEM, HEAD)]
    names = stage_name
    if keys[:1] != [STEM] or keys[-1:] != [HEAD] or convs != list(range(2, 2 + len(convs))) or not convs:
        stage_of, names = _even_parts(sorted(stage_of))
        keys = sorted(set(stage_of.values()))
        if len(keys) < 2:
            return f"a graph of {len(stage_of)} data-path op(s) has no stages to time"
    ends = {key: max(i for i, k in stage_of.items() if k == key) for key in keys}
    for index in sorted(constant_fed):
        users = sorted(c for out in ops[index]["outputs"] for c in consumers.get(int(out), ()))
        first_prefix = min((key for key in keys if ends[key] >= index), default=keys[-1])
        # Unused constant work runs from the first prefix that holds it (ops are cut by index).
        stage_of[index] = stage_of.get(users[0], first_prefix) if users else first_prefix
    return tuple(
        Stage(
            names(key),
            None if key == keys[-1] else ends[key],
            tuple(sorted(i for i, k in stage_of.items() if k == key)),
        )
        for key in keys
    )


def _even_parts(path_ops: list[int]) -> tuple[dict[int, int], Callable[[int], str]]:
    """The data-path ops in PARTS consecutive runs of (nearly) equal counts, keyed 0..PARTS-1, and
    each run's name: "ops FIRST-LAST" (op indices)."""
    parts = min(PARTS, len(path_ops))
    stage_of = {op: position * parts // len(path_ops) for position, op in enumerate(path_ops)}
    bounds = {
        key: (
            min(o for o, k in stage_of.items() if k == key),
            max(o for o, k in stage_of.items() if k == key),
        )
        for key in set(stage_of.values())
    }
    return stage_of, lambda key: f"ops {bounds[key][0]}-{bounds[key][1]}"


def cut_after(model_content: bytes, end_op: int) -> bytes:
    """A copy of the model whose graph stops after op ``end_op``: its output is the graph's.

    Edits in place, so nothing else moves: the operators vector's length becomes
    ``end_op + 1`` and the outputs vector holds that op's first output alone.
    """
    from ai_edge_litert import schema_py_generated as schema

    model = schema.Model.GetRootAs(model_content, 0)
    if model.SubgraphsLength() != 1:
        raise ValueError(f"a prefix needs a single-graph model, this one has {model.SubgraphsLength()}")
    graph = model.Subgraphs(0)
    if not 0 <= end_op < graph.OperatorsLength():
        raise ValueError(f"op {end_op} is not in a graph of {graph.OperatorsLength()} ops")
    output = graph.Operators(end_op).Outputs(0)
    patched = bytearray(model_content)
    operators = graph._tab.Vector(graph._tab.Offset(_SUBGRAPH_OPERATORS))
    outputs = graph._tab.Vector(graph._tab.Offset(_SUBGRAPH_OUTPUTS))
    struct.pack_into("<I", patched, operators - 4, end_op + 1)  # a vector's length precedes it
    struct.pack_into("<I", patched, outputs - 4, 1)
    struct.pack_into("<i", patched, outputs, output)
    return bytes(patched)


@dataclass(frozen=True)
class PrefixTiming:
    """A model's median call over a bare loop, and whether XNNPACK took any of it."""

    median_ms: float
    calls: int
    delegated: bool


def time_models(
    contents: list[bytes], threads: int, images: np.ndarray, min_seconds: float = MIN_SECONDS
) -> list[PrefixTiming]:
    """Median ``invoke()`` of each model (a fresh interpreter each, default XNNPACK) on ``images``,
    timed in ROUNDS rounds that visit every model in turn.

    Taking turns spreads a burst of other work over all prefixes alike instead of moving it
    into the one that ran during it (timed one after the other, at batch 64 on a shared 2-core
    machine, late stages' shares moved by 10 points and more between runs). Each model gets
    ``min_seconds`` of timed calls in all, at least ROUNDS; interpreters are held together.
    """
    from ai_edge_litert.interpreter import Interpreter

    interpreters = []
    for content in contents:
        interpreter = Interpreter(model_content=content, num_threads=threads)
        index = interpreter.get_input_details()[0]["index"]
        interpreter.resize_tensor_input(index, list(images.shape))
        interpreter.allocate_tensors()
        interpreter.set_tensor(index, images)
        for _ in range(WARMUP_CALLS):
            interpreter.invoke()
        interpreters.append(interpreter)
    timings: list[list[float]] = [[] for _ in contents]
    clock = time.perf_counter
    for _ in range(ROUNDS):
        for interpreter, spent in zip(interpreters, timings, strict=True):
            invoke, this_round = interpreter.invoke, 0.0
            while (this_round == 0.0 or this_round < min_seconds / ROUNDS) and len(spent) < MAX_CALLS:
                start = clock()
                invoke()
                spent.append(clock() - start)
                this_round += spent[-1]
    found = []
    for interpreter, spent in zip(interpreters, timings, strict=True):
        delegated = any(op["op_name"] == "DELEGATE" for op in interpreter._get_ops_details())
        found.append(PrefixTiming(statistics.median(spent) * 1000, len(spent), delegated))
    return found


def read_graph(model_content: bytes) -> tuple[list[dict], dict[int, str], dict[int, type], set[int]]:
    """Ops, tensor names, tensor dtypes and graph inputs, read with no delegate applied."""
    from ai_edge_litert.interpreter import Interpreter, OpResolverType

    plain = Interpreter(
        model_content=model_content,
        experimental_op_resolver_type=OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES,
    )
    details = plain.get_tensor_details()
    names = {t["index"]: t["name"] for t in details}
    dtypes = {t["index"]: t["dtype"] for t in details}
    inputs = {int(t["index"]) for t in plain.get_input_details()}
    return plain._get_ops_details(), names, dtypes, inputs


def op_kind(op: dict, dtypes: dict[int, type]) -> str:
    """convert (QUANTIZE/DEQUANTIZE), int8 (an 8-bit integer output), int16 (16x8 files' int16
    activations: integer, but not int8 kernels), fp32 (a float output) or ""."""
    outputs = [dtypes.get(int(t)) for t in op["outputs"] if t >= 0]
    if op["op_name"] in CONVERT_OPS:
        return PRECISION_CONVERT
    if any(dtype in INTEGER_DTYPES for dtype in outputs):
        return PRECISION_INT8
    if any(dtype == np.int16 for dtype in outputs):
        return PRECISION_INT16
    if any(dtype in FLOAT_DTYPES for dtype in outputs):
        return PRECISION_FP32
    return ""  # an int32 shape op, say: says nothing of the stage's precision


def stage_row(stage: Stage, ms: float, ops: list[dict], dtypes: dict[int, type], delegate: str) -> OpRow:
    """The stage's row: its compute ops' one kind (int8, int16, fp32), or mixed when it holds two."""
    kinds = {op_kind(ops[i], dtypes) for i in stage.ops}
    compute = kinds - {PRECISION_CONVERT, ""}
    if len(compute) > 1:
        precision = PRECISION_MIXED
    elif compute:
        precision = compute.pop()
    else:
        precision = PRECISION_CONVERT if PRECISION_CONVERT in kinds else PRECISION_FP32
    converts = Counter(ops[i]["op_name"] for i in stage.ops if ops[i]["op_name"] in CONVERT_OPS)
    kernel = "; ".join([delegate, *(f"{n} {name}" for name, n in sorted(converts.items()))])
    return OpRow(stage.name, precision, round(ms, 4), len(stage.ops), kernel)


def stage_differences(prefix_ms: list[float]) -> list[float]:
    """Per-stage ms from the medians of growing prefixes: each minus the one before, at least 0.

    A longer prefix does all of a shorter one's work, so a shorter prefix that timed slower
    than a later one did so by noise: it is lowered to the least later median first (a min
    from the end). The stages then never go negative and still sum to the last median, the
    full model's, exactly, where clamping each difference alone would add the noise on top.
    """
    floors = list(prefix_ms)
    for k in range(len(floors) - 2, -1, -1):
        floors[k] = min(floors[k], floors[k + 1])
    return [floors[k] - (floors[k - 1] if k else 0.0) for k in range(len(floors))]


def stage_profile(
    model_content: bytes, threads: int, batch: int, images: np.ndarray, min_seconds: float = MIN_SECONDS
) -> OpProfile:
    """Stage times at ``batch`` from prefix models cut from ``model_content``.

    Stage k's time is median(prefix k) - median(prefix k-1), never below 0 (the stem: its
    prefix alone; see ``stage_differences``); wall_ms is the full model's median, and the
    stages sum to it by construction. When the tensor names do not give the stages, only the
    full model is timed and ``missing`` says why. A model whose names give no stages is cut into
    PARTS runs of ops, named by their op indices.

    ``min_seconds`` is the timed work per prefix, spread over rounds that visit every prefix
    in turn (``time_models``).
    """
    tool = f"ai-edge-litert {metadata.version('ai-edge-litert')}: prefix models cut at stage ends"
    ops, names, dtypes, inputs = read_graph(model_content)
    stages = plan_stages(ops, names, inputs)
    if isinstance(stages, str):
        full = time_models([model_content], threads, images, min_seconds)[0]
        return OpProfile(
            method=METHOD_NONE,
            tool=tool,
            batch=batch,
            calls=full.calls,
            wall_ms=round(full.median_ms, 4),
            note="no stage times: the model's stages could not be found in its tensor names",
            missing=stages,
        )
    contents = [model_content if s.end_op is None else cut_after(model_content, s.end_op) for s in stages]
    timings = time_models(contents, threads, images, min_seconds)
    full = timings[-1]
    delegate = "xnnpack" if full.delegated else "builtin"
    rows = [
        stage_row(stage, ms, ops, dtypes, delegate)
        for stage, ms in zip(stages, stage_differences([t.median_ms for t in timings]), strict=True)
    ]
    return OpProfile(
        method=METHOD_STAGES,
        tool=tool,
        batch=batch,
        calls=full.calls,
        wall_ms=round(full.median_ms, 4),
        rows=tuple(rows),
        note=NOTE,
        missing="",
    )
