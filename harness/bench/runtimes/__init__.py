"""Runtime families, one folder each (see ``harness/runtime_registry.py``).

This package's own module stays free of heavy imports: the host side reads the
declarations in the folders' ``__init__.py`` through the registry.
"""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import TYPE_CHECKING

from harness.runtime_registry import runtime_named

if TYPE_CHECKING:
    from harness.bench.runtimes.base import Runner


def load_runner(runtime: str, path: Path, threads: int) -> Runner:
    """Load one artifact with its runtime."""
    return importlib.import_module(runtime_named(runtime).runner_module).load(path, threads)


def configure_threads(runtimes: set[str], threads: int) -> None:
    """Set process-wide thread pools; must run before any model loads."""
    for runtime in sorted(runtimes):
        module = importlib.import_module(runtime_named(runtime).runner_module)
        if hasattr(module, "configure_threads"):
            module.configure_threads(threads)
