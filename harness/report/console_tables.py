"""The report's rich tables: one style for every console table, and which columns may wrap."""

from __future__ import annotations

from rich import box
from rich.table import Table
from rich.text import Text

from harness.report.stats import FASTER, NO_DIFFERENCE, SLOWER

OUTCOME_STYLE = {FASTER: "green", SLOWER: "red", NO_DIFFERENCE: "yellow"}
# Names and prose wrap; every other column holds numbers and never does (``fit`` leaves whole
# columns out instead of cutting them).
WRAPPING_COLUMNS = ("machine", "significance", "int8 ISA", "speed-up vs its float32 [95% CI]", "outside int8")


def report_table(title: Text, columns: tuple[tuple[str, str], ...]) -> Table:
    """A table in the report's style, with these (header, justify) columns."""
    grid = Table(title=title, box=box.SIMPLE_HEAD, padding=(0, 0), show_edge=False, title_justify="left")
    for name, justify in columns:
        grid.add_column(name, justify=justify, no_wrap=name not in WRAPPING_COLUMNS)
    return grid


def headers(columns: tuple[tuple[str, str], ...]) -> list[str]:
    """The header of each column, as ``fit`` names them."""
    return [name for name, _ in columns]
