"""The scenarios in plain Python, for where LoadGen cannot be imported (no aarch64 wheel on PyPI).

The loops apply LoadGen's stopping rules (``loadgen/issue_query_controller.cc``) and compute its
statistics the way ``loadgen/results.cc`` does, so a run here and a LoadGen run of the same settings
are alike; the timed region is the call and two clock reads.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import asdict

from harness.bench.scenarios.early_stopping import early_stopping_estimate, loadgen_percentile
from harness.bench.scenarios.rules import ScenarioRun, ScenarioSettings, minimum_shortfalls


def _call_until(
    call: Callable[[], None], enough: Callable[[int, float, float], bool]
) -> tuple[list[float], float]:
    """Time back-to-back calls until ``enough(calls, issued, done)`` (seconds since the start);
    returns every call's latency and the run's duration (start to the last completion)."""
    clock = time.perf_counter
    latencies: list[float] = []
    start = clock()
    while True:
        issued = clock()
        call()
        done = clock()
        latencies.append(done - issued)
        if enough(len(latencies), issued - start, done - start):
            return latencies, done - start


def run_single_stream(settings: ScenarioSettings, call: Callable[[], None], driver: str) -> ScenarioRun:
    """Batch-1 queries back to back until both minimums are met, LoadGen's way: it stops after
    the first query that brings the count to ``min_query_count`` and was issued at least
    ``min_duration_s`` after the first (its duration is the last issue time, not the last end)."""
    latencies, duration = _call_until(
        call,
        lambda calls, issued, _done: calls >= settings.min_query_count and issued >= settings.min_duration_s,
    )
    queries = len(latencies)
    return ScenarioRun(
        scenario=settings.scenario,
        driver=driver,
        settings=asdict(settings),
        queries=queries,
        samples=queries,
        batch=1,
        duration_s=duration,
        latencies_s=latencies,
        p50_s=loadgen_percentile(latencies, 0.5),
        p90_s=loadgen_percentile(latencies, 0.9),
        early_stopping_p90_s=early_stopping_estimate(latencies),
        throughput_sps=queries / duration,
        min_duration_met=True,  # by the loop's own condition
        min_queries_met=True,
        mlperf_length=not minimum_shortfalls(settings.scenario, duration, queries),
    )


def run_offline(settings: ScenarioSettings, call: Callable[[], None], driver: str) -> ScenarioRun:
    """Every sample at once, processed in calls of ``batch`` samples, until the samples reach
    ``min_query_count`` and the last completion is ``min_duration_s`` after the start.

    LoadGen fixes the Offline sample count before the run (1.1 x min duration x expected rate)
    and calls a run that finishes early too short; here the calls simply go on until both
    minimums are met, which is the outcome LoadGen's count aims at. Every call is a whole batch.
    """
    latencies, duration = _call_until(
        call,
        lambda calls, _issued, done: calls * settings.batch >= settings.min_query_count
        and done >= settings.min_duration_s,
    )
    samples = len(latencies) * settings.batch
    return ScenarioRun(
        scenario=settings.scenario,
        driver=driver,
        settings=asdict(settings),
        queries=1,
        samples=samples,
        batch=settings.batch,
        duration_s=duration,
        latencies_s=latencies,
        p50_s=loadgen_percentile(latencies, 0.5),
        p90_s=loadgen_percentile(latencies, 0.9),
        early_stopping_p90_s=None,
        throughput_sps=samples / duration,
        min_duration_met=True,
        min_queries_met=True,
        mlperf_length=not minimum_shortfalls(settings.scenario, duration, samples),
    )
