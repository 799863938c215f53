"""Read the graph ONNX Runtime actually runs: which compute ops are integer, which float.

The session's optimizer rewrites the file (QDQ pairs fused into QLinearConv,
Conv+Relu into FusedConv, NCHWc layouts), so the kernel path comes from the
optimized graph the session writes out, not from the file on disk.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

# Ops that multiply or reduce in integers (ONNX and ORT's com.microsoft domain).
INTEGER_COMPUTE = frozenset(
    {
        "QLinearConv",
        "QLinearMatMul",
        "QGemm",
        "ConvInteger",
        "MatMulInteger",
        "MatMulIntegerToFloat",
        "DynamicQuantizeMatMul",
        "QLinearAdd",
        "QLinearMul",
        "QLinearGlobalAveragePool",
        "QLinearAveragePool",
        "QLinearSoftmax",
        "QLinearConcat",
    }
)
# The float ops that carry a ResNet's arithmetic (ORT's fused and NCHWc forms included).
FLOAT_COMPUTE = frozenset(
    {"Conv", "FusedConv", "NhwcFusedConv", "MatMul", "FusedMatMul", "Gemm", "FusedGemm", "BatchNormalization"}
)
QUANTIZE = frozenset({"QuantizeLinear", "DequantizeLinear", "DynamicQuantizeLinear"})


@dataclass(frozen=True)
class OptimizedGraph:
    """Op counts of one optimized graph."""

    op_types: dict[str, int]
    integer: int  # integer compute ops
    float_compute: list[str]  # float compute ops, in graph order
    quantize: int


def classify(op_types_in_order: list[str]) -> OptimizedGraph:
    """Counts for a list of op types (graph order)."""
    return OptimizedGraph(
        op_types=dict(Counter(op_types_in_order)),
        integer=sum(op in INTEGER_COMPUTE for op in op_types_in_order),
        float_compute=[op for op in op_types_in_order if op in FLOAT_COMPUTE],
        quantize=sum(op in QUANTIZE for op in op_types_in_order),
    )


def optimized_op_types(model_path: str, options) -> list[str]:
    """The op types of the graph a session with ``options`` runs, in graph order."""
    import tempfile

    import onnx
    import onnxruntime as ort

    with tempfile.TemporaryDirectory(prefix="quantbench-ort-") as folder:
        options.optimized_model_filepath = f"{folder}/optimized.onnx"
        ort.InferenceSession(model_path, options, providers=["CPUExecutionProvider"])
        graph = onnx.load(options.optimized_model_filepath).graph
    return [node.op_type for node in graph.node]
