"""Runtime families. Adding a runtime (ONNX Runtime is next) is one module here
plus one line in ``LOADERS``."""

from __future__ import annotations

import importlib
from pathlib import Path

from harness.bench.runtimes.base import Runner

# manifest runtime name -> module with load(path, threads) -> Runner
LOADERS = {
    "tf": "harness.bench.runtimes.tf_runtime",
    "litert": "harness.bench.runtimes.litert_runtime",
}


def load_runner(runtime: str, path: Path, threads: int) -> Runner:
    """Load one artifact with its runtime."""
    return importlib.import_module(LOADERS[runtime]).load(path, threads)


def configure_threads(runtimes: set[str], threads: int) -> None:
    """Set process-wide thread pools; must run before any model loads."""
    for runtime in sorted(runtimes):
        module = importlib.import_module(LOADERS[runtime])
        if hasattr(module, "configure_threads"):
            module.configure_threads(threads)
