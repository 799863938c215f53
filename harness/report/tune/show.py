"""The tune report of some results: on the console, and tune.md, tune.png and ship/ in the tune folder."""

from __future__ import annotations

from pathlib import Path

from harness.schema import TUNE_SET_FOLDER as SET_FOLDER


def show_tune(directories: list[Path], run_id: str | None, tune_folder: Path) -> None:
    """The tune tables and recommendations on the console; tune.md, tune.png (where matplotlib
    imports: the host's venv, not the bench image) and the recommended files (ship/)."""
    from harness.report.cli import report_console
    from harness.report.load import load_directories
    from harness.report.tune.console import markdown_tune, render_tune
    from harness.report.tune.model import build_tune_tables
    from harness.report.tune.ship import ship

    tables = build_tune_tables(load_directories(directories, run_id=run_id).results)
    render_tune(tables, report_console())
    tune_folder.mkdir(parents=True, exist_ok=True)
    (tune_folder / "tune.md").write_text("\n".join(markdown_tune(tables)) + "\n")
    try:
        from harness.report.tune.chart import write_tune_chart

        chart = write_tune_chart(tables, tune_folder / "tune.png")
    except ImportError:  # matplotlib: in the host's venv only
        chart = None
    shipped = ship(tables, tune_folder / SET_FOLDER, tune_folder / "ship")
    print(
        f"tune report: {tune_folder / 'tune.md'}"
        + (f", {chart}" if chart else " (no tune.png: no matplotlib here)")
    )
    for folder in shipped:
        print(f"recommended: {folder}")
