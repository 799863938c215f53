"""The scenarios driven by MLPerf LoadGen (``mlperf_loadgen``, mlcommons-loadgen 6.0.17).

LoadGen owns the timing and the rules: it issues the queries, decides when the run ends and
writes its summary, which is kept verbatim. The SUT callback here runs the caller's ``call`` (its
input is prepared already, so the QSL's sample indices are labels and load/unload do nothing)
and times it, for ``latencies_s``; every other number comes from LoadGen's summary.

How LoadGen would otherwise make a run differ from what was asked (read in its source):
- Both scenarios pre-generate their queries from an expected rate (test_settings_internal.cc,
  loadgen.cc ``GenerateQueries``). SingleStream generates ``2 x min duration / expected latency``
  queries (at least ``min_query_count``); a SUT over twice as fast as expected runs out of them
  and LoadGen ends the run short ("Min duration satisfied : NO"). Each generated query holds about
  460 bytes: 600 s at 0.65 ms expected is 1.8 million queries, some 850 MB in this process;
  here never more than ``MAX_GENERATED_QUERIES``.
- Offline issues one query of ``max(min_query_count, 1.1 x min duration x offline_expected_qps)``
  samples and never adds more: a SUT faster than expected finishes early, the run is too short.
  Too high an expected rate makes the run longer than asked, never shorter: with the fastest
  probe call as the rate, a run lasts about 1.1 x min duration x (typical call / fastest call).
- Both minimums are always set from the settings: LoadGen's defaults (10 s, 100 queries) would
  otherwise apply, and an ``audit.config`` in the working directory would override everything,
  so LoadGen is pointed at one in an empty temporary directory.
The expected rate comes from a short probe of ``call``; when LoadGen still judges the run short
of its minimum duration, it runs once more at the rate of the first run's calls, and says so in
the run's notes (the run then takes the time of both).
"""

from __future__ import annotations

import importlib
import math
import re
import statistics
import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

from harness.bench.scenarios.early_stopping import loadgen_percentile
from harness.bench.scenarios.rules import OFFLINE, ScenarioRun, ScenarioSettings, minimum_shortfalls

DUMMY_SAMPLES = 16  # the QSL's size: indices only, the caller's input is prepared already
OFFLINE_SLACK = 1.1  # test_settings_internal.cc ``kSlack``: Offline's sample count margin
PROBE_MIN_CALLS = 3
PROBE_MIN_S = 0.05
# SingleStream's pre-generated queries hold ~460 bytes each: 2 million is ~0.9 GB. It binds only
# under 0.6 ms a query at 600 s; below 0.3 ms LoadGen would run out of queries and end short.
MAX_GENERATED_QUERIES = 2_000_000
MIN_PROBE_CALL_S = 1e-6  # a call timed at 0 s (a fake one) must not divide by zero


@dataclass(frozen=True)
class LoadGenSummary:
    """The numbers read from LoadGen's ``mlperf_log_summary.txt`` (None where it has none)."""

    valid: bool  # "Result is : VALID"
    min_duration_met: bool
    min_queries_met: bool
    early_stopping_met: bool
    p50_ns: int | None  # "50.00 percentile latency (ns)"
    p90_ns: int | None  # "90.00 percentile latency (ns)" (SingleStream: also "90.0th percentile ...")
    early_stopping_p90_ns: int | None  # "Early stopping 90.0th percentile estimate: N"
    discarded: int | None  # "Would discard N highest latency queries."
    samples_per_second: float | None  # Offline "Samples per second: X"
    qps_with_overhead: float | None  # SingleStream "QPS w/ loadgen overhead : X"


def _find(pattern: str, text: str) -> str | None:
    match = re.search(pattern, text, re.MULTILINE)
    return match.group(1) if match else None


def _number(pattern: str, text: str, kind: type = int) -> int | float | None:
    found = _find(pattern, text)
    return None if found is None else kind(found)


def _yes(label: str, text: str) -> bool:
    found = _find(rf"^\s*{label}\s*:\s*(Yes|NO)\s*$", text)
    if found is None:
        raise RuntimeError(f"LoadGen's summary has no {label!r} line:\n{text}")
    return found == "Yes"


def parse_summary(text: str) -> LoadGenSummary:
    """Read LoadGen's summary text (results.cc ``PerformanceSummary::LogSummary``)."""
    result = _find(r"^Result is : (\w+)", text)
    if result is None:
        raise RuntimeError(f"LoadGen's summary has no 'Result is' line:\n{text}")
    return LoadGenSummary(
        valid=result == "VALID",
        min_duration_met=_yes("Min duration satisfied", text),
        min_queries_met=_yes("Min queries satisfied", text),
        early_stopping_met=_yes("Early stopping satisfied", text),
        p50_ns=_number(r"^50\.00 percentile latency \(ns\)\s*: (\d+)", text),
        p90_ns=_number(r"^90\.00 percentile latency \(ns\)\s*: (\d+)", text),
        early_stopping_p90_ns=_number(r"Early stopping 90\.0th percentile estimate: (\d+)", text),
        discarded=_number(r"Would discard (\d+) highest latency queries", text),
        samples_per_second=_number(r"^Samples per second\s*: (\S+)", text, float),
        qps_with_overhead=_number(r"^QPS w/ loadgen overhead\s*: (\S+)", text, float),
    )


def _probe(call: Callable[[], None]) -> list[float]:
    """A few untimed-by-LoadGen calls, to set LoadGen's expected rate (they also warm up)."""
    clock = time.perf_counter
    seconds: list[float] = []
    start = clock()
    while len(seconds) < PROBE_MIN_CALLS or clock() - start < PROBE_MIN_S:
        issued = clock()
        call()
        seconds.append(clock() - issued)
    return seconds


def _expected_rate(settings: ScenarioSettings, probe: list[float]) -> float:
    """LoadGen's expected rate from the probe. Offline: samples/s of the fastest call, since too
    high a rate only lengthens the run. SingleStream: queries/s of the median call; LoadGen
    generates twice the queries that rate needs, and its own overhead per query adds margin."""
    if settings.scenario == OFFLINE:
        return settings.batch / max(min(probe), MIN_PROBE_CALL_S)
    return 1 / max(statistics.median(probe), MIN_PROBE_CALL_S)


def _milliseconds(seconds: float) -> int:
    """LoadGen counts durations in whole ms; round up so a run is never shorter than asked."""
    return math.ceil(round(seconds * 1000, 6))


class _Sut:
    """The SUT callback: runs ``call`` per chunk of ``batch`` samples, times it, completes the
    chunk. An exception must not cross into LoadGen's C++ thread: the first one is kept, every
    later sample is completed without a call, and ``run`` raises it once LoadGen returns.

    A "fast" SUT (``ConstructFastSUT``: the query's ids as plain ints) with response objects
    reused across chunks: 1.4 us of bookkeeping per sample against 3.5 us with a new
    ``QuerySample`` and ``QuerySampleResponse`` per sample (measured, 2 million Offline samples).
    """

    def __init__(self, lg, call: Callable[[], None], batch: int) -> None:
        self.lg, self.call, self.batch = lg, call, batch
        self.responses = [lg.QuerySampleResponse(0, 0, 0) for _ in range(batch)]
        self.latencies: list[float] = []
        self.samples = 0
        self.first_issue: float | None = None
        self.last_done = 0.0
        self.error: BaseException | None = None

    def issue(self, response_ids: list[int], sample_indices: list[int]) -> None:
        clock = time.perf_counter
        if self.first_issue is None:
            self.first_issue = clock()
        for first in range(0, len(response_ids), self.batch):
            chunk = response_ids[first : first + self.batch]
            if self.error is None:
                try:
                    issued = clock()
                    self.call()
                    self.latencies.append(clock() - issued)
                except BaseException as error:  # re-raised once LoadGen returns
                    self.error = error
            responses = self.responses[: len(chunk)]
            for response, response_id in zip(responses, chunk, strict=True):
                response.id = response_id
            self.lg.QuerySamplesComplete(responses)  # copied into a C++ vector: reuse is safe
            self.samples += len(chunk)
        self.last_done = clock()


def _start_test(lg, test_settings, sut: _Sut) -> str:
    """Run LoadGen once, logs in a temporary directory; its summary text."""
    handle = lg.ConstructFastSUT(sut.issue, lambda: None)
    library = lg.ConstructQSL(DUMMY_SAMPLES, DUMMY_SAMPLES, lambda indices: None, lambda indices: None)
    try:
        with tempfile.TemporaryDirectory(prefix="quantbench-loadgen-") as logs:
            log_settings = lg.LogSettings()
            log_settings.log_output.outdir = logs
            log_settings.enable_trace = False  # one event per query: large, and unused
            no_audit = str(Path(logs) / "audit.config")  # never created: no override
            lg.StartTestWithLogSettings(handle, library, test_settings, log_settings, no_audit)
            summary = (Path(logs) / "mlperf_log_summary.txt").read_text()
    finally:
        lg.DestroyQSL(library)
        lg.DestroyFastSUT(handle)
    if sut.error is not None:
        raise sut.error
    return summary


def _test_settings(lg, settings: ScenarioSettings, rate: float, samples: int):
    """LoadGen's TestSettings; ``rate`` is queries (SingleStream) or samples (Offline) per second."""
    test_settings = lg.TestSettings()
    test_settings.mode = lg.TestMode.PerformanceOnly
    test_settings.min_duration_ms = _milliseconds(settings.min_duration_s)
    test_settings.min_query_count = samples
    if settings.scenario == OFFLINE:
        test_settings.scenario = lg.TestScenario.Offline
        test_settings.offline_expected_qps = rate
    else:
        test_settings.scenario = lg.TestScenario.SingleStream
        # Never more than MAX_GENERATED_QUERIES queries (2 x min duration / expected latency).
        floor_ns = 2 * test_settings.min_duration_ms * 1e6 / MAX_GENERATED_QUERIES
        test_settings.single_stream_expected_latency_ns = max(1e9 / rate, floor_ns)
    return test_settings


def offline_sample_count(settings: ScenarioSettings, samples_per_second: float) -> int:
    """The Offline query's size, whole batches: what LoadGen itself would issue for this
    expected rate (``max(min_query_count, 1.1 x min duration x rate)``), rounded up to a batch."""
    seconds = _milliseconds(settings.min_duration_s) / 1000
    count = max(settings.min_query_count, math.ceil(OFFLINE_SLACK * seconds * samples_per_second))
    return -(-count // settings.batch) * settings.batch


def run(settings: ScenarioSettings, call: Callable[[], None], driver: str) -> ScenarioRun:
    """One scenario run under LoadGen (see the module docstring for how it is set up)."""
    lg = importlib.import_module("mlperf_loadgen")
    rate = _expected_rate(settings, _probe(call))
    notes: list[str] = []
    for attempt in (1, 2):
        samples = settings.min_query_count
        if settings.scenario == OFFLINE:
            samples = offline_sample_count(settings, rate)
        sut = _Sut(lg, call, settings.batch)
        text = _start_test(lg, _test_settings(lg, settings, rate, samples), sut)
        summary = parse_summary(text)
        if summary.min_duration_met or attempt == 2:
            break
        # The first run's own calls, read as the probe is: its overall rate would understate a
        # short run's steady state (measured: 5379 samples/s against 6637 in the rerun).
        measured = _expected_rate(settings, sut.latencies)
        notes.append(
            f"LoadGen ended its first run short of the minimum duration (expected {rate:.4g} "
            f"{'samples' if settings.scenario == OFFLINE else 'queries'}/s from a probe, its calls "
            f"gave {measured:.4g}); this is its second run, at that rate."
        )
        rate = measured
    if not summary.min_duration_met:
        notes.append("LoadGen judged this run shorter than its minimum duration (Result is INVALID).")
    return _scenario_run(settings, driver, sut, summary, text, notes)


def _scenario_run(
    settings: ScenarioSettings, driver: str, sut: _Sut, summary: LoadGenSummary, text: str, notes: list[str]
) -> ScenarioRun:
    duration = sut.last_done - (sut.first_issue or 0.0)  # as the Python driver times it
    if settings.scenario == OFFLINE:
        throughput = summary.samples_per_second or sut.samples / duration
        p50, p90 = loadgen_percentile(sut.latencies, 0.5), loadgen_percentile(sut.latencies, 0.9)
        early_stopping = None
        queries, count = 1, sut.samples
        min_queries_met = summary.min_queries_met and sut.samples >= settings.min_query_count
    else:
        throughput = summary.qps_with_overhead or 0.0
        if not math.isfinite(throughput) or throughput <= 0:  # (n - 1) / 0 s for a 1-query run
            throughput = sut.samples / duration
        p50 = None if summary.p50_ns is None else summary.p50_ns / 1e9
        p90 = None if summary.p90_ns is None else summary.p90_ns / 1e9
        es_ns = summary.early_stopping_p90_ns
        early_stopping = None if es_ns is None else es_ns / 1e9
        queries = count = sut.samples
        min_queries_met = summary.min_queries_met
    return ScenarioRun(
        scenario=settings.scenario,
        driver=driver,
        settings=asdict(settings),
        queries=queries,
        samples=sut.samples,
        batch=settings.batch,
        duration_s=duration,
        latencies_s=sut.latencies,
        p50_s=p50,
        p90_s=p90,
        early_stopping_p90_s=early_stopping,
        throughput_sps=throughput,
        min_duration_met=summary.min_duration_met,
        min_queries_met=min_queries_met,
        mlperf_length=not minimum_shortfalls(settings.scenario, duration, count),
        loadgen_summary=text,
        notes=notes,
    )
