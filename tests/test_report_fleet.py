"""The fleet view, from the real run of tests/data and a second machine made from it.

box-b is the real run's 39 results copied with another host and run id, and two known changes:
every timing of its ort-int8 is halved (so its ONNX Runtime speed-up must be exactly twice
local's, interval and all: the paired statistic is a geometric mean of per-round ratios), and its
openvino-int8 at batch 64 keeps only the timings of its first process round (so that cell has a
point ratio and no interval). Both machines keep their emulated arm64 results.
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest

from harness.report import fleet_cells, fleet_plot, fmt, plot
from harness.report.document import build_report
from harness.report.load import load_directories
from harness.report.verdicts import UNSTABLE
from tests.helpers import run_cli
from tests.report_fixtures import machine_results, make_result, write_results
from tests.test_report_output import console_text
from tests.test_report_real_run import REAL_RUN, flat

INT8_TIME_FACTOR = 0.5  # box-b's ort-int8 timings, relative to local's
BOX_B = "box-b"
BOX_B_RUN = "20261202T101500Z-b0b0b0"
TIMING_LISTS = ("timings_s", "timing_process", "timing_round", "timing_position")


def write_box_b(folder: Path) -> Path:
    """The real run as if measured on another machine, in a run of its own (module docstring)."""
    folder.mkdir(parents=True)
    for path in sorted(REAL_RUN.glob("*.json")):
        raw = json.loads(path.read_text())
        raw.update(host=BOX_B, run_id=BOX_B_RUN, finished_at="2026-12-02T10:30:00+00:00")
        if raw["variant"] == "ort-int8":
            raw["timings_s"] = [seconds * INT8_TIME_FACTOR for seconds in raw["timings_s"]]
            for name in ("p50_s", "p90_s", "p99_s", "mean_s", "stdev_s", "min_s", "max_s"):
                raw[name] = raw[name] * INT8_TIME_FACTOR if raw.get(name) is not None else None
        if (raw["variant"], raw["batch"], raw["emulated"]) == ("openvino-int8", 64, False):
            first = [i for i, process in enumerate(raw["timing_process"]) if process == 0]
            for name in TIMING_LISTS:
                raw[name] = [raw[name][i] for i in first]
        (folder / path.name.replace("local_", f"{BOX_B}_")).write_text(json.dumps(raw))
    return folder


@pytest.fixture(scope="module")
def folders(tmp_path_factory) -> tuple[Path, Path]:
    """Two result folders as copied back from two machines: local's run and box-b's."""
    root = tmp_path_factory.mktemp("fleet")
    local = root / "local"
    shutil.copytree(REAL_RUN, local)
    return local, write_box_b(root / BOX_B)


@pytest.fixture(scope="module")
def report(folders):
    return build_report(load_directories(list(folders)), [str(folder) for folder in folders])


def cells_by(report, host: str, batch: int) -> dict[str, object]:
    [row] = [row for row in report.fleet.rows if row.host == host]
    [setting] = [s for s in row.settings if s.batch == batch]
    return {cell.name: cell for cell in setting.runtimes}


def test_one_row_per_native_machine_and_the_emulated_ones_left_out(report):
    fleet = report.fleet
    assert [(row.host, row.arch) for row in fleet.rows] == [(BOX_B, "amd64"), ("local", "amd64")]
    assert fleet.runtimes == ["LiteRT", "ONNX Runtime", "OpenVINO"]  # TF has no int8, only fake-quant
    for row in fleet.rows:
        assert row.isa == "AVX2, no VNNI" and row.int8_dot_product is False
        assert row.cpu_model == "AMD EPYC" and row.cpus == 2
        assert [(s.batch, s.threads) for s in row.settings] == [(1, 2), (64, 2)]
    assert len(fleet.left_out) == 2
    for host, line in zip((BOX_B, "local"), fleet.left_out, strict=True):
        assert line.startswith(f"arm64 on {host}: emulated (QEMU)") and "no speed claim" in line


def test_box_b_gains_exactly_the_known_factor_on_onnx_runtime_only(report):
    for batch in (1, 64):
        local, box_b = cells_by(report, "local", batch), cells_by(report, BOX_B, batch)
        mine, theirs = box_b["ort"].speedup, local["ort"].speedup
        assert mine.has_interval and theirs.has_interval
        for name in ("ratio", "low", "high"):
            assert getattr(mine, name) == pytest.approx(getattr(theirs, name) / INT8_TIME_FACTOR, rel=1e-9)
        assert fmt.ratio(mine) != fmt.ratio(theirs)
        assert box_b["litert"].speedup == local["litert"].speedup
        assert box_b["ort"].int8_p50_s == pytest.approx(local["ort"].int8_p50_s * INT8_TIME_FACTOR)
    # every cell of local has its interval; box-b's OpenVINO at batch 64 kept one round: none
    assert all(cell.speedup.has_interval for b in (1, 64) for cell in cells_by(report, "local", b).values())
    openvino = cells_by(report, BOX_B, 64)["openvino"]
    assert not openvino.speedup.has_interval and not openvino.claims
    assert fleet_cells.speedup_text(openvino).endswith("× (no interval, 1 round)")
    assert cells_by(report, "local", 1)["openvino"].outcome == UNSTABLE  # as its verdict says


def test_every_cell_is_its_verdicts_or_headlines_number(report):
    verdicts = {(v.machine, v.batch, v.threads, v.runtime): v for v in report.verdicts}
    headlines = {(h.machine, h.batch, h.threads): h for h in report.headlines}
    checked = 0
    for row in report.fleet.rows:
        for setting in row.settings:
            for cell in setting.runtimes:
                verdict = verdicts[(row.label, setting.batch, setting.threads, cell.name)]
                assert (cell.outcome, cell.int8_variant) == (verdict.outcome, verdict.variant)
                assert fmt.ratio(cell.speedup) in verdict.text
                checked += 1
            headline = headlines[(row.label, setting.batch, setting.threads)]
            assert setting.fastest.speedup == headline.speedup
            assert (setting.fastest.int8_variant, setting.fastest.float_variant) == (
                headline.int8_variant,
                headline.float_variant,
            )
    assert checked == 2 * 2 * 3
    # the fastest int8 on box-b is its halved ort-int8, at both batches
    assert {s.fastest.int8_variant for r in report.fleet.rows if r.host == BOX_B for s in r.settings} == {
        "ort-int8"
    }


def fleet_section(text: str) -> str:
    start = text.index(fleet_cells.SPEEDUP_TITLE)
    return text[start : text.index("2018 reproduction", start)]


@pytest.mark.parametrize("width", [100, 120])
def test_the_console_shows_every_fleet_cell_whole(report, width):
    text = console_text(report, width)
    assert max(len(line) for line in text.splitlines()) <= width
    section = fleet_section(text)
    assert "…" not in section and fleet_cells.FASTEST_TITLE in section
    wanted = [text for line in fleet_cells.speedup_rows(report.fleet) for text in line[3:]]
    wanted += [text for line in fleet_cells.fastest_rows(report.fleet) for text in line[1:]]
    assert len(wanted) == 2 * 2 * 5 + 2 * 2 * 7
    lines = section.splitlines()
    missing = [cell for cell in wanted if not any(f" {cell} " in f" {line} " for line in lines)]
    assert missing == []
    assert "(no interval, 1 round)" in section and "(unstable)" in section
    # no emulated number reaches the fleet: arm64's LiteRT int8 ran 11.39× "faster" under QEMU
    assert "11.39×" in text and "11.39×" not in section
    said = flat(section)
    assert "left out: arm64 on box-b: emulated (QEMU)" in said
    assert "left out: arm64 on local: emulated (QEMU)" in said


def test_one_machine_has_no_fleet():
    alone = build_report(load_directories([REAL_RUN]), [str(REAL_RUN)])
    assert alone.fleet is None  # one native machine (its arm64 is emulated)
    assert "Fleet" not in console_text(alone, 100)


def test_the_fleet_chart_has_a_panel_per_batch_and_the_runtimes_colours(report):
    figure = fleet_plot.build_fleet_figure(report.fleet)
    assert [axes.get_title() for axes in figure.axes] == ["batch 1", "batch 64"]
    ticks = [t.get_text() for t in figure.axes[0].get_xticklabels()]
    assert all(text.endswith("2 threads") for text in ticks) and len(ticks) == 2
    colours = plot.runtime_colours()
    wanted = {name: tuple(plot_colour(colours[name])) for name in ("litert", "ort", "openvino")}
    for axes in figure.axes:
        bars = [p for c in axes.containers if hasattr(c, "patches") for p in c]
        assert any(type(c).__name__ == "ErrorbarContainer" for c in axes.containers)
        assert {tuple(bar.get_facecolor()[:3]) for bar in bars} <= set(wanted.values())
        assert any(line.get_ydata()[0] == 1.0 for line in axes.get_lines())  # the 1× line
    # 2 machines x 3 runtimes per panel, but box-b's OpenVINO at batch 64 has no interval
    assert [sum(len(c.patches) for c in a.containers if hasattr(c, "patches")) for a in figure.axes] == [6, 5]
    notes = flat(" ".join(text.get_text() for text in figure.texts))
    assert f"{BOX_B} amd64, batch 64, 2 threads: no bar for OpenVINO" in notes
    assert "left out: arm64 on local: emulated" in notes


def plot_colour(name: str) -> tuple[float, float, float]:
    from matplotlib.colors import to_rgb

    return to_rgb(name)


def test_report_merges_two_folders_of_two_runs_into_one_fleet(folders, tmp_path):
    out = tmp_path / "out"
    files = ["--plot", out / "report.png", "--csv", out / "report.csv", "--markdown", out / "report.md"]
    files += ["--json", out / "report.json"]
    proc = run_cli("report", *map(str, [*folders, *files]), env={"COLUMNS": "100"}, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    section = fleet_section(proc.stdout)
    for host in (BOX_B, "local"):  # at 100 columns the name and the ISA wrap: "box-b / amd64"
        assert re.search(rf"^{host} +AVX2, no +2 +1 +2 ", section, re.M), section
    assert (out / "report.png").is_file() and (out / "fleet.png").stat().st_size > 10_000
    fleet_csv = (out / "fleet.csv").read_text().splitlines()
    assert len(fleet_csv) == 1 + 2 * 2 * 4  # machines x batches x (3 runtimes + the fastest)
    assert f"## {fleet_cells.SPEEDUP_TITLE}" in (out / "report.md").read_text()
    exported = json.loads((out / "report.json").read_text())["fleet"]
    assert [row["host"] for row in exported["rows"]] == [BOX_B, "local"]
    # one machine: no fleet, no fleet chart or CSV
    alone = tmp_path / "alone"
    files = ["--plot", alone / "report.png", "--csv", alone / "r.csv"]
    proc = run_cli("report", *map(str, [folders[0], *files]), timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert sorted(path.name for path in alone.iterdir()) == ["r.csv", "report.png"]
    assert fleet_cells.SPEEDUP_TITLE not in proc.stdout


def test_a_runtime_not_measured_or_failed_says_so_in_its_cell(tmp_path):
    write_results(tmp_path / "a", machine_results(host="zen3-box", rounds=3))
    failed = {"status": "failed", "error": "timed out after 30 s and was killed (raise --timeout)"}
    other = machine_results(arch="arm64", host="graviton3", rounds=3)
    write_results(tmp_path / "b", [make_result("tflite-int8", arch="arm64", host="graviton3", **failed)])
    write_results(tmp_path / "b", [r for r in other if r.variant != "tflite-int8"])
    fleet = build_report(load_directories([tmp_path]), [str(tmp_path)]).fleet
    texts = {row.host: fleet_cells.speedup_rows(fleet)[index][5:] for index, row in enumerate(fleet.rows)}
    assert texts["graviton3"] == ["— (failed)", "—", "—"]  # LiteRT failed; no ORT, no OpenVINO ran
    assert texts["zen3-box"][0].startswith("1.2") and texts["zen3-box"][1:] == ["—", "—"]
    [graviton] = [row for row in fleet.rows if row.host == "graviton3"]
    assert graviton.isa == "NEON, dotprod, no i8mm" and graviton.int8_dot_product is True
    # graviton3's fastest int8 is then its tflite-int8-qat, a headline like any
    assert graviton.settings[0].fastest.int8_variant == "tflite-int8-qat"
