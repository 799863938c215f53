"""Which columns of a table the console shows: decided by measuring the table with rich.

A rich table wider than the console is squeezed, and a squeezed cell ends in "…", in the middle
of an interval if need be. Instead, whole columns are left out, least needed first in an order
fixed per table (``cells.MACHINE_DROP_ORDER`` and its kin), until the measured table fits; one
line says which columns were left out and how to see them. Tables of one kind (the machine
tables, the comparison's groups) leave out the same columns, so that they read alike.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from rich.console import Console
from rich.measure import Measurement
from rich.table import Table

# The report files that keep every column, whatever the console's width.
EVERY_COLUMN = "--markdown, --csv"
UNBOUNDED = 10_000  # a width no table reaches: measured within it, a table is as wide as it likes

TableBuilder = Callable[[Sequence[int]], Table]  # the table with these columns (indices) only
DropStep = str | tuple[str, ...]  # a column to leave out, or columns that go together


@dataclass(frozen=True)
class Fit:
    """The columns one kind of table shows at one console width, and the ones it left out."""

    shown: tuple[int, ...]  # indices into the table's columns, in column order
    dropped: tuple[str, ...]  # headers left out, in the order they were left out
    full_width: int  # the width the table needs with every column


def fit_tables(
    builders: Sequence[TableBuilder], headers: Sequence[str], drop_order: Sequence[DropStep], console: Console
) -> tuple[list[Table], Fit]:
    """Tables of one kind, each built with the columns the widest of them fits the console with."""
    fits = [fit_columns(headers, drop_order, console.width, _measurer(build, console)) for build in builders]
    if not fits:
        return [], Fit(tuple(range(len(headers))), (), 0)
    narrowest = min(fits, key=lambda fitted: len(fitted.shown))
    shared = dataclasses.replace(narrowest, full_width=max(fitted.full_width for fitted in fits))
    return [build(shared.shown) for build in builders], shared


def fit_columns(
    headers: Sequence[str],
    drop_order: Sequence[DropStep],
    width: int,
    measure: Callable[[tuple[int, ...]], int],
) -> Fit:
    """Leave out the columns of ``drop_order`` one step at a time (a header, or several headers
    that go together) until ``measure(shown)``, the table's width with those columns, is at
    most ``width``.

    Stops when the order is used up: the columns it does not name are the ones the table exists
    for, so past that point the console squeezes them rather than losing them.
    """
    shown = tuple(range(len(headers)))
    full_width = needed = measure(shown)
    dropped: list[str] = []
    for step in drop_order:
        if needed <= width:
            break
        names = [name for name in ((step,) if isinstance(step, str) else step) if name in headers]
        if not names:
            continue
        shown = tuple(index for index in shown if headers[index] not in names)
        dropped += names
        needed = measure(shown)
    return Fit(shown, tuple(dropped), full_width)


def uncut_width(console: Console, table: Table) -> int:
    """The narrowest the table can be with no cell cut: every column that may not wrap as wide
    as its widest cell, every column that may wrap (names, prose) as wide as its longest word."""
    options = console.options.update_width(UNBOUNDED)
    width = console.measure(table, options=options).maximum
    for column in table.columns:
        if column.no_wrap:
            continue
        cells = [column.header, *column.cells]
        widest = max(Measurement.get(console, options, cell).maximum for cell in cells)
        longest_word = max(Measurement.get(console, options, cell).minimum for cell in cells)
        width -= widest - longest_word
    return width


def dropped_line(fits: Sequence[tuple[str, Fit]], width: int) -> str:
    """One line for the whole report: the columns each kind of table ("machine tables") left out
    to fit ``width`` columns, and how to see them; "" when every table fits whole."""
    by_kind: dict[str, dict[str, None]] = {}
    for kind, fitted in fits:
        for header in fitted.dropped:
            by_kind.setdefault(kind, {})[header] = None
    if not by_kind:
        return ""
    if len(by_kind) == 1:
        left_out = ", ".join(next(iter(by_kind.values())))
    else:
        left_out = "; ".join(f"{', '.join(headers)} ({kind})" for kind, headers in by_kind.items())
    needed = max(fitted.full_width for _, fitted in fits)
    return f"Left out at {width} columns: {left_out} (shown by COLUMNS={needed}, {EVERY_COLUMN})."


def _measurer(build: TableBuilder, console: Console) -> Callable[[tuple[int, ...]], int]:
    return lambda shown: uncut_width(console, build(shown))
