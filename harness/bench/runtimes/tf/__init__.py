"""TensorFlow: the float graph and the QAT fake-quant graph, as SavedModels (the 2018 setup)."""

from harness.runtime_registry import RuntimeSpec, VariantSpec

RUNTIME = RuntimeSpec(
    name="tf",
    label="TF",
    distribution="tensorflow",
    order=10,
    packages={
        "tensorflow": ("tensorflow", "tensorflow-cpu"),
        "tf_keras": ("tf_keras",),
        "tensorflow-model-optimization": ("tensorflow-model-optimization",),
    },
    variants=(
        VariantSpec(
            "tf-fp32",
            "fp32",
            "tf-fp32",
            "tf-fp32",
            "TensorFlow float graph (SavedModel `serve`): the 2018 baseline",
        ),
        VariantSpec(
            "tf-fakequant",
            "fakequant",
            "tf-fp32",
            "tf-fakequant",
            "the QAT fake-quant graph in TensorFlow: what the 2018 author timed",
        ),
    ),
)
