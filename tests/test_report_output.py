"""What the reader sees: the console (120 columns), markdown, CSV, JSON and the chart."""

import csv
import io
import json

import pytest
from rich.console import Console

from harness.report import export, plot
from harness.report.document import build_report
from harness.report.load import load_directories
from harness.report.render import machine_table, render_report
from tests.report_fixtures import machine_results, two_arch_results, write_results

WIDTH = 120


@pytest.fixture
def report(tmp_path):
    directory = two_arch_results(tmp_path / "results")
    write_results(
        directory / "amd64",
        machine_results(batch=32, float_median_s=1.6, time_factor={"tflite-int8": 1.0}, spread=0.05),
    )
    (directory / "broken.json").write_text('{"kind": "quantbench.result", "schema')
    return build_report(load_directories([directory]), [str(directory)])


def console_text(report, width=WIDTH):
    console = Console(width=width, record=True, file=io.StringIO(), color_system=None)
    render_report(report, console)
    return console.export_text()


def test_console_report_fits_120_columns(report):
    lines = console_text(report).splitlines()
    too_long = [line for line in lines if len(line) > WIDTH]
    assert too_long == []
    # The machine tables fit without squeezing: their natural width is within 120 too.
    wide = Console(width=400, file=io.StringIO())
    for table in report.tables:
        assert wide.measure(machine_table(table)).maximum <= WIDTH


def test_console_report_shows_verdicts_warnings_and_emulation(report):
    text = console_text(report, width=1000)  # wide, so no sentence is wrapped
    assert "full-integer int8 is 1." in text and "faster than float32 LiteRT at batch 8" in text
    assert "no measurable difference" in text  # batch 32 has int8 as fast as float
    assert "EMULATED (QEMU): not a CPU measurement" in text
    assert "no speed verdict at batch 8, 4 threads: emulated timings measure QEMU" in text
    # QEMU slowed both sides of round 2 alike: one note names every variant, each with its numbers
    [note] = [line for line in text.splitlines() if "processes disagree" in line]
    assert note.startswith("* WARNING: processes disagree: the machine changed while it was timed: batch 8")
    assert "tflite-int8 (process 1 at" in note and note.count("the machine changed") == 1
    assert "broken.json: cannot read JSON" in text
    assert "2018 reproduction" in text and "float kernels plus quantize ops" in text
    assert "the newest complete run is used" in text


def test_emulated_rows_are_dimmed(report):
    [emulated] = [t for t in report.tables if t.emulated]
    [native] = [t for t in report.tables if not t.emulated]
    assert all(row.style == "dim" for row in machine_table(emulated).rows)
    assert all(row.style != "dim" for row in machine_table(native).rows)


def test_markdown_holds_the_same_verdicts_and_tables(report):
    markdown = export.to_markdown(report)
    for verdict in report.verdicts:
        assert verdict.text in markdown
    assert markdown.count("| variant | runtime |") == len(report.tables)
    assert "**EMULATED (QEMU): not a CPU measurement**" in markdown
    assert "broken.json" in markdown


def test_csv_has_one_line_per_result_with_raw_numbers(report):
    rows = list(csv.DictReader(io.StringIO(export.to_csv(report))))
    assert len(rows) == sum(len(table.rows) for table in report.tables) == 21
    int8 = next(r for r in rows if (r["variant"], r["arch"], r["batch"]) == ("tflite-int8", "amd64", "8"))
    assert 1.0 < float(int8["speedup_ci_low"]) < float(int8["speedup"]) < float(int8["speedup_ci_high"])
    assert int8["accuracy_gate"] == "pass"
    assert {r["emulated"] for r in rows if r["arch"] == "arm64"} == {"True"}


def test_json_report_round_trips_and_is_skipped_when_reloaded(report, tmp_path):
    payload = json.loads(export.to_json(report))
    assert payload["kind"] == "quantbench.report"
    assert [v["text"] for v in payload["verdicts"]] == [v.text for v in report.verdicts]
    directory = tmp_path / "results"
    (directory / "report.json").write_text(export.to_json(report))
    reloaded = load_directories([directory])
    assert len(reloaded.file_warnings) == 1  # only broken.json, never report.json


def _legends(axes) -> list[str]:
    legend = axes.get_legend()
    return [text.get_text() for text in legend.get_texts()] if legend else []


def test_plot_shows_both_arches_with_error_bars(report, tmp_path):
    figure = plot.build_figure(report)
    native = [axes for axes in figure.axes if axes.get_title().startswith(plot.NATIVE_TITLE)]
    emulated = [axes for axes in figure.axes if axes.get_title().startswith(plot.EMULATED_TITLE)]
    # a native panel per native (batch, threads), an emulated one per emulated: never one axis for both
    settings = {
        emulated: {s for t in report.tables if t.emulated is emulated for s in t.settings()}
        for emulated in (False, True)
    }
    assert (len(native), len(emulated)) == (len(settings[False]), len(settings[True])) == (2, 1)
    assert len(native) + len(emulated) == len(figure.axes)
    assert all(any(label.startswith("amd64") for label in _legends(axes)) for axes in native)
    assert not any("EMULATED" in label for axes in native for label in _legends(axes))
    assert any("arm64" in label and "EMULATED" in label for axes in emulated for label in _legends(axes))
    assert all(axes.get_yscale() == "log" for axes in figure.axes)
    for axes in native:  # bars with error bars
        kinds = {type(container).__name__ for container in axes.containers}
        assert {"BarContainer", "ErrorbarContainer"} <= kinds, kinds
    path = tmp_path / "out" / "speedup.png"
    plot.write_plot(report, path)
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def _figure_notes(figure) -> str:
    """The lines under the panels, their wrapping undone."""
    return " ".join(" ".join(text.get_text() for text in figure.texts).split())


def test_plot_names_a_machine_that_has_no_interval_instead_of_drawing_an_empty_panel(report):
    emulated = next(table for table in report.tables if table.emulated)
    for row in emulated.rows:
        row.speedup = None  # e.g. fewer than 5 timings under QEMU
    figure = plot.build_figure(report)
    assert not any(axes.get_title().startswith(plot.EMULATED_TITLE) for axes in figure.axes)
    assert all(axes.containers for axes in figure.axes)  # every axis drawn has bars
    batch, threads = emulated.settings()[0]
    expected = f"{plot.machine_legend(emulated)}: {plot.NO_INTERVAL} at batch {batch}, {threads} threads"
    assert expected in _figure_notes(figure)


def test_plot_says_when_a_machine_was_not_timed_at_a_batch(report):
    emulated = next(table for table in report.tables if table.emulated)
    native_batches = {batch for table in report.tables if not table.emulated for batch, _ in table.settings()}
    assert {batch for batch, _ in emulated.settings()} < native_batches  # the quick emulated pass
    figure = plot.build_figure(report)
    emulated_panels = [axes for axes in figure.axes if axes.get_title().startswith(plot.EMULATED_TITLE)]
    assert len(emulated_panels) == len(emulated.settings())
    assert f"{plot.machine_legend(emulated)}: not timed at batch 32, 4 threads." in _figure_notes(figure)
