"""The chart: speed-up of each variant over its float baseline, per machine, with 95% intervals.

One row of panels per (batch, threads). Native machines share the left panel;
emulated machines get their own panel on the right, with their own axis: a
QEMU ratio (float code slowed far more than int8 code) must never sit on the
same scale as a CPU measurement. Ratios use a log axis, so 0.5× and 2× are the
same distance from 1. Uses matplotlib's object API on an Agg canvas: no pyplot
state and no display.
"""

from __future__ import annotations

from pathlib import Path

from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, LogLocator

from harness.report.analysis import MachineTable
from harness.report.document import Report
from harness.report.stats import MIN_SAMPLES
from harness.schema import VARIANTS

PANEL_WIDTH_IN = 7.0
PANEL_HEIGHT_IN = 4.2
NATIVE_TITLE = "native"
EMULATED_TITLE = "EMULATED (QEMU): ratios measure the emulator, not an arm64 CPU"


def machine_legend(table: MachineTable) -> str:
    """Legend entry of one machine; emulated ones say so."""
    if table.emulated is not False:
        mode = "EMULATED" if table.emulated else "EMULATION UNKNOWN"
        return f"{table.arch} on {table.host}, {mode} (not a CPU measurement)"
    return f"{table.arch} on {table.host} ({table.isa})"


def plotted_variants() -> list[str]:
    """Every variant that has a float baseline other than itself, in schema order."""
    return [name for name, (_, _, baseline) in VARIANTS.items() if name != baseline]


def build_figure(report: Report) -> Figure:
    """A grid: one row per (batch, threads), a native column and (if any) an emulated column."""
    settings = sorted({setting for table in report.tables for setting in table.settings()})
    groups = [
        (title, tables)
        for title, tables in (
            (NATIVE_TITLE, [t for t in report.tables if t.emulated is False]),
            (EMULATED_TITLE, [t for t in report.tables if t.emulated is not False]),
        )
        if tables
    ]
    columns = max(1, len(groups))
    figure = Figure(figsize=(PANEL_WIDTH_IN * columns, PANEL_HEIGHT_IN * max(1, len(settings))))
    FigureCanvasAgg(figure)
    for row_index, (batch, threads) in enumerate(settings):
        for column_index, (title, tables) in enumerate(groups):
            axes = figure.add_subplot(len(settings), columns, row_index * columns + column_index + 1)
            _draw_panel(axes, tables, batch, threads)
            axes.set_title(f"{title}\nbatch {batch}, {threads} threads: >1× is faster than float", fontsize=9)
    figure.suptitle(
        "quantbench: speed-up over the float baseline of the same runtime (95% bootstrap CI)\n"
        "tf-fakequant = float kernels plus quantize ops (the 2018 setup), not int8",
        fontsize=10,
    )
    figure.tight_layout()
    return figure


def _draw_panel(axes: Axes, tables: list[MachineTable], batch: int, threads: int) -> None:
    """One bar per machine and variant; machines without an interval say why instead."""
    variants = plotted_variants()
    width = 0.8 / max(1, len(tables))
    untimed: list[str] = []
    missing: list[str] = []
    for slot, table in enumerate(tables):
        if (batch, threads) not in table.settings():
            untimed.append(table.label)
            continue
        positions, heights, errors = [], [], ([], [])
        for position, variant in enumerate(variants):
            row = table.find(variant, batch, threads)
            if row is None or row.speedup is None or not row.speedup.has_interval:
                continue
            positions.append(position + (slot - (len(tables) - 1) / 2) * width)
            heights.append(row.speedup.ratio)
            errors[0].append(row.speedup.ratio - row.speedup.low)
            errors[1].append(row.speedup.high - row.speedup.ratio)
        if not positions:
            missing.append(table.label)
            continue
        axes.bar(  # bars grow from 1×: up is faster than float, down is slower
            positions,
            [height - 1.0 for height in heights],
            bottom=1.0,
            width=width,
            yerr=errors,
            capsize=3,
            label=machine_legend(table),
            alpha=0.45 if table.emulated else 0.9,
            hatch="//" if table.emulated else None,
        )
    axes.set_yscale("log")
    axes.yaxis.set_major_locator(LogLocator(base=10, subs=(1.0, 2.0, 5.0)))
    axes.yaxis.set_major_formatter(FuncFormatter(lambda value, _: f"{value:g}×"))
    axes.yaxis.set_minor_formatter(FuncFormatter(lambda *_: ""))
    axes.axhline(1.0, color="black", linewidth=0.8)
    axes.set_xticks(range(len(variants)), variants, rotation=20, ha="right", fontsize=8)
    axes.set_ylabel("speed-up vs float (×, log)")
    notes = [f"not timed at batch {batch}, {threads} threads: {name}" for name in untimed]
    notes += [f"no interval (failed, or fewer than {MIN_SAMPLES} timings): {name}" for name in missing]
    if notes:
        axes.text(0.02, 0.5, "\n".join(notes), transform=axes.transAxes, fontsize=7, va="center", wrap=True)
    if axes.get_legend_handles_labels()[0]:
        axes.legend(fontsize=7, loc="best")


def write_plot(report: Report, path: Path) -> None:
    """Render the chart to a PNG file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    build_figure(report).savefig(path, dpi=120)
