"""``python -m harness report RESULTS_DIR...``: the console report and its files.

Host side only: reads result JSON; never imports TensorFlow, LiteRT or docker.
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from harness.errors import UserError

if TYPE_CHECKING:
    from rich.console import Console

    from harness.report.document import Report

PLOT_SUFFIXES = (".png", ".svg", ".pdf")
FLEET_NAME = "fleet"  # fleet.png and fleet.csv, beside the chart and the CSV
# Width when the report goes to a file or pipe (e.g. `make report | tee`) and $COLUMNS is not set.
PIPE_WIDTH = 120


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "results",
        nargs="+",
        type=Path,
        metavar="RESULTS_DIR",
        help="folder(s) of result JSON, searched recursively; several are merged into one report "
        "(e.g. results/ folders copied back from runs on other machines). Every run is read: for "
        "each (host, arch, variant, input shape, batch, threads) the newest complete run is used, so "
        "machines measured in separate runs meet in one report, and two or more native machines add "
        "the fleet view (a table across machines)",
    )
    parser.add_argument(
        "--compare",
        action="append",
        type=Path,
        metavar="OLD_DIR",
        help="an older result set to compare with (may be repeated to merge several)",
    )
    parser.add_argument(
        "--run-id",
        metavar="ID",
        help="report only the results of this run (default: every run, merged as above)",
    )
    parser.add_argument(
        "--model",
        metavar="NAME",
        help="report the results of this model (e.g. resnet50, mobilenetv2.keras; NAME@SHA256-PREFIX "
        "for one of two files of one name). A report covers one model: by default the model of the "
        "newest run, and a note names the others",
    )
    parser.add_argument("--markdown", type=Path, metavar="FILE", help="also write the report as markdown")
    parser.add_argument(
        "--csv",
        type=Path,
        metavar="FILE",
        help="also write one CSV line per result (and, with a fleet, fleet.csv beside it)",
    )
    parser.add_argument("--json", type=Path, metavar="FILE", help="also write the whole report as JSON")
    parser.add_argument(
        "--plot",
        type=Path,
        metavar="FILE.png",
        help="also write a speed-up chart (and, with a fleet, fleet.png beside it)",
    )


def run(args: argparse.Namespace) -> int:
    if args.plot is not None and args.plot.suffix.lower() not in PLOT_SUFFIXES:
        raise UserError(f"--plot {args.plot} needs a .png, .svg or .pdf file name.")
    report = show_report(args.results, run_id=args.run_id, compare=args.compare, model=args.model)
    write_files(report, args)
    return 0


def show_report(
    directories: list[Path],
    *,
    run_id: str | None = None,
    compare: list[Path] | None = None,
    native_only: bool = False,
    model: str | None = None,
) -> Report:
    """Load, check and merge the results (of run_id only, when given) of one model (``model``, else
    the newest run's; the --compare set is read for the same model), print the report, return it.

    ``host run`` ends with this too, so its report is the one ``harness report`` prints; with
    ``native_only`` it first shows this machine's answer while the emulated check still runs.
    """
    # Imported here so `python -m harness --help` stays fast and light.
    from harness.report.compare import compare_results
    from harness.report.document import build_report
    from harness.report.load import load_directories
    from harness.report.render import render_report

    loaded = load_directories(directories, run_id=run_id, model=model)
    comparison = None
    if compare:
        old = load_directories(compare, role="--compare", model=loaded.results[0].model_name)
        comparison = compare_results(old, loaded, [str(path) for path in compare])
    if native_only:
        loaded = replace(loaded, results=[r for r in loaded.results if r.emulated is False])
    sources = [str(path) + (f" (run {run_id})" if run_id else "") for path in directories]
    if native_only:
        sources = [f"{source}, native results (the emulated check follows)" for source in sources]
    report = build_report(loaded, sources, comparison)
    render_report(report, report_console())
    return report


def report_console() -> Console:
    """The console to print on: as wide as the terminal, or as $COLUMNS says (rich reads it);
    PIPE_WIDTH in a file or pipe without $COLUMNS (rich's own default there is 80)."""
    from rich.console import Console

    console = Console()
    if not console.is_terminal and not os.environ.get("COLUMNS", "").isdigit():
        console = Console(width=PIPE_WIDTH)
    return console


def beside(path: Path, name: str) -> Path:
    """The file ``name`` (with path's suffix) in path's folder: fleet.png beside report.png; when
    path itself has that name, ``<stem>-<name>`` instead, so that neither overwrites the other."""
    other = path.with_name(f"{name}{path.suffix}")
    return other if other != path else path.with_name(f"{path.stem}-{name}{path.suffix}")


def _write_plot(report: Report, path: Path) -> None:
    try:
        # matplotlib: in the host's venv, not in the bench image
        from harness.report import fleet_plot, plot
    except ImportError as error:
        raise UserError(
            f"--plot needs matplotlib ({error}); leave --plot out here, or run the report in the "
            "host's .venv (make venv)."
        ) from None
    plot.write_plot(report, path)
    if report.fleet is not None:
        fleet_plot.write_fleet_plot(report.fleet, beside(path, FLEET_NAME))


def _write_csv(report: Report, path: Path) -> None:
    from harness.report import export

    export.write_text(path, export.to_csv(report))
    if report.fleet is not None:
        export.write_text(beside(path, FLEET_NAME), export.to_fleet_csv(report.fleet))


def write_files(report: Report, args: argparse.Namespace) -> None:
    """Write each file that was asked for (with a fleet, fleet.png and fleet.csv beside the chart
    and the CSV); a path that cannot be written is a user error."""
    from harness.report import export

    writers: list[tuple[Path | None, Callable[[Path], None]]] = [
        (args.markdown, lambda path: export.write_text(path, export.to_markdown(report))),
        (args.csv, lambda path: _write_csv(report, path)),
        (args.json, lambda path: export.write_text(path, export.to_json(report))),
        (args.plot, lambda path: _write_plot(report, path)),
    ]
    for path, write in writers:
        if path is None:
            continue
        try:
            write(path)
        except OSError as error:
            reason = error.strerror or error
            raise UserError(f"cannot write {path} ({reason}); check the folder is writable.") from None
