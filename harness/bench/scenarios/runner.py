"""Choose the driver of a scenario run: LoadGen where it imports, else the Python loops."""

from __future__ import annotations

import importlib
import importlib.metadata
import platform
from collections.abc import Callable

from harness.bench.scenarios import loadgen_driver, python_driver
from harness.bench.scenarios.rules import SINGLE_STREAM, ScenarioRun, ScenarioSettings
from harness.errors import UserError

DRIVERS = ("auto", "loadgen", "python")
PYTHON_DRIVER = "python (LoadGen's rules)"


def loadgen_import_problem() -> str | None:
    """Why ``mlperf_loadgen`` cannot be imported here, in a few words; None when it can."""
    try:
        importlib.import_module("mlperf_loadgen")
    except ImportError as error:
        if platform.system() == "Linux" and platform.machine() in ("aarch64", "arm64"):
            return "no wheel for this platform"  # PyPI has no Linux aarch64 wheel of it
        return f"{type(error).__name__}: {error}"
    return None


def loadgen_version() -> str | None:
    """The installed LoadGen's version ("6.0.17"); None when ``mlperf_loadgen`` cannot be imported."""
    if loadgen_import_problem() is not None:
        return None
    for distribution in ("mlcommons-loadgen", "mlcommons_loadgen"):
        try:
            return importlib.metadata.version(distribution)
        except importlib.metadata.PackageNotFoundError:
            continue
    return "unknown version"  # built from source without package metadata


def run_scenario(
    settings: ScenarioSettings, call: Callable[[], None], *, driver: str = "auto"
) -> ScenarioRun:
    """Run one scenario on one loaded model; ``call()`` runs it once on ``settings.batch``
    samples (already prepared by the caller). ``driver``: "auto" (LoadGen where importable,
    else Python), "loadgen" or "python". Prints nothing (LoadGen itself may, on stdout).

    SingleStream issues batch-1 queries back to back until both minimums are met and reports
    the 90th percentile latency and LoadGen's early-stopping estimate of it; Offline gives every
    sample at once, run in calls of ``batch``, and reports samples per second.
    """
    if driver not in DRIVERS:
        raise ValueError(f"unknown scenario driver {driver!r}: use one of {', '.join(DRIVERS)}")
    problem = loadgen_import_problem() if driver != "python" else None
    if driver == "loadgen" and problem is not None:
        raise UserError(
            f"LoadGen cannot be imported here ({problem}): install mlcommons-loadgen, "
            "or use the Python driver, which applies LoadGen's rules."
        )
    if driver == "python" or problem is not None:
        label = PYTHON_DRIVER
        if problem is not None:
            label = f"python (LoadGen's rules; mlperf_loadgen not importable here: {problem})"
        if settings.scenario == SINGLE_STREAM:
            return python_driver.run_single_stream(settings, call, label)
        return python_driver.run_offline(settings, call, label)
    return loadgen_driver.run(settings, call, f"loadgen {loadgen_version()}")
