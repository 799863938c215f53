"""The input-shape section on the console, drawn with rich from ``ShapeMachine``s; no numbers are
computed here.

Each table leaves out whole columns to fit the console (``fit``), never part of an interval.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import partial

from rich.console import Console, Group, RenderableType
from rich.table import Table
from rich.text import Text

from harness.report import fit, shape_cells
from harness.report.console_tables import OUTCOME_STYLE, headers, report_table
from harness.report.shapes import MAC_BOUND, WEIGHT_BOUND, ShapeMachine
from harness.report.verdicts import UNSTABLE

FIT_KIND = "input shapes"
BOUND_STYLE = {WEIGHT_BOUND: "bold", MAC_BOUND: ""}


def shape_tables(
    machines: Sequence[ShapeMachine], console: Console
) -> tuple[list[RenderableType], list[tuple[str, fit.Fit]]]:
    """Per machine its table (as wide as the console allows) and its answer under it, and what
    the tables left out."""
    grids, fitted = fit.fit_tables(
        [partial(shape_table, machine) for machine in machines],
        headers(shape_cells.COLUMNS),
        shape_cells.DROP_ORDER,
        console,
    )
    blocks: list[RenderableType] = [
        Group(grid, Text(machine.answer, style="bold")) for grid, machine in zip(grids, machines, strict=True)
    ]
    return blocks, [(FIT_KIND, fitted)] if machines else []


def shape_table(machine: ShapeMachine, shown: Sequence[int] | None = None) -> Table:
    """One machine's settings and runtimes: what a float32 call costs, and where int8 lands."""
    columns = shape_cells.COLUMNS
    picked = range(len(columns)) if shown is None else shown
    grid = report_table(Text(shape_cells.title(machine), style="bold"), tuple(columns[i] for i in picked))
    grid.caption = Text("\n".join(shape_cells.caption(machine)))
    grid.caption_justify = "left"
    comparisons = [comparison for shaped in machine.settings for comparison in shaped.comparisons]
    ends = shape_cells.block_ends(machine)
    ratio_at = len(columns) - 2
    for index, (texts, comparison) in enumerate(zip(shape_cells.rows(machine), comparisons, strict=True)):
        styled = [Text(text) for text in texts]
        claims = comparison.speedup is not None and comparison.speedup.has_interval
        if claims and comparison.outcome != UNSTABLE:
            styled[ratio_at].stylize(OUTCOME_STYLE.get(comparison.speedup.direction, "dim"))
        else:
            styled[ratio_at].stylize("dim")
        style = BOUND_STYLE.get(comparison.bound, "dim")
        if style:
            styled[-1].stylize(style)
        grid.add_row(*(styled[i] for i in picked), end_section=index in ends)
    return grid
