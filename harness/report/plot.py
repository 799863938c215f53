"""The chart: speed-up of each variant over its float baseline, per machine, with 95% intervals.

Uses matplotlib's object API on an Agg canvas, so no pyplot state and no
display are involved.
"""

from __future__ import annotations

from pathlib import Path

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from harness.report.analysis import MachineTable
from harness.report.document import Report
from harness.schema import VARIANTS

SUBPLOT_WIDTH_IN = 7.0
SUBPLOT_HEIGHT_IN = 4.2


def machine_legend(table: MachineTable) -> str:
    """Legend entry of one machine; emulated ones say so."""
    if table.emulated:
        return f"{table.arch} on {table.host}, EMULATED (not a CPU measurement)"
    return f"{table.arch} on {table.host} ({table.isa})"


def build_figure(report: Report) -> Figure:
    """One panel per (batch, threads); one bar per machine and non-baseline variant."""
    settings = sorted({setting for table in report.tables for setting in table.settings()})
    figure = Figure(figsize=(SUBPLOT_WIDTH_IN, SUBPLOT_HEIGHT_IN * max(1, len(settings))))
    FigureCanvasAgg(figure)
    variants = [name for name, (_, _, baseline) in VARIANTS.items() if name != baseline]
    for index, (batch, threads) in enumerate(settings, start=1):
        axes = figure.add_subplot(len(settings), 1, index)
        width = 0.8 / max(1, len(report.tables))
        for slot, table in enumerate(report.tables):
            positions, heights, errors = [], [], ([], [])
            for position, variant in enumerate(variants):
                row = table.find(variant, batch, threads)
                if row is None or row.speedup is None:
                    continue
                positions.append(position + (slot - (len(report.tables) - 1) / 2) * width)
                heights.append(row.speedup.ratio)
                errors[0].append(row.speedup.ratio - row.speedup.low)
                errors[1].append(row.speedup.high - row.speedup.ratio)
            axes.bar(
                positions,
                heights,
                width=width,
                yerr=errors,
                capsize=3,
                label=machine_legend(table),
                alpha=0.35 if table.emulated else 0.9,
                hatch="//" if table.emulated else None,
            )
        axes.axhline(1.0, color="black", linewidth=0.8)
        axes.set_xticks(range(len(variants)), variants, rotation=20, ha="right", fontsize=8)
        axes.set_ylabel("speed-up vs float (×)")
        title = f"batch {batch}, {threads} threads: >1 is faster than float of the same runtime"
        axes.set_title(title, fontsize=9)
        axes.legend(fontsize=7, loc="best")
    figure.suptitle(
        "quantbench: speed-up over the float baseline (95% bootstrap CI)\n"
        "tf-fakequant = float kernels plus quantize ops (the 2018 setup), not int8",
        fontsize=9,
    )
    figure.tight_layout()
    return figure


def write_plot(report: Report, path: Path) -> None:
    """Render the chart to a PNG file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    build_figure(report).savefig(path, dpi=120)
