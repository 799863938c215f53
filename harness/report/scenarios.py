"""MLPerf-style scenario results: one row per variant and scenario, and the int8-vs-float32 verdict.

A scenario result (``Result.scenario`` set) holds one LoadGen-style run per process round
(``scenario_runs``). Its figure is LoadGen's metric: SingleStream's 90th-percentile latency,
Offline's samples per second (at the batch that gives the most). The verdict pairs rounds as
every speed-up does (``harness.intervals``): per round, float p90 / int8 p90 (SingleStream) or
int8 / float samples per second (Offline), a t-interval on their logs. No result is called
MLPerf-valid: a run shorter than MLPerf's minimums says so, and even a run of MLPerf's length
here meets only the duration and count rules, not the rest of MLPerf's (accuracy runs, audit).
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import dataclass, field

from harness.intervals import log_t_interval
from harness.report import fmt
from harness.report.stats import PAIRED, RatioInterval
from harness.report.verdicts import speed_claim
from harness.runtime_registry import variant_specs
from harness.schema import SEED_INPUT_SIZE, STATUS_OK, Result

SINGLE_STREAM = "SingleStream"  # LoadGen's names, as the results carry them
OFFLINE = "Offline"
METRICS = {SINGLE_STREAM: "90th-percentile latency", OFFLINE: "samples per second"}
MLPERF_NOTE = (
    "Scenarios use MLPerf LoadGen's names and rules for when a run may stop; none of these results "
    "is MLPerf-valid or comparable with published MLPerf results (MLPerf also requires its full "
    "minimums, an accuracy run and an audit)."
)


@dataclass
class ScenarioRow:
    """One variant in one scenario on one machine: LoadGen's metric per round, and its summary."""

    machine: str
    emulated: bool | None
    scenario: str
    variant: str
    baseline_variant: str
    threads: int
    batch: int  # Offline: the batch with the most samples per second; SingleStream: 1
    driver: str
    rounds: int
    per_round: dict[int, float]  # process round -> p90 seconds (SingleStream) or samples/s
    p90_s: float | None = None  # median over rounds
    early_stopping_p90_s: float | None = None
    throughput_sps: float | None = None
    duration_s: float = 0.0  # of the shortest run
    shortfalls: list[str] = field(default_factory=list)  # MLPerf minimums the shortest run missed
    speedup: RatioInterval | None = None  # vs baseline_variant, paired on rounds
    input_size: int = SEED_INPUT_SIZE
    shape_named: bool = False  # the report names input shapes (fmt.shapes_named)


@dataclass
class ScenarioVerdict:
    machine: str
    scenario: str
    text: str
    speedup: RatioInterval | None


def scenario_results(results: Sequence[Result]) -> list[Result]:
    return [r for r in results if r.scenario and r.status == STATUS_OK and r.scenario_runs]


def build_scenario_rows(results: Sequence[Result], shapes_named: bool | None = None) -> list[ScenarioRow]:
    """Rows for every ok scenario result; Offline keeps each variant's best batch at each input
    shape. ``shapes_named`` (default: whether any result is off the seed's shape) names them."""
    if shapes_named is None:
        shapes_named = fmt.shapes_named(result.input_size for result in results)
    rows: dict[tuple, ScenarioRow] = {}
    for result in scenario_results(results):
        row = _row(result)
        row.shape_named = shapes_named
        key = (row.machine, row.scenario, row.variant, row.input_size, row.threads)
        best = rows.get(key)
        if best is None or (row.throughput_sps or 0) > (best.throughput_sps or 0):
            rows[key] = row
    ordered = sorted(
        rows.values(), key=lambda r: (r.emulated is not False, r.machine, r.scenario, r.input_size, r.variant)
    )
    by_key = {(r.machine, r.scenario, r.variant, r.input_size, r.threads): r for r in ordered}
    for row in ordered:
        baseline = by_key.get((row.machine, row.scenario, row.baseline_variant, row.input_size, row.threads))
        if baseline is not None and baseline is not row:
            row.speedup = scenario_speedup(baseline, row)
    return ordered


def scenario_speedup(baseline: ScenarioRow, row: ScenarioRow) -> RatioInterval | None:
    """row's advantage over baseline in LoadGen's metric, paired on the rounds both ran."""
    common = sorted(set(baseline.per_round) & set(row.per_round))
    if row.scenario == SINGLE_STREAM:  # latency: smaller is better
        ratios = [baseline.per_round[k] / row.per_round[k] for k in common if row.per_round[k] > 0]
    else:  # throughput: larger is better
        ratios = [row.per_round[k] / baseline.per_round[k] for k in common if baseline.per_round[k] > 0]
    interval = log_t_interval(ratios)
    if interval is None:
        return None
    return RatioInterval(interval.ratio, interval.low, interval.high, method=PAIRED, rounds=interval.rounds)


def build_scenario_verdicts(rows: Sequence[ScenarioRow]) -> list[ScenarioVerdict]:
    """Per machine, scenario and runtime: its verdict int8 variant vs its float32."""
    verdicts = []
    verdict_variants = variant_specs()
    for row in rows:
        spec = verdict_variants.get(row.variant)
        if spec is None or not spec[1].verdict_name or row.speedup is None:
            continue
        runtime, variant = spec
        shape = f"{fmt.shape(row.input_size)}, " if row.shape_named else ""
        where = f"{row.machine}, {shape}{row.scenario} ({METRICS[row.scenario]}), {row.threads} threads"
        if row.emulated is not False:
            text = f"{where}: no speed verdict: emulated timings measure QEMU"
        elif not row.speedup.has_interval:
            text = f"{where}: no verdict, one round ({fmt.ratio(row.speedup)})"
        else:
            claim = speed_claim(variant.verdict_name, f"float32 {runtime.label}", row.speedup)
            text = f"{where}: {claim}"
            if row.shortfalls:
                text += f" (runs shorter than MLPerf's minimums: {row.shortfalls[0]})"
        verdicts.append(ScenarioVerdict(row.machine, row.scenario, text, row.speedup))
    return verdicts


def _row(result: Result) -> ScenarioRow:
    runs = result.scenario_runs
    scenario = result.scenario
    per_round = {}
    for run in runs:
        value = run.get("p90_s") if scenario == SINGLE_STREAM else run.get("throughput_sps")
        if value:
            per_round[int(run.get("process", 0))] = float(value)
    shortest = min(runs, key=lambda run: run.get("duration_s", 0.0))
    mode = {True: "emulated", False: "native"}.get(result.emulated, "emulation unknown")
    row = ScenarioRow(
        machine=f"{result.arch} ({mode}) on {result.host}",
        emulated=result.emulated,
        scenario=scenario,
        variant=result.variant,
        baseline_variant=result.baseline_variant,
        threads=result.threads,
        batch=result.batch,
        driver=str(runs[0].get("driver", "")),
        rounds=len(per_round),
        per_round=per_round,
        duration_s=float(shortest.get("duration_s", 0.0)),
        shortfalls=_shortfalls(scenario, shortest),
        input_size=result.input_size,
    )
    row.p90_s = _median([run.get("p90_s") for run in runs])
    row.early_stopping_p90_s = _median([run.get("early_stopping_p90_s") for run in runs])
    row.throughput_sps = _median([run.get("throughput_sps") for run in runs])
    return row


def _shortfalls(scenario: str, run: dict) -> list[str]:
    """MLPerf minimums the run missed, as the bench judged them when it ran."""
    if "mlperf_shortfalls" in run:
        return [str(text) for text in run["mlperf_shortfalls"]]
    return [] if run.get("mlperf_length") else [f"not judged against MLPerf's {scenario} minimums"]


def _median(values: list) -> float | None:
    present = [float(v) for v in values if v is not None]
    return statistics.median(present) if present else None
