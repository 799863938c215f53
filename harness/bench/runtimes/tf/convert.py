"""SavedModels of one ``serve`` function: the float graph, or the QAT fake-quant graph
(float kernels plus FakeQuant ops, what the 2018 measurement timed)."""

from __future__ import annotations

import shutil
from pathlib import Path

from harness.bench.conversion import ConversionSources
from harness.bench.sources.base import FLOAT, QAT
from harness.runtime_registry import VariantSpec


def convert(variant: VariantSpec, sources: ConversionSources, target: Path) -> None:
    shutil.copytree(sources.saved_model(QAT if variant.precision == "fakequant" else FLOAT), target)
