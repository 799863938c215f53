"""The report of a real run, as a reader sees it at 100 and 120 columns, and its chart.

tests/data/run-20261201T220939Z-f452cf holds every result of one `host run` (39 files, copied
untouched from results/): amd64 native at batch 1 and 64, and a quick arm64 emulated pass at
batch 1 (one timing per variant, so point ratios without interval), 2 threads.
"""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import pytest

from harness.report import cells, fmt, plot
from harness.report.compare import compare_results
from harness.report.document import build_report
from harness.report.load import load_directories
from harness.report.scenarios import ScenarioRow
from harness.report.stats import RatioInterval
from tests.report_fixtures import machine_results, write_results
from tests.test_report_output import console_text

REAL_RUN = Path(__file__).resolve().parent / "data" / "run-20261201T220939Z-f452cf"
NUMBER = re.compile(r"\d+(?:\.\d+)?")


@pytest.fixture(scope="module")
def real_report():
    return build_report(load_directories([REAL_RUN]), [str(REAL_RUN)])


def flat(text: str) -> str:
    """The text with its line wrapping undone: a sentence wrapped over lines is found whole."""
    return " ".join(text.split())


def row_line(lines: list[str], table, row) -> str:
    """The console line of one row: the first after its table's title that starts with it (its
    variant, the runtime if shown, its batch and threads)."""
    start = next(i for i, line in enumerate(lines) if line.startswith(table.label))
    pattern = re.compile(rf"{re.escape(row.variant)}\*? +(\S+ +)?{row.batch} +{row.threads} ")
    return next(line for line in lines[start:] if pattern.match(line))


@pytest.mark.parametrize("width", [100, 120])
def test_every_speedup_interval_and_accuracy_figure_is_printed_whole(real_report, width):
    lines = console_text(real_report, width).splitlines()
    assert max(len(line) for line in lines) <= width
    checked = 0
    for table in real_report.tables:
        for row in table.rows:
            line = row_line(lines, table, row)
            speedup = cells.BASELINE if row.is_baseline else fmt.ratio(row.speedup, with_rounds=False)
            wanted = [
                fmt.ms(row.p50_s),
                speedup,
                fmt.percent(row.top1),
                fmt.points(row.top1_delta_pt),
                fmt.percent(row.agreement_with_float),
            ]
            assert all(f" {cell} " in f" {line} " for cell in wanted), (wanted, line)
            if row.accuracy_gate:
                assert line.rstrip().endswith(f" {row.accuracy_gate}"), line
            checked += 1
    assert checked == 39
    # the real run has the intervals the console used to cut, e.g. "0.47× [0.00–48.69]"
    assert "0.47× [0.00–48.69]" in "\n".join(lines) and "11.39× (no interval, n=1)" in "\n".join(lines)


@pytest.mark.parametrize(
    ("width", "left_out"),
    [(100, ("size", "peak mem", "runtime", "img/s")), (120, ("size", "peak mem")), (200, ())],
)
def test_columns_are_left_out_in_the_fixed_order_and_said_once(real_report, width, left_out):
    text = console_text(real_report, width)
    assert cells.MACHINE_DROP_ORDER[: len(left_out)] == left_out  # the order, not a guess
    header_lines = [line for line in text.splitlines() if line.startswith("variant ")]
    assert len(header_lines) == len(real_report.tables)
    for header in header_lines:
        names = [name for name, _ in cells.MACHINE_COLUMNS if name not in left_out]
        positions = [header.find(name) for name in names]
        assert -1 not in positions and positions == sorted(positions), header
        assert all(f" {name} " not in f" {header} " for name in left_out)
    said = [line for line in text.splitlines() if line.startswith("Left out at")]
    if left_out:
        assert said == [said[0]] and said[0].startswith(
            f"Left out at {width} columns: {', '.join(left_out)} ("
        )
        assert "--markdown" in said[0] and "COLUMNS=" in said[0]
    else:
        assert said == []


@pytest.mark.parametrize("width", [100, 120])
def test_each_kind_of_warning_is_said_once_with_each_rows_own_numbers(real_report, width):
    text = flat(console_text(real_report, width))
    rows = [row for table in real_report.tables for row in table.rows]
    warnings = [warning for row in rows for warning in row.warnings]
    # what the real run holds: two processes-disagree rows (amd64), two emulated rows whose native
    # reference strays (arm64), and thirteen rows of one timing each (arm64)
    assert sum("processes disagree" in w for w in warnings) == 2
    assert sum("native output that strays" in w for w in warnings) == 2
    assert sum(w.startswith("only 1 repeats") for w in warnings) == 13
    for shared in (
        "the machine changed while it was timed",
        "runs ONNX Runtime's U8S8 int8 with 16-bit sums that saturate",
        "there is no exact reference here",
        "the percentiles are rough",
        "rerun with more --repeats",
    ):
        assert text.count(shared) == 1, shared
    for warning in warnings:  # each advice (after the last "; ") at most once per table
        advice = warning.rstrip(".").rpartition("; ")[2] if "; " in warning else ""
        tables = sum(
            any(w.endswith(advice + ".") for r in t.rows for w in r.warnings) for t in real_report.tables
        )
        assert not advice or text.count(advice) <= tables, advice
        assert all(number in text for number in NUMBER.findall(warning)), warning
    assert "all rows (only 1 repeats (fewer than 10)) — rerun with more --repeats" in text


def test_the_other_tables_keep_their_ratios_whole_at_100_columns(real_report, tmp_path):
    loaded = load_directories([REAL_RUN])
    comparison = compare_results(loaded, loaded, [str(REAL_RUN)])
    write_results(
        tmp_path, [r for t in (1, 2, 4, 8) for r in machine_results(threads=t, float_median_s=0.4 / t)]
    )
    scaling = build_report(load_directories([tmp_path]), [str(tmp_path)]).scaling
    scenario_rows = [
        scenario_row("tflite-fp32", None),
        scenario_row("tflite-int8", RatioInterval(2.41, 1.72, 3.39)),
    ]
    report = dataclasses.replace(
        real_report, comparison=comparison, scaling=scaling, scenario_rows=scenario_rows
    )
    text = console_text(report, 100)
    assert max(len(line) for line in text.splitlines()) <= 100 and "…" not in text
    wanted = [fmt.ratio(item.fakequant_speedup) for item in report.reproductions]
    wanted += [fmt.ratio(item.int8_speedup) for item in report.reproductions]
    wanted += [cells.comparison_cells(change)[5] for change in comparison.changes]
    wanted += [cells.comparison_cells(change)[7] for change in comparison.changes]  # top-1 old → new
    wanted += [f"{row.speedup(point):.2f}×" for row in scaling for point in row.points[1:]]
    wanted += ["2.41× [1.72–3.39]"]
    assert [cell for cell in wanted if cell not in text] == []
    assert "×t1 at t8" in text  # each speed-up column names its thread count


def scenario_row(variant: str, speedup: RatioInterval | None) -> ScenarioRow:
    return ScenarioRow(
        machine="amd64 (AVX2, no VNNI, native) on local",
        emulated=False,
        scenario="SingleStream",
        variant=variant,
        baseline_variant="tflite-fp32",
        threads=2,
        batch=1,
        driver="loadgen 6.0.17",
        rounds=3,
        per_round={0: 0.0070, 1: 0.0071, 2: 0.0069},
        p90_s=0.0070,
        early_stopping_p90_s=0.0072,
        throughput_sps=146.0,
        duration_s=0.3,
        shortfalls=["ran 0.3 s, MLPerf requires at least 600 s"],
        speedup=speedup,
    )


def test_the_chart_draws_only_panels_with_intervals_and_tells_runtimes_apart(real_report):
    figure = plot.build_figure(real_report)
    [native] = [t for t in real_report.tables if not t.emulated]
    [emulated] = [t for t in real_report.tables if t.emulated]
    assert len(figure.axes) == len(native.settings()) == 2  # batch 1 and 64; no emulated panel
    assert not any(axes.get_title().startswith(plot.EMULATED_TITLE) for axes in figure.axes)
    colour_of: dict[str, tuple] = {}
    for axes in figure.axes:
        bars = [
            patch for container in axes.containers if hasattr(container, "patches") for patch in container
        ]
        assert bars and any(type(c).__name__ == "ErrorbarContainer" for c in axes.containers)
        legend = {
            text.get_text(): handle
            for text, handle in zip(
                axes.get_legend().get_texts(), axes.get_legend().legend_handles, strict=True
            )
        }
        for label in ("TF", "LiteRT", "ONNX Runtime", "OpenVINO"):
            colour = tuple(legend[label].get_facecolor()[:3])
            assert colour_of.setdefault(label, colour) == colour  # the same in every panel
        assert {tuple(bar.get_facecolor()[:3]) for bar in bars} == set(colour_of.values())
    assert len(set(colour_of.values())) == 4
    notes = flat(" ".join(text.get_text() for text in figure.texts))
    assert f"{plot.machine_legend(emulated)}: {plot.NO_INTERVAL} at batch 1, 2 threads" in notes
    assert "not timed at batch 64, 2 threads" in notes
