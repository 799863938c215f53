"""`python -m harness report`: files written, bad input as one sentence, host-only imports."""

import argparse
import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest

from harness.errors import UserError
from harness.report import cli
from tests.report_fixtures import machine_results, two_arch_results, write_results

REPO = Path(__file__).resolve().parent.parent


def run_report(*argv):
    parser = argparse.ArgumentParser()
    cli.add_arguments(parser)
    return cli.run(parser.parse_args([str(arg) for arg in argv]))


def test_writes_every_file_asked_for(tmp_path, capsys):
    results = two_arch_results(tmp_path / "results")
    out = tmp_path / "results" / "report"
    code = run_report(
        results,
        "--markdown", out / "report.md",
        "--csv", out / "report.csv",
        "--json", out / "report.json",
        "--plot", out / "speedup.png",
    )  # fmt: skip
    assert code == 0
    assert "Verdicts" in capsys.readouterr().out
    assert (out / "report.md").read_text().startswith("# quantbench report")
    assert len((out / "report.csv").read_text().splitlines()) == 15
    assert '"kind": "quantbench.report"' in (out / "report.json").read_text()
    assert (out / "speedup.png").stat().st_size > 10_000
    # A second run over the same folder is not confused by the report's own files.
    assert run_report(results) == 0
    assert "WARNING: skipped" not in capsys.readouterr().out


def test_several_directories_and_compare(tmp_path, capsys):
    write_results(tmp_path / "old", machine_results())
    write_results(tmp_path / "amd64", machine_results(time_factor={"tflite-int8": 0.6}, run_id="run-2"))
    write_results(tmp_path / "arm64", machine_results(arch="arm64", host="ci-arm64", run_id="run-2"))
    assert run_report(tmp_path / "amd64", tmp_path / "arm64", "--compare", tmp_path / "old") == 0
    text = capsys.readouterr().out
    assert "amd64 (AVX2, no VNNI, native) on ci-amd64" in text
    assert "arm64 (NEON, dotprod, no i8mm, native) on ci-arm64" in text
    assert "Compared with" in text and "faster" in text
    assert "only in new: tflite-int8 batch 8, 4 threads (arm64 on ci-arm64)" in text


@pytest.mark.parametrize(
    ("setup", "argv", "message"),
    [
        (lambda d: None, lambda d: [d], "holds no result files"),
        (lambda d: (d / "x.json").write_text("{}"), lambda d: [d], "no valid quantbench result"),
        (lambda d: None, lambda d: [d / "missing"], "does not exist"),
        (
            lambda d: write_results(d, machine_results()),
            lambda d: [d, "--compare", d / "old"],
            "--compare directory",
        ),
        (lambda d: write_results(d, machine_results()), lambda d: [d, "--plot", d / "chart.txt"], "--plot"),
    ],
    ids=["empty-dir", "no-results", "missing-dir", "unknown-compare-dir", "bad-plot-name"],
)
def test_bad_input_is_one_clear_sentence(tmp_path, setup, argv, message):
    setup(tmp_path)
    with pytest.raises(UserError, match=message) as caught:
        run_report(*argv(tmp_path))
    text = str(caught.value)
    assert "\n" not in text and text.endswith(".")
    assert caught.value.exit_code != 0


@pytest.mark.skipif(
    importlib.util.find_spec("harness.bench.cli_prepare") is None,
    reason="the dispatcher loads every command; the bench commands are not in this checkout yet",
)
def test_dispatcher_prints_the_sentence_and_exits_non_zero(tmp_path, capsys):
    from harness.__main__ import main

    assert main(["report", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: results directory") and err.count("\n") == 1


def test_report_never_imports_the_bench_side(tmp_path):
    results = two_arch_results(tmp_path / "results")
    code = f"""
import argparse, sys
from harness.report import cli
parser = argparse.ArgumentParser()
cli.add_arguments(parser)
cli.run(parser.parse_args([{str(results)!r}, "--plot", {str(tmp_path / "c.png")!r},
                           "--markdown", {str(tmp_path / "r.md")!r}, "--compare", {str(results)!r}]))
bench_side = ("tensorflow", "tf_keras", "ai_edge_litert", "docker")
heavy = sorted(m for m in sys.modules if m.split(".")[0] in bench_side)
print("HEAVY", heavy)
"""
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, done.stderr
    assert "HEAVY []" in done.stdout


def test_the_report_runs_without_matplotlib_unless_a_plot_is_asked_for(tmp_path):
    """The bench image has no matplotlib: `report` there must print and write md/csv/json."""
    results = two_arch_results(tmp_path / "results")
    site = tmp_path / "site"
    site.mkdir()
    (site / "sitecustomize.py").write_text("import sys\nsys.modules['matplotlib'] = None\n")
    env = {"PYTHONPATH": f"{site}:{REPO}", "PATH": "/usr/bin:/bin"}

    def report(*extra):
        command = [sys.executable, "-m", "harness", "report", str(results), *map(str, extra)]
        return subprocess.run(command, capture_output=True, text=True, env=env, cwd=REPO, check=False)

    done = report("--markdown", tmp_path / "r.md", "--json", tmp_path / "r.json")
    assert done.returncode == 0 and "Traceback" not in done.stderr, done.stderr
    assert "Verdicts" in done.stdout and (tmp_path / "r.md").is_file()
    plotted = report("--plot", tmp_path / "r.png")  # a plot needs it, and says so
    assert plotted.returncode == 2 and "Traceback" not in plotted.stderr
    assert "--plot needs matplotlib" in plotted.stderr
