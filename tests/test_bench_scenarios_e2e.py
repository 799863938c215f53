"""measure --scenario and measure's added rounds, end to end on the tiny model; their report."""

from __future__ import annotations

import io

import pytest
from rich.console import Console

from harness import schema
from harness.report.document import build_report
from harness.report.load import load_directories
from harness.report.render import render_report
from tests.helpers import assert_clean_user_error, run_cli

PAIR = "tflite-fp32,tflite-int8"


def measure(tiny_artifacts, out, *extra):
    common = ["--artifacts", str(tiny_artifacts), "--threads", "1", "--warmup", "1", "--warmup-seconds", "0"]
    return run_cli("measure", "--max-rounds", "0", *common, "--out", str(out), *extra)


@pytest.fixture(scope="module")
def scenario_results(tiny_artifacts, tmp_path_factory):
    out = tmp_path_factory.mktemp("scenarios")
    for scenario, batches in (("singlestream", "1"), ("offline", "1,4")):
        proc = measure(
            tiny_artifacts, out, "--variants", PAIR, "--scenario", scenario, "--batch", batches,
            "--processes", "3", "--min-duration", "0.3", "--min-queries", "80", "--run-id", "s1",
        )  # fmt: skip
        assert proc.returncode == 0, proc.stderr[-3000:]
    return out


def test_singlestream_and_offline_give_p90_and_throughput_per_variant(scenario_results):
    results = [schema.load_result(p) for p in schema.find_result_files(scenario_results)]
    single = {r.variant: r for r in results if r.scenario == "SingleStream"}
    offline = [r for r in results if r.scenario == "Offline"]
    assert set(single) == {"tflite-fp32", "tflite-int8"}
    assert {(r.variant, r.batch) for r in offline} == {(v, b) for v in single for b in (1, 4)}
    for result in results:
        assert len(result.scenario_runs) == 3  # one run per process round
        for run in result.scenario_runs:
            assert run["min_duration_met"] and run["min_queries_met"] and not run["mlperf_length"]
            assert run["duration_s"] > 0 and run["throughput_sps"] > 0
            if run["driver"].startswith("python"):  # its loop ends only once 0.3 s have passed
                assert run["duration_s"] >= 0.3
            # LoadGen's clock starts before its first issue, so our first-issue-to-last-done time
            # can be a little shorter than the minimum it judged met (min_duration_met, above)
            assert any("MLPerf requires at least 600 s" in text for text in run["mlperf_shortfalls"])
    for result in single.values():
        for run in result.scenario_runs:
            assert run["queries"] >= 80 and run["p90_s"] > 0 and run["early_stopping_p90_s"] >= run["p90_s"]
            try:
                import mlperf_loadgen  # noqa: F401
            except ImportError:
                assert run["driver"].startswith("python (LoadGen's rules")
            else:  # where LoadGen runs, its own summary is kept with the result
                assert run["driver"].startswith("loadgen 6.0.17")
                assert "Scenario : SingleStream" in run["loadgen_summary"]
    for result in offline:
        assert all(run["samples"] >= 80 for run in result.scenario_runs)


def test_the_report_names_scenarios_with_loadgen_names_and_marks_short_runs(scenario_results):
    report = build_report(load_directories([scenario_results]), [str(scenario_results)])
    assert report.tables == []  # scenario results are not fixed-batch rows
    assert {row.scenario for row in report.scenario_rows} == {"SingleStream", "Offline"}
    offline_int8 = next(
        r for r in report.scenario_rows if r.scenario == "Offline" and r.variant == "tflite-int8"
    )
    assert offline_int8.batch in (1, 4) and offline_int8.speedup.rounds == 3
    console = Console(width=200, record=True, file=io.StringIO(), color_system=None)
    render_report(report, console)
    text = console.export_text()
    assert "Scenarios (MLPerf LoadGen's names" in text
    assert "shorter than MLPerf's minimums" in text and "MLPerf requires at least 600 s" in text
    assert "SingleStream (90th-percentile latency)" in text and "Offline (samples per second)" in text
    assert "none of these results is MLPerf-valid" in text


def test_scenario_options_without_a_scenario_are_refused(tiny_artifacts, tmp_path):
    assert_clean_user_error(measure(tiny_artifacts, tmp_path, "--min-duration", "3"), "need --scenario")


def test_added_rounds_stop_when_narrow_or_at_the_limit_and_say_why(tiny_artifacts, tmp_path):
    proc = measure(
        tiny_artifacts, tmp_path, "--variants", PAIR, "--batch", "1", "--processes", "2", "--repeats", "4",
        "--min-seconds", "0.05", "--max-rounds", "4", "--rounds-budget", "120", "--target-width", "0.0001",
        "--run-id", "r1",
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-3000:]
    results = [schema.load_result(p) for p in schema.find_result_files(tmp_path)]
    assert len(results) == 2
    for result in results:  # a ±0.01 % target is never met: rounds go on to the limit of 4
        assert sorted(set(result.timing_process)) == [0, 1, 2, 3]
        assert result.rounds_stop_reason.startswith("round limit of 4 reached; still wide: tflite-int8 vs")
