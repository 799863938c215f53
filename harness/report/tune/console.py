"""The tune tables and recommendations on the console and in markdown; no numbers computed here."""

from __future__ import annotations

from collections.abc import Sequence

from rich.console import Console
from rich.text import Text

from harness.report import fmt
from harness.report.console_tables import OUTCOME_STYLE, report_table
from harness.report.tune.model import TIMED, CandidateLine, TuneTable

COLUMNS = (
    ("candidate", "left"),
    ("speed-up vs its float32 [95% CI]", "right"),
    ("rnd", "right"),
    ("accuracy", "right"),
    ("gate", "left"),
    ("outside int8", "left"),
)
TITLE = "Which int8 to ship"


def cells(line: CandidateLine) -> tuple[str, ...]:
    """One row's text: a candidate not timed says why in the speed-up column."""
    if line.status == TIMED:
        speed = fmt.ratio(line.speedup, with_rounds=False)
        rounds = str(line.speedup.rounds) if line.speedup and line.speedup.rounds else fmt.DASH
    else:
        speed = line.status + (f": {line.why}" if line.why else "")
        rounds = fmt.DASH
    accuracy = (
        f"{line.accuracy_label} {fmt.points(line.accuracy_pt)} pt"
        if line.accuracy_pt is not None
        else fmt.DASH
    )
    return (line.name, speed, rounds, accuracy, line.gate or fmt.DASH, line.outside_int8)


def render_tune(tables: Sequence[TuneTable], console: Console) -> None:
    """Every table, its recommendations, and why each slower candidate is slower."""
    if not tables:
        return
    console.rule(Text(TITLE))
    for table in tables:
        title = Text(
            f"{table.machine}, {fmt.shape(table.input_size)}, batch {table.batch}, {table.threads} threads; "
            f"gate: {table.gate_rule}"
        )
        grid = report_table(title, COLUMNS)
        for line in table.lines:
            style = (
                OUTCOME_STYLE.get(line.speedup.direction, "")
                if line.status == TIMED and line.speedup
                else "dim"
            )
            grid.add_row(*(Text(cell, style=style if i == 1 else "") for i, cell in enumerate(cells(line))))
        console.print(grid)
        for sentence in table.sentences:
            console.print(Text(f"• {sentence}"))
        for line in emulated_lines(table):
            console.print(Text(f"• {line}", style="yellow" if "differ" in line else ""))
        for line in table.lines:
            if line.slower_because:
                console.print(
                    Text(f"• {line.name} is slower than its float32: {line.slower_because}", style="yellow")
                )
        console.print()


def emulated_lines(table: TuneTable) -> list[str]:
    """What the emulated check of the run said of the candidates, per arch."""
    lines = []
    for arch, checked, failed in table.emulated:
        if not failed:
            lines.append(f"{arch} (emulated): all {checked} candidates give native's outputs")
            continue
        listed = "; ".join(f"{name}: {why}" for name, why in failed.items())
        lines.append(
            f"{arch} (emulated): {len(failed)} of {checked} candidates' outputs differ from native, do not "
            f"ship them to {arch} without checking there: {listed}"
        )
    return lines


def markdown_tune(tables: Sequence[TuneTable]) -> list[str]:
    """The same as markdown lines."""
    if not tables:
        return []
    lines = [f"## {TITLE}", ""]
    for table in tables:
        lines += [
            f"### {table.machine}, {fmt.shape(table.input_size)}, batch {table.batch}, "
            f"{table.threads} threads",
            "",
            f"Gate: {table.gate_rule}.",
            "",
            "| " + " | ".join(["candidate", "recipe", *(name for name, _ in COLUMNS[1:])]) + " |",
            "|" + "|".join("---" for _ in range(len(COLUMNS) + 1)) + "|",
        ]
        for line in table.lines:
            row = cells(line)
            cells_with_recipe = (row[0], line.recipe, *row[1:])
            lines.append("| " + " | ".join(cell.replace("|", "/") for cell in cells_with_recipe) + " |")
        lines += [""] + [f"- {sentence}" for sentence in table.sentences]
        lines += [f"- {line}" for line in emulated_lines(table)]
        lines += [
            f"- {line.name} is slower than its float32: {line.slower_because}"
            for line in table.lines
            if line.slower_because
        ]
        lines.append("")
    return lines
