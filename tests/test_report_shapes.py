"""Results at two input shapes (32×32 and 224×224) in one set: every row, verdict and headline is
per shape, the 2018 row stays at the seed's, and the shape section explains the difference."""

from __future__ import annotations

import csv
import io

import pytest
from rich.console import Console

from harness.errors import UserError
from harness.report import cells, export, shape_cells
from harness.report.analysis import build_tables
from harness.report.compare import compare_results
from harness.report.document import SHAPE_DEFINITION, build_report
from harness.report.explain import explain, report_lines
from harness.report.headline import build_headlines
from harness.report.load import MERGE_RULE_SHAPES, LoadedResults, merge_runs
from harness.report.render import render_report
from harness.report.shapes import (
    BELOW_LIMIT,
    ISA_UNKNOWN,
    MAC_BOUND,
    NO_CLAIM,
    TITLE,
    WEIGHT_BOUND,
    build_shape_machines,
    classify,
    intensity,
    macs_per_second,
    weight_bytes,
)
from harness.report.stats import FASTER, RatioInterval
from harness.report.verdicts import UNSTABLE, build_reproductions, build_verdicts
from harness.schema import VARIANTS
from tests.helpers import run_cli
from tests.report_fixtures import DEFAULT_TIME_FACTOR, machine_results, make_result, write_results

ALL = tuple(VARIANTS)
LARGE = 224
# int8 and fake-quant gain differently at each shape, and a 224 call takes 20× a 32 one: a
# comparison that mixed the shapes would show a ratio far from either.
SMALL_FACTORS = {"tflite-int8": 0.30, "ort-int8": 0.35, "openvino-int8": 0.28, "tf-fakequant": 1.8}
LARGE_FACTORS = {"tflite-int8": 0.55, "ort-int8": 0.62, "openvino-int8": 0.50, "tf-fakequant": 3.0}


def shape_results(size: int, float_s: float, factors: dict[str, float], macs: int, **common) -> list:
    return machine_results(
        variants=ALL,
        batch=1,
        threads=2,
        float_median_s=float_s,
        rounds=3,
        spread=0.01,
        time_factor=factors,
        input_size=size,
        macs_per_image=macs,
        weight_count=25_600_000,
        trained_input_size=32,
        **common,
    )


def two_shapes(**common) -> list:
    return shape_results(32, 0.010, SMALL_FACTORS, 85_000_000, **common) + shape_results(
        LARGE, 0.200, LARGE_FACTORS, 4_100_000_000, **common
    )


def report_of(results, comparison=None):
    merged, _ = merge_runs(results)
    return build_report(LoadedResults(results=merged), ["results"], comparison)


def console_text(report, width: int = 1000) -> str:
    console = Console(width=width, record=True, file=io.StringIO(), color_system=None)
    render_report(report, console)
    return console.export_text()


def test_a_newer_result_at_224_never_replaces_the_32_one():
    results = two_shapes()
    for result in results:
        if result.input_size == LARGE:
            result.finished_at = "2025-07-01T12:00:00Z"
    merged, superseded = merge_runs(results)
    assert superseded == 0 and len(merged) == len(results)


def test_rows_of_both_shapes_are_listed_and_labelled():
    report = report_of(two_shapes())
    [table] = report.tables
    assert table.shapes_named and table.input_sizes() == [32, LARGE]
    assert cells.machine_columns(table)[2] == ("shape", "right")
    by_shape = {
        size: [cells.shaped_machine_cells(row, table) for row in table.rows if row.input_size == size]
        for size in (32, LARGE)
    }
    assert len(by_shape[32]) == len(by_shape[LARGE]) == len(ALL)
    assert {line[2] for line in by_shape[32]} == {"32×32"}
    assert {line[2] for line in by_shape[LARGE]} == {"224×224"}
    text = console_text(report)
    assert any(line.startswith("tflite-int8 ") and " 224×224 " in line for line in text.splitlines())
    assert any(line.startswith("tflite-int8 ") and " 32×32 " in line for line in text.splitlines())
    markdown = export.to_markdown(report)
    assert "| variant | runtime | shape | batch |" in markdown
    assert "| tflite-int8 | LiteRT | 224×224 | 1 |" in markdown
    assert SHAPE_DEFINITION in report.definitions and report.merge_rule == MERGE_RULE_SHAPES


def test_each_shape_has_its_own_verdict_paired_with_results_of_that_shape_only():
    verdicts = build_verdicts(build_tables(two_shapes()))
    litert = {v.input_size: v for v in verdicts if v.runtime == "litert"}
    assert litert[32].speedup.ratio == pytest.approx(1 / SMALL_FACTORS["tflite-int8"], rel=0.03)
    assert litert[LARGE].speedup.ratio == pytest.approx(1 / LARGE_FACTORS["tflite-int8"], rel=0.03)
    assert "at 224×224, batch 1, 2 threads" in litert[LARGE].text
    assert "at 32×32, batch 1, 2 threads" in litert[32].text
    assert len(verdicts) == 2 * 3  # each shape: LiteRT, ONNX Runtime, OpenVINO


def test_the_headline_names_both_shapes_and_picks_within_each():
    results = two_shapes()
    headlines = {h.input_size: h for h in build_headlines(build_tables(results), results)}
    assert set(headlines) == {32, LARGE}
    for size, factors in ((32, SMALL_FACTORS), (LARGE, LARGE_FACTORS)):
        headline = headlines[size]
        assert headline.outcome == FASTER and headline.int8_variant == "openvino-int8"
        expected = 1.0 / factors["openvino-int8"]  # vs tflite-fp32, the fastest float32 (factor 1)
        assert headline.speedup.ratio == pytest.approx(expected, rel=0.03)
        assert f"{size}×{size}, batch 1, 2 threads: fastest int8" in headline.text
    assert "top-1† " in headlines[LARGE].text and "top-1† " not in headlines[32].text


def test_the_2018_row_never_uses_a_224_result():
    tables = build_tables(two_shapes())
    [row] = build_reproductions(tables)
    assert row.input_size == 32 and "32×32, batch 1" in row.text
    expected = DEFAULT_TIME_FACTOR["tf-fp32"] / SMALL_FACTORS["tf-fakequant"]  # vs tf-fp32
    assert row.fakequant_speedup.ratio == pytest.approx(expected, rel=0.03)
    assert row.int8_speedup.ratio == pytest.approx(1 / SMALL_FACTORS["tflite-int8"], rel=0.03)
    only_large = shape_results(LARGE, 0.2, LARGE_FACTORS, 4_100_000_000)
    assert build_reproductions(build_tables(only_large)) == []


def test_top1_off_the_training_scale_is_marked_and_explained_once():
    [table] = report_of(two_shapes()).tables
    top1 = {
        row.input_size: cells.machine_cells(row)[10] for row in table.rows if row.variant == "tflite-fp32"
    }
    assert top1 == {32: "76.1%", LARGE: "76.1%†"}
    gate = {row.input_size: row.accuracy_gate for row in table.rows if row.variant == "tflite-int8"}
    assert gate == {32: "pass", LARGE: "n/a"}  # a top-1 off the training scale gates nothing
    notes = [note.text for note in cells.machine_notes(table) if note.text.startswith("†")]
    assert notes == [
        "† weights trained at 32×32; at 224×224 the eval images are the same images upscaled 7×, so "
        "top-1 there is the network used off its training scale (timing only); the int8-vs-float32 "
        "agreement still applies"
    ]


def test_csv_carries_the_shape_and_the_model_cost_of_each_row():
    rows = list(csv.DictReader(io.StringIO(export.to_csv(report_of(two_shapes())))))
    int8 = {row["input_size"]: row for row in rows if row["variant"] == "tflite-int8"}
    assert set(int8) == {"32", "224"}
    assert int8["224"]["macs_per_image"] == "4100000000" and int8["224"]["weight_count"] == "25600000"
    assert float(int8["224"]["speedup"]) == pytest.approx(1 / LARGE_FACTORS["tflite-int8"], rel=0.03)


def test_the_fleet_keeps_each_shape_apart():
    report = report_of(two_shapes() + shape_results(32, 0.008, SMALL_FACTORS, 85_000_000, host="box-b"))
    rows = {row.host: row for row in report.fleet.rows}
    assert [(s.input_size, s.batch) for s in rows["ci-amd64"].settings] == [(32, 1), (LARGE, 1)]
    assert [s.input_size for s in rows["box-b"].settings] == [32]
    [large] = [s for s in rows["ci-amd64"].settings if s.input_size == LARGE]
    assert large.runtimes[0].speedup.ratio == pytest.approx(1 / LARGE_FACTORS["tflite-int8"], rel=0.03)
    assert "| machine | int8 ISA | cpus | shape | batch |" in export.to_markdown(report)
    assert ",224,1,2,litert," in export.to_fleet_csv(report.fleet)


def test_a_comparison_matches_results_of_the_same_shape_and_groups_per_shape():
    old, new = report_of(two_shapes()), two_shapes(run_id="run-2", finished_at="2025-07-01T12:00:00Z")
    merged, _ = merge_runs(two_shapes())
    comparison = compare_results(LoadedResults(merged), LoadedResults(merge_runs(new)[0]), ["old"])
    assert old.results_used == len(comparison.changes) and not comparison.only_old
    groups = cells.comparison_groups(comparison)
    assert list(groups) == ["amd64 on ci-amd64, 32×32", "amd64 on ci-amd64, 224×224"]
    assert all(change.input_size == LARGE for change in groups["amd64 on ci-amd64, 224×224"])


# The shape section on hand-checkable numbers: 1e8 multiply-adds per image, 1e6 weights, batch 1.
HAND = dict(batch=1, threads=2, rounds=3, spread=0.0, isa_flags=["avx2", "fma"], weight_count=1_000_000)


def hand_results() -> list:
    small = dict(HAND, input_size=32, macs_per_image=100_000_000, trained_input_size=32)
    large = dict(HAND, input_size=LARGE, macs_per_image=4_900_000_000, trained_input_size=32)
    return [
        make_result("tflite-fp32", median_s=0.01, **small),
        make_result("tflite-int8", median_s=0.01 / 3, round_factors=[1.0, 1.02, 0.98], **small),
        make_result("tflite-fp32", median_s=0.2, **large),
        # around 2× with rounds that disagree a little: an interval that holds the ~2× limit
        make_result("tflite-int8", median_s=0.1, round_factors=[1.0, 1.1, 0.92], **large),
    ]


def test_intensity_rate_and_bytes_by_hand():
    assert weight_bytes("tflite-fp32", 1_000_000) == 4_000_000
    assert weight_bytes("tflite-int8", 1_000_000) == 1_000_000
    assert weight_bytes("tflite-fp16", 1_000_000) == 2_000_000
    assert weight_bytes("tflite-fp32", None) is None
    assert intensity(1, 100_000_000, 4_000_000) == pytest.approx(25.0)
    assert macs_per_second(1, 100_000_000, 0.01) == pytest.approx(1e10)


def test_classification_against_the_isa_limit():
    def ratio(point, low, high):
        return RatioInterval(point, low, high, rounds=3)

    assert classify(ratio(3.0, 2.6, 3.4), FASTER, 2.0) == WEIGHT_BOUND
    assert classify(ratio(2.0, 1.8, 2.2), FASTER, 2.0) == MAC_BOUND
    assert classify(ratio(2.3, 1.9, 2.7), FASTER, 2.0) == MAC_BOUND  # above it, but not clearly
    assert classify(ratio(1.3, 1.2, 1.4), FASTER, 2.0) == BELOW_LIMIT
    assert classify(ratio(3.0, 2.6, 3.4), FASTER, None) == ISA_UNKNOWN
    assert classify(ratio(3.0, 2.6, 3.4), UNSTABLE, 2.0) == NO_CLAIM
    assert classify(ratio(3.0, None, None), FASTER, 2.0) == NO_CLAIM


def test_the_shape_section_by_hand():
    tables = build_tables(hand_results())
    verdicts = build_verdicts(tables)
    [machine] = build_shape_machines(tables, verdicts)
    assert machine.limit == 2.0
    small, large = machine.settings
    [at_small], [at_large] = small.comparisons, large.comparisons
    assert at_small.intensity == pytest.approx(25.0)  # 1 × 1e8 / (4 × 1e6)
    assert at_small.float_macs_per_s == pytest.approx(1e10)  # 1 × 1e8 / 0.01 s
    assert at_small.speedup.ratio == pytest.approx(3.0, rel=0.03) and at_small.bound == WEIGHT_BOUND
    [verdict] = [v for v in verdicts if v.input_size == 32]
    assert at_small.speedup is verdict.speedup  # the verdict's interval, not a new one
    assert at_large.intensity == pytest.approx(1225.0) and at_large.float_macs_per_s == pytest.approx(2.45e10)
    assert at_large.speedup.low < 2.0 < at_large.speedup.high and at_large.bound == MAC_BOUND
    first = shape_cells.rows(machine)[0]
    assert first[:7] == ["32×32", "1", "2", "0.1", "4.0", "1.0", "25.0"] and first[9] == "10.0"
    assert first[-1] == "moving weights"
    assert machine.answer.startswith(
        "At 32×32 a batch-1 float32 call does 25.0 multiply-adds per weight byte (10.0 GMAC/s on LiteRT), "
        "at 224×224 1225 (24.5 GMAC/s)."
    )
    assert (
        "above the ISA's ~2× multiply-add limit (the float call is bound by moving weights)" in machine.answer
    )
    caption = " ".join(shape_cells.caption(machine))
    assert "float call bound by moving weights: int8 moves 4× fewer bytes" in caption
    assert "bound by multiply-adds: int8 gains what the ISA gives (~2×)" in caption


def test_the_shape_section_is_shown_for_native_machines_with_two_shapes_only():
    report = report_of(hand_results())
    text = console_text(report)
    assert f"{TITLE}: amd64 (AVX2, no VNNI, native) on ci-amd64" in text
    assert "10.0" in text and "moving weights" in text
    assert f"## {TITLE}" in export.to_markdown(report)
    emulated = hand_results()
    for result in emulated:
        result.emulated = True
    assert report_of(emulated).shape_machines == []
    seed_only = report_of([r for r in hand_results() if r.input_size == 32])
    assert seed_only.shape_machines == [] and not seed_only.shapes_named
    text = console_text(seed_only)
    assert TITLE not in text and "shape" not in text and "32×32" not in text


def test_explain_takes_the_seed_shape_by_default_and_says_which_exist():
    results = hand_results()
    seed = explain(results, "tflite-int8")
    assert seed.input_size == 32 and seed.speedup.ratio == pytest.approx(3.0, rel=0.03)
    assert "32×32, batch 1" in seed.summary()
    large = explain(results, "tflite-int8", input_size=LARGE)
    assert large.input_size == LARGE and large.speedup.ratio == pytest.approx(2.0, rel=0.1)
    assert "at 224×224, batch 1" in large.roofline()
    with pytest.raises(
        UserError, match=r"measured at 32×32 \(--input-size 32\), 224×224 \(--input-size 224\)"
    ):
        explain(results, "tflite-int8", input_size=64)
    only_large = [r for r in results if r.input_size == LARGE]
    assert explain(only_large, "tflite-int8").input_size == LARGE
    assert report_lines(results) == []  # no op profile recorded: nothing to summarize


def test_the_explain_command_takes_input_size(tmp_path):
    write_results(tmp_path, hand_results())
    proc = run_cli("explain", str(tmp_path), "--variant", "tflite-int8", "--input-size", "224")
    assert proc.returncode == 0, proc.stderr
    assert "224×224, batch 1" in proc.stdout
    proc = run_cli("explain", str(tmp_path), "--variant", "tflite-int8", "--input-size", "96")
    assert proc.returncode != 0 and "Traceback" not in proc.stderr
    assert "224×224 (--input-size 224)" in proc.stderr
