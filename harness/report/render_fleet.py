"""The fleet tables on the console, drawn with rich from a ``Fleet``; no numbers are computed here.

Each table leaves out whole columns to fit the console (``fit``), never part of an interval.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import partial

from rich.console import Console
from rich.table import Table
from rich.text import Text

from harness.report import fit, fleet_cells
from harness.report.console_tables import OUTCOME_STYLE, headers, report_table
from harness.report.fleet import Fleet, FleetCell

FIT_KIND = "fleet"


def fleet_tables(fleet: Fleet | None, console: Console) -> tuple[list[Table], list[tuple[str, fit.Fit]]]:
    """The two fleet tables as wide as the console allows, and what each left out ("fleet")."""
    if fleet is None:
        return [], []
    speedup_columns = fleet_cells.speedup_columns(fleet)
    speedup, speedup_fit = fit.fit_tables(
        [partial(speedup_table, fleet)], headers(speedup_columns), fleet_cells.SPEEDUP_DROP_ORDER, console
    )
    fastest, fastest_fit = fit.fit_tables(
        [partial(fastest_table, fleet)],
        headers(fleet_cells.fastest_columns(fleet)),
        fleet_cells.FASTEST_DROP_ORDER,
        console,
    )
    return [*speedup, *fastest], [(FIT_KIND, speedup_fit), (FIT_KIND, fastest_fit)]


def speedup_table(fleet: Fleet, shown: Sequence[int] | None = None) -> Table:
    """Each runtime's int8 vs float32 per machine and setting, coloured as its verdict."""
    columns = fleet_cells.speedup_columns(fleet)
    picked = range(len(columns)) if shown is None else shown
    grid = report_table(Text(fleet_cells.SPEEDUP_TITLE, style="bold"), tuple(columns[i] for i in picked))
    grid.caption = Text("\n".join(fleet_cells.speedup_caption(fleet)))
    grid.caption_justify = "left"
    first_runtime = len(columns) - len(fleet.runtimes)
    cells_of = [setting.runtimes for row in fleet.rows for setting in row.settings]
    ends = _machine_ends([len(row.settings) for row in fleet.rows])
    lines = fleet_cells.speedup_rows(fleet)
    for index, (texts, runtime_cells) in enumerate(zip(lines, cells_of, strict=True)):
        styled = [Text(text) for text in texts]
        for offset, cell in enumerate(runtime_cells):
            styled[first_runtime + offset].stylize(_style(cell))
        grid.add_row(*(styled[i] for i in picked), end_section=index in ends)
    return grid


def fastest_table(fleet: Fleet, shown: Sequence[int] | None = None) -> Table:
    """The fastest int8 vs the fastest float32 of any runtime, per machine and setting."""
    columns = fleet_cells.fastest_columns(fleet)
    picked = range(len(columns)) if shown is None else shown
    grid = report_table(Text(fleet_cells.FASTEST_TITLE, style="bold"), tuple(columns[i] for i in picked))
    pairs = [setting.fastest for row in fleet.rows for setting in row.settings if setting.fastest]
    ends = _machine_ends([sum(1 for s in row.settings if s.fastest) for row in fleet.rows])
    for index, (texts, cell) in enumerate(zip(fleet_cells.fastest_rows(fleet), pairs, strict=True)):
        styled = [Text(text) for text in texts]
        styled[-1].stylize(_style(cell))
        grid.add_row(*(styled[i] for i in picked), end_section=index in ends)
    return grid


def _machine_ends(lines_per_machine: list[int]) -> set[int]:
    """The index of each machine's last line but the last machine's: a rule under each block."""
    ends, total = set(), 0
    for count in lines_per_machine[:-1]:
        total += count
        if count:
            ends.add(total - 1)
    return ends


def _style(cell: FleetCell) -> str:
    if not cell.claims or cell.speedup is None:
        return "dim"
    return OUTCOME_STYLE.get(cell.speedup.direction, "dim")
