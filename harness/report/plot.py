"""The chart: speed-up of each variant over its float baseline, per machine, with 95% intervals.

One panel per (input shape, batch, threads) and kind of machine (native, emulated) that has an interval to
draw. What has none (a quick emulated pass times each variant once: a point ratio, no interval;
a failed machine; a batch a machine never ran) is a line of text under the panels, never an
empty axis. Native machines share a panel; emulated machines get their own, on their own axis:
a QEMU ratio (float code slowed far more than int8 code) must never sit on the same scale as a
CPU measurement. A bar's colour is its runtime, the same in every panel; machines sharing a
panel differ by hatching. Ratios use a log axis, so 0.5× and 2× are the same distance from 1.
Uses matplotlib's object API on an Agg canvas: no pyplot state and no display.
"""

from __future__ import annotations

import textwrap
from dataclasses import dataclass
from pathlib import Path

from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.layout_engine import ConstrainedLayoutEngine
from matplotlib.patches import Patch
from matplotlib.ticker import FuncFormatter, LogLocator

from harness.report import fmt
from harness.report.analysis import MachineTable, Row, Setting
from harness.report.document import Report
from harness.report.stats import MIN_SAMPLES
from harness.runtime_registry import runtimes
from harness.schema import VARIANTS

PANEL_WIDTH_IN = 7.0
PANEL_HEIGHT_IN = 4.2
TITLE_HEIGHT_IN = 0.5
NOTE_LINE_IN = 0.17  # one line of the notes under the panels (font size NOTE_FONT)
NOTE_FONT = 8
NOTE_CHARS_PER_IN = 15  # characters of NOTE_FONT text per inch of figure width
NATIVE_TITLE = "native"
EMULATED_TITLE = "EMULATED (QEMU): ratios measure the emulator, not an arm64 CPU"
MACHINE_HATCHES = ("", "//", "..", "xx", "\\\\")  # the machines of one panel, in table order
EMULATED_ALPHA = 0.45
NO_INTERVAL = f"no interval (failed, or fewer than {MIN_SAMPLES} timings or one round)"


@dataclass(frozen=True)
class Panel:
    """One axis: the machines of one kind (native or emulated) at one (input shape, batch, threads)."""

    title: str  # NATIVE_TITLE or EMULATED_TITLE
    setting: Setting
    tables: list[MachineTable]  # every machine of its kind, so a machine keeps its hatch throughout

    @property
    def batch(self) -> int:
        return self.setting.batch

    @property
    def threads(self) -> int:
        return self.setting.threads

    def drawn(self) -> list[MachineTable]:
        """The machines with at least one interval here."""
        return [table for table in self.tables if _bars(table, self.setting)]


def machine_legend(table: MachineTable) -> str:
    """Legend entry of one machine; emulated ones say so."""
    if table.emulated is not False:
        mode = "EMULATED" if table.emulated else "EMULATION UNKNOWN"
        return f"{table.arch} on {table.host}, {mode} (not a CPU measurement)"
    return f"{table.arch} on {table.host} ({table.isa})"


def plotted_variants() -> list[str]:
    """Every variant that has a float baseline other than itself, in schema order."""
    return [name for name, (_, _, baseline) in VARIANTS.items() if name != baseline]


def runtime_colours() -> dict[str, str]:
    """Runtime family -> its colour, in the runtimes' declared order: the same in every panel."""
    return {runtime.name: f"C{index % 10}" for index, runtime in enumerate(runtimes())}


def panels(report: Report) -> list[Panel]:
    """Every panel with something to draw: native ones first, then emulated, by setting."""
    settings = sorted({setting for table in report.tables for setting in table.shaped_settings()})
    kinds = (
        (NATIVE_TITLE, [t for t in report.tables if t.emulated is False]),
        (EMULATED_TITLE, [t for t in report.tables if t.emulated is not False]),
    )
    found = [Panel(title, setting, tables) for title, tables in kinds for setting in settings]
    return [panel for panel in found if panel.drawn()]


def missing_lines(report: Report) -> list[str]:
    """One line per machine that has a setting with no bar: failed or interval-less, or not timed."""
    settings = sorted({setting for table in report.tables for setting in table.shaped_settings()})
    lines = []
    for table in report.tables:
        no_interval = [s for s in table.shaped_settings() if not _bars(table, s)]
        untimed = [s for s in settings if s not in table.shaped_settings()]
        named = table.shapes_named
        parts = [f"{NO_INTERVAL} at {_settings(no_interval, named)}"] if no_interval else []
        parts += [f"not timed at {_settings(untimed, named)}"] if untimed else []
        if parts:
            lines.append(f"{machine_legend(table)}: {'; '.join(parts)}.")
    return lines


def build_figure(report: Report) -> Figure:
    """The panels that have intervals, in a grid (a row per setting, a column per kind of
    machine), and under them a line for each machine that is missing from a panel."""
    drawn = panels(report)
    settings = list(dict.fromkeys(panel.setting for panel in drawn))
    titles = [title for title in (NATIVE_TITLE, EMULATED_TITLE) if any(p.title == title for p in drawn)]
    width_in = PANEL_WIDTH_IN * max(1, len(titles))
    notes = [textwrap.fill(line, int(width_in * NOTE_CHARS_PER_IN)) for line in missing_lines(report)]
    notes_in = NOTE_LINE_IN * sum(note.count("\n") + 1 for note in notes) + (0.2 if notes else 0.0)
    height_in = TITLE_HEIGHT_IN + PANEL_HEIGHT_IN * len(settings) + notes_in
    notes_share = notes_in / height_in  # the bottom of the figure, kept for the notes
    figure = Figure(
        figsize=(width_in, height_in),
        layout=ConstrainedLayoutEngine(rect=(0.0, notes_share, 1.0, 1.0 - notes_share)),
    )
    FigureCanvasAgg(figure)
    colours = runtime_colours()
    for panel in drawn:
        index = settings.index(panel.setting) * len(titles) + titles.index(panel.title) + 1
        _draw_panel(figure.add_subplot(len(settings), len(titles), index), panel, colours)
    finish_figure(
        figure,
        "quantbench: speed-up over the float baseline of the same runtime (95% interval)\n"
        "tf-fakequant = float kernels plus quantize ops (the 2018 setup), not int8",
        notes,
        height_in,
    )
    return figure


def finish_figure(figure: Figure, title: str, notes: list[str], height_in: float) -> None:
    """The title over the panels and the notes (already wrapped) in the strip under them."""
    figure.suptitle(title, fontsize=10)
    if notes:
        figure.text(0.01, 0.1 / height_in, "\n".join(notes), fontsize=NOTE_FONT, va="bottom", ha="left")


def _draw_panel(axes: Axes, panel: Panel, colours: dict[str, str]) -> None:
    """One bar per machine and variant with an interval, coloured by runtime, hatched by machine."""
    variants = plotted_variants()
    width = 0.8 / max(1, len(panel.tables))
    families: dict[str, None] = {}
    machines = []
    for slot, table in enumerate(panel.tables):
        bars = _bars(table, panel.setting)
        if not bars:
            continue
        hatch = MACHINE_HATCHES[slot % len(MACHINE_HATCHES)]
        offset = (slot - (len(panel.tables) - 1) / 2) * width
        axes.bar(  # bars grow from 1×: up is faster than float, down is slower
            [variants.index(row.variant) + offset for row in bars],
            [row.speedup.ratio - 1.0 for row in bars],
            bottom=1.0,
            width=width,
            yerr=(
                [row.speedup.ratio - row.speedup.low for row in bars],
                [row.speedup.high - row.speedup.ratio for row in bars],
            ),
            capsize=3,
            color=[colours.get(row.family, "grey") for row in bars],
            edgecolor="black" if hatch else None,
            linewidth=0.4,
            hatch=hatch or None,
            alpha=EMULATED_ALPHA if table.emulated is not False else 0.9,
        )
        families.update(dict.fromkeys(row.family for row in bars))
        machines.append(Patch(facecolor="white", edgecolor="black", hatch=hatch, label=machine_legend(table)))
    labels = {runtime.name: runtime.label for runtime in runtimes()}
    handles = [Patch(color=colours.get(name, "grey"), label=labels.get(name, name)) for name in families]
    axes.legend(handles=handles + machines, fontsize=7, loc="best")
    _style_axes(axes, variants, panel)


def _style_axes(axes: Axes, variants: list[str], panel: Panel) -> None:
    axes.set_yscale("log")
    axes.yaxis.set_major_locator(LogLocator(base=10, subs=(1.0, 2.0, 5.0)))
    axes.yaxis.set_major_formatter(FuncFormatter(lambda value, _: f"{value:g}×"))
    axes.yaxis.set_minor_formatter(FuncFormatter(lambda *_: ""))
    axes.axhline(1.0, color="black", linewidth=0.8)
    axes.set_xticks(range(len(variants)), variants, rotation=20, ha="right", fontsize=8)
    axes.set_ylabel("speed-up vs float (×, log)")
    named = any(table.shapes_named for table in panel.tables)
    axes.set_title(
        f"{panel.title}\n{_settings([panel.setting], named)}: >1× is faster than float", fontsize=9
    )


def _bars(table: MachineTable, setting: Setting) -> list[Row]:
    """The rows of one setting that have an interval to draw, in plotted order."""
    rows = [table.find_at(variant, setting) for variant in plotted_variants()]
    return [row for row in rows if row is not None and row.speedup is not None and row.speedup.has_interval]


def _settings(settings: list[Setting], named: bool) -> str:
    """ "batch 1, 2 threads and batch 64, 2 threads", each after its shape when shapes are named."""
    return " and ".join(
        (f"{fmt.shape(s.input_size)}, " if named else "") + f"batch {s.batch}, {s.threads} threads"
        for s in settings
    )


def write_plot(report: Report, path: Path) -> None:
    """Render the chart to a PNG file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    build_figure(report).savefig(path, dpi=120)
