"""The scenarios' names, settings, result record and MLPerf's own minimums.

MLPerf's minimums, from LoadGen 6.0.17's ``loadgen/mlperf.conf`` (the rules of
mlcommons/inference_policies): ``*.SingleStream.min_duration = 600000`` and
``*.Offline.min_duration = 600000`` (ms); ``resnet50.Offline.min_query_count = 24576``.
SingleStream sets no query minimum there; its run is valid only with an early-stopping estimate,
which needs 64 queries for the 90th percentile (``early_stopping.min_queries``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from harness.bench.scenarios.early_stopping import min_queries as early_stopping_min_queries

SINGLE_STREAM = "SingleStream"  # LoadGen's names (TestScenario, and its summary's "Scenario :")
OFFLINE = "Offline"
SCENARIOS = {"singlestream": SINGLE_STREAM, "offline": OFFLINE}  # CLI spelling -> LoadGen name

MLPERF_MIN_DURATION_S = 600.0
MLPERF_RESNET50_OFFLINE_MIN_SAMPLES = 24_576


@dataclass(frozen=True)
class ScenarioSettings:
    """What one scenario run must reach; it lasts until BOTH minimums are met.

    ``min_query_count`` counts queries in SingleStream and samples in Offline (LoadGen's
    ``min_query_count`` turns into the Offline query's sample count). ``batch`` is the samples
    per runtime call: always 1 in SingleStream, the batch the model runs in Offline.
    """

    scenario: str
    min_duration_s: float
    min_query_count: int
    batch: int = 1

    def __post_init__(self) -> None:
        if self.scenario not in (SINGLE_STREAM, OFFLINE):
            raise ValueError(f"unknown scenario {self.scenario!r}: use {SINGLE_STREAM!r} or {OFFLINE!r}")
        if self.scenario == SINGLE_STREAM and self.batch != 1:
            raise ValueError(f"SingleStream queries hold one sample, not batch {self.batch}")
        if self.min_duration_s < 0 or self.min_query_count < 1 or self.batch < 1:
            raise ValueError(f"bad scenario settings: {self}")


@dataclass
class ScenarioRun:
    """One scenario run: every per-call latency, what was computed from them, and whether it met
    its own settings and MLPerf's minimums. Round-trips through JSON via ``dataclasses.asdict``.

    ``queries`` counts LoadGen queries (Offline: 1, holding every sample); ``latencies_s`` holds
    one value per query (SingleStream) or per runtime call of ``batch`` samples (Offline), timed
    around the call itself. ``duration_s`` runs from the first query's issue to the last sample's
    completion. In Offline ``p50_s``/``p90_s`` are of the calls: LoadGen's own Offline percentiles
    time each sample from the start of the one query, which measures the run, not a call.
    ``notes`` are plain sentences about anything the run did beyond the settings.
    """

    scenario: str
    driver: str
    settings: dict
    queries: int
    samples: int
    batch: int
    duration_s: float
    latencies_s: list[float]
    p50_s: float | None
    p90_s: float | None
    early_stopping_p90_s: float | None
    throughput_sps: float
    min_duration_met: bool
    min_queries_met: bool
    mlperf_length: bool
    loadgen_summary: str | None = None
    notes: list[str] = field(default_factory=list)


def scenario_name(text: str) -> str:
    """LoadGen's name for a scenario given either its CLI spelling or LoadGen's name."""
    name = SCENARIOS.get(text.lower(), text)
    if name not in (SINGLE_STREAM, OFFLINE):
        raise ValueError(f"unknown scenario {text!r}: use one of {', '.join(SCENARIOS)}")
    return name


def mlperf_minimums(scenario: str) -> ScenarioSettings:
    """MLPerf's minimum run for ResNet-50 in ``scenario`` (LoadGen's name or the CLI spelling):
    SingleStream 600 s and the 64 queries early stopping needs; Offline 600 s and 24,576 samples."""
    name = scenario_name(scenario)
    if name == SINGLE_STREAM:
        return ScenarioSettings(SINGLE_STREAM, MLPERF_MIN_DURATION_S, early_stopping_min_queries())
    return ScenarioSettings(OFFLINE, MLPERF_MIN_DURATION_S, MLPERF_RESNET50_OFFLINE_MIN_SAMPLES)


def _seconds(value: float) -> str:
    """Seconds rounded down, so a run just short of a minimum never reads as reaching it."""
    if value >= 1:
        return f"{math.floor(value * 10) / 10:g} s"
    return f"{math.floor(value * 1000) / 1000:g} s"


def minimum_shortfalls(scenario: str, duration_s: float, count: int, verb: str = "ran") -> list[str]:
    """The MLPerf minimums that ``duration_s`` and ``count`` (queries, or Offline samples) miss,
    one sentence each, starting with ``verb`` ("ran", or "asks for" for settings)."""
    minimum = mlperf_minimums(scenario)
    missing = []
    if duration_s < minimum.min_duration_s:
        missing.append(
            f"{verb} {_seconds(duration_s)}, MLPerf requires at least {minimum.min_duration_s:g} s"
        )
    if count < minimum.min_query_count:
        if minimum.scenario == SINGLE_STREAM:
            missing.append(
                f"{verb} {count:,} queries, MLPerf's early-stopping estimate of the 90th percentile "
                f"needs at least {minimum.min_query_count:,}"
            )
        else:
            missing.append(
                f"{verb} {count:,} samples, MLPerf requires at least {minimum.min_query_count:,} "
                "for ResNet-50 Offline"
            )
    return missing


def shortfalls(settings_or_run: ScenarioSettings | ScenarioRun) -> list[str]:
    """Plain sentences naming each MLPerf minimum not met, e.g. "ran 2.1 s, MLPerf requires at
    least 600 s"; an empty list means MLPerf-length. Settings are judged on what they ask for,
    a run on what it did."""
    if isinstance(settings_or_run, ScenarioSettings):
        settings = settings_or_run
        return minimum_shortfalls(
            settings.scenario, settings.min_duration_s, settings.min_query_count, "asks for"
        )
    run = settings_or_run
    count = run.queries if run.scenario == SINGLE_STREAM else run.samples
    return minimum_shortfalls(run.scenario, run.duration_s, count)
