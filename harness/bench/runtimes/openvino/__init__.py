"""OpenVINO (CPU plugin): float32 pinned to f32, and NNCF post-training int8."""

from harness.runtime_registry import RuntimeSpec, VariantSpec

RUNTIME = RuntimeSpec(
    name="openvino",
    label="OpenVINO",
    distribution="openvino",
    order=40,
    packages={"openvino": ("openvino",), "nncf": ("nncf",)},
    converts_from="onnx",
    variants=(
        VariantSpec(
            "openvino-fp32",
            "fp32",
            "openvino-fp32",
            "openvino-fp32",
            "OpenVINO float32 (inference precision pinned to f32)",
        ),
        VariantSpec(
            "openvino-int8",
            "int8",
            "openvino-fp32",
            "openvino-int8",
            "OpenVINO int8 from NNCF post-training quantization (the same 512 images; f32 where not int8)",
            verdict_name="NNCF int8",
        ),
    ),
)
