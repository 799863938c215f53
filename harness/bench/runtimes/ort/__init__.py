"""ONNX Runtime (CPU execution provider): float32, and int8 three ways, from one ONNX export."""

from harness.runtime_registry import RuntimeSpec, VariantSpec

RUNTIME = RuntimeSpec(
    name="ort",
    label="ONNX Runtime",
    distribution="onnxruntime",
    order=30,
    packages={"onnxruntime": ("onnxruntime",), "onnx": ("onnx",), "tf2onnx": ("tf2onnx",)},
    # Without VNNI its U8S8 kernels add pairs of u8*s8 products in 16 bits (vpmaddubsw), which
    # saturate: on an AVX2-only Zen 3 ort-int8 strayed 0.114 from ort-fp32, 0.024 under QEMU arm64.
    int8_exact_needs_dot_product=True,
    converts_from="onnx",
    variants=(
        VariantSpec(
            "ort-fp32", "fp32", "ort-fp32", "ort-fp32.onnx", "ONNX Runtime float32 (all graph optimizations)"
        ),
        VariantSpec(
            "ort-dynamic",
            "dynamic-int8",
            "ort-fp32",
            "ort-dynamic.onnx",
            "ONNX Runtime dynamic int8 (int8 weights, activations quantized per call)",
        ),
        VariantSpec(
            "ort-int8",
            "int8",
            "ort-fp32",
            "ort-int8.onnx",
            "ONNX Runtime static int8, QOperator (uint8 activations, per-channel int8 weights)",
            verdict_name="static int8 (QOperator U8S8)",
        ),
        VariantSpec(
            "ort-int8-qdq",
            "int8",
            "ort-fp32",
            "ort-int8-qdq.onnx",
            "ONNX Runtime static int8, QDQ (int8 activations, per-channel int8 weights)",
        ),
    ),
)
