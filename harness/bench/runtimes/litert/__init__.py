"""LiteRT (``ai_edge_litert``) with its default XNNPACK delegate: float, fp16 and three int8 paths."""

from harness.runtime_registry import RuntimeSpec, VariantSpec

RUNTIME = RuntimeSpec(
    name="litert",
    label="LiteRT",
    distribution="ai-edge-litert",
    order=20,
    packages={"ai-edge-litert": ("ai-edge-litert",)},
    variants=(
        VariantSpec("tflite-fp32", "fp32", "tflite-fp32", "tflite-fp32.tflite", "LiteRT float32 (XNNPACK)"),
        VariantSpec(
            "tflite-dynamic",
            "dynamic-int8",
            "tflite-fp32",
            "tflite-dynamic.tflite",
            "LiteRT dynamic-range int8 (int8 weights, float activations)",
        ),
        VariantSpec(
            "tflite-int8",
            "int8",
            "tflite-fp32",
            "tflite-int8.tflite",
            "LiteRT full-integer int8, post-training calibration (512 images)",
            integer_only=True,
            verdict_name="full-integer int8",
        ),
        VariantSpec(
            "tflite-int8-qat",
            "int8-qat",
            "tflite-fp32",
            "tflite-int8-qat.tflite",
            "LiteRT full-integer int8 converted from the QAT model",
            integer_only=True,
            verdict_name="QAT int8",
        ),
        VariantSpec("tflite-fp16", "fp16", "tflite-fp32", "tflite-fp16.tflite", "LiteRT float16 weights"),
    ),
)
