"""SavedModels of one ``serve`` function: the float graph, or the QAT fake-quant graph
(float kernels plus FakeQuant ops, what the 2018 measurement timed)."""

from __future__ import annotations

from pathlib import Path

from harness.bench.conversion import ConversionSources, save_serving_graph
from harness.runtime_registry import VariantSpec


def convert(variant: VariantSpec, sources: ConversionSources, target: Path) -> None:
    model = sources.qat_model if variant.precision == "fakequant" else sources.float_model
    save_serving_graph(model, target)
