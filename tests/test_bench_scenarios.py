"""The scenarios (SingleStream, Offline) under both drivers, with a fake model call whose latency
is known, and the early-stopping port against numbers from LoadGen's own code.

The ``loadgen`` cases skip where ``mlperf_loadgen`` cannot be imported (no aarch64 wheel).
"""

from __future__ import annotations

import json
import random
import time
from dataclasses import asdict

import pytest

from harness.bench.scenarios import (
    OFFLINE,
    SCENARIOS,
    SINGLE_STREAM,
    ScenarioRun,
    ScenarioSettings,
    early_stopping_estimate,
    loadgen_driver,
    loadgen_percentile,
    loadgen_version,
    mlperf_minimums,
    run_scenario,
    runner,
    shortfalls,
)
from harness.bench.scenarios import early_stopping as es
from harness.errors import UserError


@pytest.fixture(params=["python", "loadgen"])
def driver(request) -> str:
    if request.param == "loadgen":
        pytest.importorskip("mlperf_loadgen")
    return request.param


def sleeper(seconds: float):
    def call() -> None:
        time.sleep(seconds)

    return call


# --- SingleStream stops on the later of the two minimums ---------------------------------------


def test_single_stream_count_bound_stops_at_the_query_count(driver):
    run = run_scenario(ScenarioSettings(SINGLE_STREAM, 0.001, 200), sleeper(0.0005), driver=driver)
    assert run.queries >= 200
    if driver == "python":
        assert run.queries == 200
    assert run.samples == run.queries == len(run.latencies_s)
    assert min(run.latencies_s) >= 0.0005
    assert run.duration_s < 2.0  # 200 x ~0.6 ms: nowhere near a duration-bound run
    assert run.min_duration_met and run.min_queries_met
    assert run.p50_s <= run.p90_s <= run.early_stopping_p90_s  # 200 queries: an estimate exists
    assert run.throughput_sps == pytest.approx(run.queries / run.duration_s, rel=0.1)


def test_single_stream_duration_bound_runs_past_the_query_count(driver):
    run = run_scenario(ScenarioSettings(SINGLE_STREAM, 0.5, 5), sleeper(0.0005), driver=driver)
    assert run.duration_s >= 0.5
    assert run.duration_s < 1.5  # it stops once the minimum duration is reached
    assert run.queries > 5
    assert run.min_duration_met and run.min_queries_met


def test_single_stream_below_early_stopping_minimum_has_no_estimate(driver):
    run = run_scenario(ScenarioSettings(SINGLE_STREAM, 0.0, 20), sleeper(0.0002), driver=driver)
    assert run.queries >= 20
    if run.queries < 64:
        assert run.early_stopping_p90_s is None
    assert run.p90_s is not None


# --- The early-stopping port --------------------------------------------------------------------


def test_estimate_of_equal_latencies_is_that_latency():
    assert early_stopping_estimate([0.004] * 500) == 0.004


def test_too_few_queries_give_no_estimate_like_loadgen():
    # LoadGen: "Only processed 63 queries. Need to process at least 64 queries for early stopping."
    assert es.min_queries() == 64
    assert early_stopping_estimate([0.001] * 63) is None
    assert early_stopping_estimate([]) is None


def test_at_the_minimum_the_estimate_is_the_highest_latency():
    latencies = [i / 1000 for i in range(64)]
    random.Random(1).shuffle(latencies)
    assert early_stopping_estimate(latencies) == max(latencies)


def test_200_queries_discard_9_like_loadgens_own_summary():
    # A LoadGen 6.0.17 SingleStream run of 200 queries printed "Would discard 9 highest latency
    # queries": its estimate is the 10th highest, sorted[190].
    latencies = list(range(200))
    random.Random(2).shuffle(latencies)
    assert es.discard_count(200) == 10
    assert early_stopping_estimate(latencies) == 190


@pytest.mark.parametrize(
    ("queries", "discard", "percentile"),
    # From LoadGen's early_stopping.cc compiled from source and run as results.cc runs it.
    [
        (63, None, 0.9),
        (64, 1, 0.9),
        (100, 3, 0.9),
        (1000, 78, 0.9),
        (3000, 261, 0.9),
        (10000, 930, 0.9),
        (81635, 7964, 0.9),
        (1000000, 99302, 0.9),
        (661, None, 0.99),
        (662, 1, 0.99),
        (10000, 77, 0.99),
    ],
)
def test_discard_count_matches_loadgens_compiled_code(queries, discard, percentile):
    assert es.discard_count(queries, percentile) == discard


def test_fast_search_equals_the_line_by_line_port_of_loadgens_search():
    for percentile, last in ((0.9, 1000), (0.99, 200)):
        finder = es.LoadGenMinPassingFinder()
        for t in range(1, last + 1):  # in order, as results.cc asks, so its window applies
            assert finder(t, percentile, 0.0, 0.99) == es.min_passing_queries(t, percentile), (percentile, t)


def test_loadgen_window_case_where_cpython_lgamma_differs():
    # odds(868100, 8550) at p99 is within 1e-11 of 1 - c: CPython's own lgamma said 868101,
    # the C library's lgamma (which LoadGen calls) gives LoadGen's 868100.
    assert es.min_passing_queries(8550, 0.99) == 868100


def test_estimate_is_never_below_the_plain_p90():
    rng = random.Random(3)
    for _ in range(30):
        latencies = [rng.lognormvariate(0, 0.5) for _ in range(rng.randint(64, 5000))]
        assert early_stopping_estimate(latencies) >= loadgen_percentile(latencies, 0.9)


def test_percentile_uses_loadgens_index_rule():
    assert loadgen_percentile(list(range(10)), 0.9) == 9  # sorted[int(10 * 0.9)], no interpolation
    assert loadgen_percentile(list(range(200)), 0.9) == 180
    assert loadgen_percentile(list(range(2)), 0.5) == 1
    assert loadgen_percentile([], 0.9) is None


def test_port_agrees_with_loadgens_summary_on_the_same_run():
    """What is verified: LoadGen's rank (its "Would discard N" line) equals the port's for the
    queries LoadGen ran, and LoadGen's estimate and p90 equal the port's on the latencies timed in
    the SUT callback, up to LoadGen's own overhead per query. Latencies sit on levels 0.25 ms
    apart, far wider than that overhead, so a wrong rank would show as a whole level."""
    pytest.importorskip("mlperf_loadgen")
    levels = [0.0002 + 0.00025 * k for k in range(20)]
    counter = iter(range(10**9))

    def call() -> None:
        time.sleep(levels[next(counter) * 7 % 20])

    run = run_scenario(ScenarioSettings(SINGLE_STREAM, 0.0, 300), call, driver="loadgen")
    summary = loadgen_driver.parse_summary(run.loadgen_summary)
    assert summary.discarded == es.discard_count(run.queries) - 1
    overhead = 0.0005  # the Python callback and LoadGen's bookkeeping around each call
    assert 0 <= run.early_stopping_p90_s - early_stopping_estimate(run.latencies_s) < overhead
    assert 0 <= run.p90_s - loadgen_percentile(run.latencies_s, 0.9) < overhead


# --- Offline ------------------------------------------------------------------------------------


def test_offline_runs_whole_batches_for_the_minimum_duration(driver):
    run = run_scenario(ScenarioSettings(OFFLINE, 0.3, 64, batch=8), sleeper(0.001), driver=driver)
    assert run.queries == 1
    assert run.samples >= 64 and run.samples % 8 == 0
    assert len(run.latencies_s) * 8 == run.samples
    assert run.duration_s >= 0.3 and run.min_duration_met and run.min_queries_met
    assert run.throughput_sps == pytest.approx(run.samples / run.duration_s, rel=0.03)
    assert run.early_stopping_p90_s is None
    assert run.p50_s <= run.p90_s


def test_offline_count_bound_issues_the_sample_count(driver):
    run = run_scenario(ScenarioSettings(OFFLINE, 0.0, 400, batch=16), sleeper(0.0002), driver=driver)
    assert 400 <= run.samples < 400 + 16
    assert run.throughput_sps == pytest.approx(run.samples / run.duration_s, rel=0.03)


@pytest.mark.parametrize(
    "settings", [ScenarioSettings(SINGLE_STREAM, 0.5, 5), ScenarioSettings(OFFLINE, 0.5, 8, batch=4)]
)
def test_loadgen_reruns_once_when_the_probe_was_too_slow(settings):
    """The probe's calls take 20 ms, the run's 0.5 ms: LoadGen's first run runs out of generated
    queries (SingleStream) or samples (Offline) before 0.5 s and is judged short; the rerun at
    the rate of its calls meets the minimum, and the notes say what happened."""
    pytest.importorskip("mlperf_loadgen")
    counter = iter(range(10**9))

    def call() -> None:
        time.sleep(0.02 if next(counter) < 3 else 0.0005)

    run = run_scenario(settings, call, driver="loadgen")
    assert run.min_duration_met and run.duration_s >= 0.5
    assert len(run.notes) == 1 and "second run" in run.notes[0]
    assert "Min duration satisfied : Yes" in run.loadgen_summary


def test_offline_sample_count_is_loadgens_rounded_up_to_a_batch():
    settings = ScenarioSettings(OFFLINE, 2.0, 100, batch=32)
    assert loadgen_driver.offline_sample_count(settings, 1000.0) == 2208  # 1.1 x 2 s x 1000/s = 2200
    assert loadgen_driver.offline_sample_count(ScenarioSettings(OFFLINE, 0.0, 100, batch=32), 1e6) == 128


# --- MLPerf's minimums and shortfalls -----------------------------------------------------------


def test_mlperf_minimums():
    assert mlperf_minimums(SINGLE_STREAM) == ScenarioSettings(SINGLE_STREAM, 600.0, 64)
    assert mlperf_minimums("offline") == ScenarioSettings(OFFLINE, 600.0, 24_576)
    assert SCENARIOS == {"singlestream": SINGLE_STREAM, "offline": OFFLINE}


def hand_run(scenario: str, duration_s: float, count: int) -> ScenarioRun:
    return ScenarioRun(
        scenario=scenario,
        driver="python (LoadGen's rules)",
        settings=asdict(mlperf_minimums(scenario)),
        queries=count if scenario == SINGLE_STREAM else 1,
        samples=count,
        batch=1,
        duration_s=duration_s,
        latencies_s=[],
        p50_s=None,
        p90_s=None,
        early_stopping_p90_s=None,
        throughput_sps=count / duration_s,
        min_duration_met=True,
        min_queries_met=True,
        mlperf_length=True,
    )


def test_shortfalls_name_each_minimum_missed():
    assert shortfalls(hand_run(SINGLE_STREAM, 2.14, 3000)) == ["ran 2.1 s, MLPerf requires at least 600 s"]
    assert shortfalls(ScenarioSettings(SINGLE_STREAM, 2.0, 100)) == [
        "asks for 2 s, MLPerf requires at least 600 s"
    ]
    offline = shortfalls(hand_run(OFFLINE, 1.0, 1000))
    assert len(offline) == 2 and "24,576" in offline[1]
    assert "599.9 s" in shortfalls(hand_run(OFFLINE, 599.99, 30_000))[0]  # never rounds up to 600
    assert "64" in shortfalls(hand_run(SINGLE_STREAM, 700.0, 50))[0]


def test_a_run_meeting_every_minimum_has_no_shortfall():
    assert shortfalls(hand_run(SINGLE_STREAM, 600.2, 900_000)) == []
    assert shortfalls(hand_run(OFFLINE, 650.0, 24_576)) == []
    assert shortfalls(mlperf_minimums(OFFLINE)) == []


def test_a_short_run_says_it_is_not_mlperf_length(driver):
    run = run_scenario(ScenarioSettings(SINGLE_STREAM, 0.0, 10), sleeper(0.0001), driver=driver)
    assert not run.mlperf_length
    assert any("600 s" in line for line in shortfalls(run))


# --- The record, the drivers, LoadGen's files ---------------------------------------------------


def test_run_round_trips_through_json(driver):
    run = run_scenario(ScenarioSettings(OFFLINE, 0.0, 32, batch=8), sleeper(0.0001), driver=driver)
    assert ScenarioRun(**json.loads(json.dumps(asdict(run)))) == run


def test_settings_reject_a_batched_single_stream():
    with pytest.raises(ValueError):
        ScenarioSettings(SINGLE_STREAM, 1.0, 10, batch=4)
    with pytest.raises(ValueError):
        ScenarioSettings("Server", 1.0, 10)


def test_driver_choice_and_labels(monkeypatch):
    with pytest.raises(ValueError):
        run_scenario(ScenarioSettings(SINGLE_STREAM, 0.0, 1), sleeper(0), driver="fast")
    python_run = run_scenario(ScenarioSettings(SINGLE_STREAM, 0.0, 1), sleeper(0), driver="python")
    assert python_run.driver == "python (LoadGen's rules)" and python_run.loadgen_summary is None

    monkeypatch.setattr(runner, "loadgen_import_problem", lambda: "no wheel for this platform")
    fallback = run_scenario(ScenarioSettings(SINGLE_STREAM, 0.0, 1), sleeper(0))
    assert fallback.driver == (
        "python (LoadGen's rules; mlperf_loadgen not importable here: no wheel for this platform)"
    )
    with pytest.raises(UserError, match="no wheel for this platform"):
        run_scenario(ScenarioSettings(SINGLE_STREAM, 0.0, 1), sleeper(0), driver="loadgen")


def test_auto_uses_loadgen_where_it_imports():
    pytest.importorskip("mlperf_loadgen")
    run = run_scenario(ScenarioSettings(SINGLE_STREAM, 0.0, 5), sleeper(0))
    assert run.driver == f"loadgen {loadgen_version()}"
    assert run.loadgen_summary.startswith("=" * 48 + "\nMLPerf Results Summary")
    assert "Scenario : SingleStream" in run.loadgen_summary


def test_loadgen_writes_nothing_in_the_cwd_and_ignores_an_audit_config_there(tmp_path, monkeypatch):
    pytest.importorskip("mlperf_loadgen")
    monkeypatch.chdir(tmp_path)
    (tmp_path / "audit.config").write_text("*.SingleStream.min_query_count = 5000\n")
    run = run_scenario(ScenarioSettings(SINGLE_STREAM, 0.0, 50), sleeper(0), driver="loadgen")
    assert run.queries == 50
    assert [path.name for path in tmp_path.iterdir()] == ["audit.config"]


def test_an_error_in_the_call_is_raised_after_the_run(driver):
    calls = iter(range(10**6))

    def failing() -> None:
        # The LoadGen driver's probe takes 0.05 s, 5 of these calls: call 30 is inside LoadGen.
        if next(calls) == 30:
            raise RuntimeError("model failed")
        time.sleep(0.01)

    with pytest.raises(RuntimeError, match="model failed"):
        run_scenario(ScenarioSettings(SINGLE_STREAM, 0.0, 50), failing, driver=driver)
    # LoadGen is left usable: a second run in the same process works.
    assert run_scenario(ScenarioSettings(SINGLE_STREAM, 0.0, 5), sleeper(0), driver=driver).queries >= 5
