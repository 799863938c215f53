"""Read a .tflite graph: which ops compute in float, and what XNNPACK leaves out.

Used twice: ``prepare`` refuses an "int8" file with a float compute op in it,
and the LiteRT runner records the same facts as the result's kernel path.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

import numpy as np

# Float by design at the edges of an int8 model with float input and output.
FLOAT_BOUNDARY_OPS = frozenset({"DEQUANTIZE", "QUANTIZE", "SOFTMAX"})
DELEGATE_OP = "DELEGATE"


@dataclass(frozen=True)
class GraphOps:
    """The model's own ops (no delegate), by what their outputs hold."""

    total: int
    integer: int  # ops with an int8/uint8 output
    float_compute: list[str]  # ops with a float32 output, boundary ops excepted
    quantize: int  # QUANTIZE and DEQUANTIZE


@dataclass(frozen=True)
class Delegation:
    """How the default delegate (XNNPACK) split the graph."""

    partitions: int
    outside_ops: list[str]  # ops the delegate did not take, in graph order


def graph_ops(model_content: bytes) -> GraphOps:
    """Classify every op of the model, read with no delegate applied."""
    from ai_edge_litert.interpreter import Interpreter, OpResolverType

    plain = Interpreter(
        model_content=model_content,
        experimental_op_resolver_type=OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES,
    )
    plain.allocate_tensors()
    dtypes = {t["index"]: t["dtype"] for t in plain.get_tensor_details()}
    ops = plain._get_ops_details()

    def outputs_of(op, kinds) -> bool:
        return any(dtypes.get(i) in kinds for i in op["outputs"] if i >= 0)

    integer = sum(outputs_of(op, (np.int8, np.uint8)) for op in ops)
    floats = Counter(
        op["op_name"]
        for op in ops
        if op["op_name"] not in FLOAT_BOUNDARY_OPS and outputs_of(op, (np.float32,))
    )
    return GraphOps(
        total=len(ops),
        integer=integer,
        float_compute=sorted(floats.elements()),
        quantize=sum(op["op_name"] in ("QUANTIZE", "DEQUANTIZE") for op in ops),
    )


def delegation(interpreter) -> Delegation:
    """Partitions of an allocated interpreter, and the ops outside every partition.

    The op list keeps the replaced ops; a DELEGATE node names only the tensors
    entering and leaving its partition. Walking back from its outputs to its
    inputs finds the ops it holds; the rest ran on the built-in kernels.
    """
    ops = interpreter._get_ops_details()
    producer = {int(t): op for op in ops if op["op_name"] != DELEGATE_OP for t in op["outputs"] if t >= 0}
    delegated: set[int] = set()
    partitions = [op for op in ops if op["op_name"] == DELEGATE_OP]
    for partition in partitions:
        boundary = {int(t) for t in partition["inputs"]}
        pending = [int(t) for t in partition["outputs"]]
        while pending:
            tensor = pending.pop()
            op = producer.get(tensor)
            if op is None or tensor in boundary or op["index"] in delegated:
                continue
            delegated.add(op["index"])
            pending.extend(int(t) for t in op["inputs"] if t >= 0)
    outside = [op["op_name"] for op in ops if op["op_name"] != DELEGATE_OP and op["index"] not in delegated]
    return Delegation(partitions=len(partitions), outside_ops=outside if partitions else [])
