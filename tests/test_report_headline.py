"""The cross-runtime headline: fastest int8 vs fastest float32 on one machine."""

from __future__ import annotations

import io

import pytest
from rich.console import Console

from harness.report.analysis import build_tables
from harness.report.document import build_report
from harness.report.export import to_markdown
from harness.report.headline import HEADLINE_TITLE, build_headlines
from harness.report.load import LoadedResults
from harness.report.render import render_report
from harness.report.stats import FASTER
from harness.report.verdicts import NO_SPEED_VERDICT, build_verdicts
from harness.schema import STATUS_FAILED, VARIANTS
from tests.report_fixtures import DEFAULT_TIME_FACTOR, machine_results

ALL = tuple(VARIANTS)


def headlines_of(results):
    return build_headlines(build_tables(results), results)


def test_the_headline_sets_the_fastest_int8_of_any_runtime_against_the_fastest_float32():
    [headline] = headlines_of(machine_results(variants=ALL))
    fastest_int8 = min(
        (v for v in ALL if VARIANTS[v][1] in ("int8", "int8-qat", "dynamic-int8")),
        key=DEFAULT_TIME_FACTOR.get,
    )
    fastest_float = min((v for v in ALL if VARIANTS[v][1] == "fp32"), key=DEFAULT_TIME_FACTOR.get)
    assert (headline.int8_variant, headline.float_variant) == (fastest_int8, fastest_float)
    assert headline.outcome == FASTER
    expected = DEFAULT_TIME_FACTOR[fastest_float] / DEFAULT_TIME_FACTOR[fastest_int8]
    assert headline.speedup.ratio == pytest.approx(expected, rel=0.03)
    assert f"{fastest_int8} is {headline.speedup.ratio:.2f}× [" in headline.text
    assert fastest_float in headline.text


def test_an_int8_variant_that_fails_the_accuracy_gate_is_not_a_candidate():
    results = machine_results(variants=ALL, top1_delta={"openvino-int8": -0.05})
    [headline] = headlines_of(results)
    assert headline.int8_variant == "ort-int8"


def test_a_failed_float32_variant_is_not_the_baseline():
    results = machine_results(variants=ALL, time_factor={"tflite-fp32": 0.5})
    [headline] = headlines_of(results)
    assert headline.float_variant == "tflite-fp32"
    next(r for r in results if r.variant == "tflite-fp32").status = STATUS_FAILED
    [headline] = headlines_of(results)
    assert headline.float_variant == "openvino-fp32"


def test_an_emulated_machine_gets_no_speed_headline_and_each_runtime_keeps_its_verdict():
    results = machine_results(variants=ALL, arch="arm64", emulated=True, float_median_s=6.0)
    [headline] = headlines_of(results)
    assert headline.outcome == NO_SPEED_VERDICT and headline.speedup is None
    runtimes = [v.text.split(":")[1] for v in build_verdicts(build_tables(results))]
    assert len(runtimes) == 3  # LiteRT, ONNX Runtime and OpenVINO each have an int8 verdict variant


def test_console_and_markdown_put_the_headline_before_the_verdicts():
    results = machine_results(variants=ALL)
    report = build_report(LoadedResults(results=results), ["results"])
    console = Console(width=120, file=io.StringIO(), color_system=None)
    render_report(report, console)
    text = console.file.getvalue()
    assert text.index(HEADLINE_TITLE) < text.index("Verdicts")
    markdown = to_markdown(report)
    assert markdown.index(HEADLINE_TITLE) < markdown.index("## Verdicts")
    assert report.headlines[0].text in markdown
