"""The "shape" column every table gains when the report names input shapes, before its "batch".

A report whose results are all at the seed's shape shows no such column (``fmt.shapes_named``):
it reads as before schema 5. Otherwise every row of every table says its shape, "32×32" or
"224×224", so that rows of two shapes can never be taken for one another.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TypeVar

from harness.report import fmt

SHAPE_COLUMN = ("shape", "right")
BEFORE = "batch"  # the shape goes right before the batch: the two make a setting

Cell = TypeVar("Cell")
Columns = tuple[tuple[str, str], ...]


def with_shape(columns: Columns, named: bool) -> Columns:
    """columns, with SHAPE_COLUMN before their "batch" when shapes are named."""
    if not named:
        return columns
    at = _position(columns)
    return (*columns[:at], SHAPE_COLUMN, *columns[at:])


def with_shape_cell(cells: Sequence[Cell], columns: Columns, shape: Cell, named: bool) -> list[Cell]:
    """cells of a row of ``columns`` (without the shape), with ``shape`` where with_shape puts its
    column; unchanged when shapes are not named."""
    if not named:
        return list(cells)
    at = _position(columns)
    return [*cells[:at], shape, *cells[at:]]


def shape_cell(input_size: int) -> str:
    """ "224×224"."""
    return fmt.shape(input_size)


def _position(columns: Columns) -> int:
    headers = [name for name, _ in columns]
    return headers.index(BEFORE) if BEFORE in headers else 0
