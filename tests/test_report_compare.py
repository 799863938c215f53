"""--compare: what changed between two result sets, and whether it is significant."""

import io

import pytest
from rich.console import Console

from harness.report.cells import comparison_cells, comparison_groups
from harness.report.compare import NOT_COMPARABLE, NOT_SIGNIFICANT, compare_results
from harness.report.load import load_directories
from harness.report.render import comparison_table
from harness.report.stats import FASTER, SLOWER
from harness.schema import STATUS_FAILED
from tests.report_fixtures import machine_results, write_results


def compare(tmp_path, old_results, new_results):
    write_results(tmp_path / "old", old_results)
    write_results(tmp_path / "new", new_results)
    old = load_directories([tmp_path / "old"])
    new = load_directories([tmp_path / "new"])
    return compare_results(old, new, [str(tmp_path / "old")])


def test_a_real_change_is_significant_and_unchanged_ones_are_not(tmp_path):
    old = machine_results()
    # Same run id so unchanged variants get identical timings; int8 gets 20% faster, fp16 slower.
    new = machine_results(time_factor={"tflite-int8": 0.79 / 1.2, "tflite-fp16": 1.3})
    comparison = compare(tmp_path, old, new)
    outcomes = {c.variant: c for c in comparison.changes}
    assert len(outcomes) == 7
    assert outcomes["tflite-int8"].outcome == FASTER
    assert outcomes["tflite-int8"].change.ratio == pytest.approx(1.2, rel=0.03)
    assert outcomes["tflite-int8"].summary.endswith("faster")
    assert outcomes["tflite-fp16"].outcome == SLOWER
    assert outcomes["tflite-fp32"].outcome == NOT_SIGNIFICANT
    assert outcomes["tflite-fp32"].summary.startswith("not significant (1.00×")
    fp16_cells = comparison_cells(outcomes["tflite-fp16"])
    # Shown as "1.3× slower", not "0.77× faster".
    assert float(fp16_cells[5].split("×")[0]) == pytest.approx(1.3, rel=0.03)
    assert fp16_cells[6] == "slower"
    wide = Console(width=400, file=io.StringIO())
    for where in comparison_groups(comparison):
        assert wide.measure(comparison_table(comparison, where)).maximum <= 100


def test_a_new_host_is_matched_with_the_old_one_per_arch(tmp_path):
    comparison = compare(tmp_path, machine_results(host="old-box"), machine_results(host="new-box"))
    assert len(comparison.changes) == 7
    assert comparison.changes[0].where == "amd64 on old-box → new-box"
    assert comparison.only_old == [] and comparison.only_new == []


def test_emulated_is_never_matched_with_native(tmp_path):
    old = machine_results(arch="arm64", host="box")
    new = machine_results(arch="arm64", host="box", emulated=True)
    comparison = compare(tmp_path, old, new)
    assert comparison.changes == []
    assert len(comparison.only_old) == 7 and len(comparison.only_new) == 7
    assert all("emulated" in item for item in comparison.only_new)


def test_failed_results_are_not_compared(tmp_path):
    new = machine_results(variants=["tflite-int8"], status=STATUS_FAILED)
    comparison = compare(tmp_path, machine_results(variants=["tflite-int8"]), new)
    [change] = comparison.changes
    assert change.outcome == NOT_COMPARABLE and change.change is None
    assert change.summary == "not comparable: new is failed"
