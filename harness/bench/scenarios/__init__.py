"""MLPerf-Inference-style scenarios (SingleStream, Offline) for one loaded model.

Driven by MLPerf LoadGen where ``mlperf_loadgen`` imports, by Python loops applying the same
rules where it does not (PyPI has no Linux aarch64 wheel of mlcommons-loadgen):

- ``rules``: names, settings, the run record, MLPerf's minimums and what a run falls short of;
- ``early_stopping``: LoadGen's SingleStream early-stopping estimate, ported from its C++;
- ``python_driver`` / ``loadgen_driver``: the two drivers; ``runner``: choosing one.
"""

from harness.bench.scenarios.early_stopping import early_stopping_estimate, loadgen_percentile
from harness.bench.scenarios.rules import (
    OFFLINE,
    SCENARIOS,
    SINGLE_STREAM,
    ScenarioRun,
    ScenarioSettings,
    mlperf_minimums,
    scenario_name,
    shortfalls,
)
from harness.bench.scenarios.runner import loadgen_version, run_scenario

__all__ = [
    "OFFLINE",
    "SCENARIOS",
    "SINGLE_STREAM",
    "ScenarioRun",
    "ScenarioSettings",
    "early_stopping_estimate",
    "loadgen_percentile",
    "loadgen_version",
    "mlperf_minimums",
    "run_scenario",
    "scenario_name",
    "shortfalls",
]
