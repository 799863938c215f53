"""The fleet chart: each runtime's int8-vs-float32 speed-up per machine, with its 95% interval.

One panel per batch (per input shape and batch, when the report names shapes: a 32×32 and a
224×224 ratio never share a panel); in it, a group of bars per native machine and thread count (a machine
with 1 CPU and one with 2 each at their own count sit side by side), one bar per runtime
in the colour ``plot`` gives that runtime, error bars from the verdict's interval, and a line at
1×. A bar whose verdict is withheld as unstable is hatched and pale: drawn, but no claim. A cell
with no interval (too few rounds or timings, failed, not measured) has no bar and is said in a
line under the panels. Emulated machines are not in the fleet at all (``fleet``). Uses
matplotlib's object API on an Agg canvas, as ``plot`` does.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.layout_engine import ConstrainedLayoutEngine
from matplotlib.patches import Patch
from matplotlib.ticker import FuncFormatter, LogLocator

from harness.report import fleet_cells, fmt
from harness.report.fleet import Fleet, FleetCell, FleetRow, FleetSetting
from harness.report.plot import NOTE_CHARS_PER_IN, NOTE_LINE_IN, finish_figure, runtime_colours
from harness.report.verdicts import UNSTABLE

PANEL_HEIGHT_IN = 4.0
WIDTH_PER_MACHINE_IN = 1.6
MIN_WIDTH_IN = 7.0
TITLE_HEIGHT_IN = 0.5
UNSTABLE_HATCH = "//"
UNSTABLE_ALPHA = 0.4


Panel = tuple[int, int]  # (input size, batch)


def panels(fleet: Fleet) -> list[Panel]:
    """Every (input shape, batch) any machine of the fleet ran, one panel each."""
    return sorted({(s.input_size, s.batch) for row in fleet.rows for s in row.settings})


def panel_title(fleet: Fleet, panel: Panel) -> str:
    """ "batch 1", or "224×224, batch 1" when the report names shapes."""
    input_size, batch = panel
    return (f"{fmt.shape(input_size)}, " if fleet.shapes_named else "") + f"batch {batch}"


def columns(fleet: Fleet, panel: Panel) -> list[tuple[FleetRow, FleetSetting]]:
    """The groups of bars of one panel: each machine at each thread count it ran that shape and
    batch at."""
    return [
        (row, setting)
        for row in fleet.rows
        for setting in sorted(row.settings, key=lambda s: s.threads)
        if (setting.input_size, setting.batch) == panel
    ]


def drawn(cell: FleetCell) -> bool:
    """A bar needs an interval; one without is a line under the panels."""
    return not cell.note and cell.speedup is not None and cell.speedup.has_interval


def missing_lines(fleet: Fleet) -> list[str]:
    """One line per machine and setting with a runtime that has no bar, and why."""
    lines = []
    for row in fleet.rows:
        for setting in row.settings:
            missing = [
                f"{cell.label} {fleet_cells.speedup_text(cell)}"
                for cell in setting.runtimes
                if not drawn(cell)
            ]
            if missing:
                shape = f"{fmt.shape(setting.input_size)}, " if fleet.shapes_named else ""
                where = f"{row.name}, {shape}batch {setting.batch}, {setting.threads} threads"
                lines.append(f"{where}: no bar for {'; '.join(missing)}")
    return lines + [f"left out: {line}" for line in fleet.left_out]


def build_fleet_figure(fleet: Fleet) -> Figure:
    """A panel per setting, stacked, and under them what has no bar."""
    panels_drawn = panels(fleet)
    widest = max((len(columns(fleet, panel)) for panel in panels_drawn), default=1)
    width_in = max(MIN_WIDTH_IN, WIDTH_PER_MACHINE_IN * widest + 2.0)
    notes = [textwrap.fill(line, int(width_in * NOTE_CHARS_PER_IN)) for line in missing_lines(fleet)]
    notes_in = NOTE_LINE_IN * sum(note.count("\n") + 1 for note in notes) + (0.2 if notes else 0.0)
    height_in = TITLE_HEIGHT_IN + PANEL_HEIGHT_IN * len(panels_drawn) + notes_in
    notes_share = notes_in / height_in
    figure = Figure(
        figsize=(width_in, height_in),
        layout=ConstrainedLayoutEngine(rect=(0.0, notes_share, 1.0, 1.0 - notes_share)),
    )
    FigureCanvasAgg(figure)
    for index, panel in enumerate(panels_drawn, 1):
        _draw_panel(figure.add_subplot(len(panels_drawn), 1, index), fleet, panel)
    finish_figure(
        figure,
        "quantbench fleet: int8 vs float32 of the same runtime, per machine (95% interval)\n"
        "native machines only; >1× is faster than float32",
        notes,
        height_in,
    )
    return figure


def _draw_panel(axes: Axes, fleet: Fleet, panel: Panel) -> None:
    colours = runtime_colours()
    width = 0.8 / max(1, len(fleet.runtimes))
    shown: dict[str, str] = {}  # runtime name -> label, of the bars drawn
    any_unstable = False
    groups = columns(fleet, panel)
    for slot, runtime in enumerate(fleet.runtimes):
        offset = (slot - (len(fleet.runtimes) - 1) / 2) * width
        for position, (_, setting) in enumerate(groups):
            cell = setting.runtimes[slot]
            if not drawn(cell) or cell.speedup is None:
                continue
            speedup, unstable = cell.speedup, cell.outcome == UNSTABLE
            any_unstable |= unstable
            axes.bar(  # bars grow from 1×: up is faster than float32, down is slower
                position + offset,
                speedup.ratio - 1.0,
                bottom=1.0,
                width=width,
                yerr=([speedup.ratio - speedup.low], [speedup.high - speedup.ratio]),
                capsize=3,
                color=colours.get(cell.name, "grey"),
                edgecolor="black",
                linewidth=0.4,
                hatch=UNSTABLE_HATCH if unstable else None,
                alpha=UNSTABLE_ALPHA if unstable else 0.9,
            )
            shown[cell.name] = runtime
    handles = [Patch(color=colours.get(name, "grey"), label=label) for name, label in shown.items()]
    if any_unstable:
        handles.append(
            Patch(facecolor="white", edgecolor="black", hatch=UNSTABLE_HATCH, label="unstable: no claim")
        )
    if handles:
        axes.legend(handles=handles, fontsize=7, loc="best")
    _style_axes(axes, groups, panel_title(fleet, panel))


def _style_axes(axes: Axes, groups: list[tuple[FleetRow, FleetSetting]], title: str) -> None:
    axes.set_yscale("log")
    axes.yaxis.set_major_locator(LogLocator(base=10, subs=(1.0, 2.0, 5.0)))
    axes.yaxis.set_major_formatter(FuncFormatter(lambda value, _: f"{value:g}×"))
    axes.yaxis.set_minor_formatter(FuncFormatter(lambda *_: ""))
    axes.axhline(1.0, color="black", linewidth=0.8)
    labels = [
        f"{row.name}\n{row.isa}\n{s.threads} thread{'s' if s.threads != 1 else ''}" for row, s in groups
    ]
    axes.set_xticks(range(len(groups)), labels, fontsize=8)
    axes.set_xlim(-0.6, len(groups) - 0.4)
    axes.set_ylabel("int8 speed-up vs float32 (×, log)")
    axes.set_title(title, fontsize=9)


def write_fleet_plot(fleet: Fleet, path: Path) -> None:
    """Render the fleet chart to a PNG (or SVG, PDF) file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    build_fleet_figure(fleet).savefig(path, dpi=120)
