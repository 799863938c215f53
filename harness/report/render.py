"""The console report, drawn with rich from a ``Report``; no numbers are computed here.

Every cell is a ``Text`` (never markup), so brackets in intervals, paths or
error messages are shown as written.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import partial

from rich import box
from rich.console import Console, Group, RenderableType
from rich.padding import Padding
from rich.table import Table
from rich.text import Text

from harness.report import cells, fit, fmt, shape_columns
from harness.report.analysis import GATE_FAIL, GATE_PASS, MachineTable, Row
from harness.report.compare import Comparison
from harness.report.console_tables import OUTCOME_STYLE
from harness.report.console_tables import headers as _headers
from harness.report.console_tables import report_table as _table
from harness.report.document import Report
from harness.report.explain import Explanation, common_kernel
from harness.report.headline import HEADLINE_TITLE, Headline
from harness.report.render_fleet import fleet_tables
from harness.report.render_shapes import shape_tables
from harness.report.scenarios import MLPERF_NOTE
from harness.report.threads import ScalingRow, thread_counts
from harness.report.verdicts import Verdict
from harness.schema import ONE_THREAD_PARALLELISM

GATE_STYLE = {GATE_PASS: "green", GATE_FAIL: "bold red"}
NOTE_STYLE = {"error": "red", "kernel": "yellow", "warning": "yellow", "info": "dim"}


def render_report(report: Report, console: Console) -> None:
    """Print the whole report: machines, verdicts, the fleet, the 2018 row, comparison, notes.

    A table wider than the console leaves out its least needed columns (``fit``), said in one
    line under the title; markdown and CSV keep every column."""
    machines, machines_fit = _fitted_machines(report.tables, console)
    scaling, scaling_fit = _fitted_scaling(report.scaling, report.shapes_named, console)
    scenarios, scenarios_fit = _fitted_scenarios(report, console)
    comparison, comparison_fit = _fitted_comparison(report.comparison, console)
    fleet, fleet_fits = fleet_tables(report.fleet, console)
    shapes, shapes_fits = shape_tables(report.shape_machines, console)
    fits = [
        ("machine tables", machines_fit),
        *fleet_fits,
        *shapes_fits,
        ("thread scaling", scaling_fit),
        ("scenarios", scenarios_fit),
        ("comparison", comparison_fit),
    ]
    console.rule(Text(f"quantbench report: {report.results_used} results from {', '.join(report.sources)}"))
    for model in report.models:  # the model and data block
        console.print(Text(model.text))
        for item in model.not_made:
            console.print(Padding(Text(item.text), (0, 0, 0, 2), expand=False))
    left_out = fit.dropped_line(fits, console.width)
    if left_out:
        console.print(Text(left_out, style="dim"))
    for table, grid in zip(report.tables, machines, strict=True):
        console.print(grid)
        notes = machine_notes(table)
        if notes is not None:
            console.print(notes)
        console.print()
    if report.headlines:
        console.rule(Text(HEADLINE_TITLE))
        console.print(_bullets([headline_text(headline) for headline in report.headlines]))
    console.rule(Text("Verdicts: int8 vs float32, same runtime, same machine"))
    console.print(_bullets([verdict_text(verdict) for verdict in report.verdicts]))
    for grid in fleet:
        console.print()
        console.print(grid)
    for block in shapes:
        console.print()
        console.print(block)
    if report.time_spent:
        console.rule(Text("Where the time goes (quantbench explain RESULTS --variant V: the whole table)"))
        console.print(_bullets([Text(line) for line in report.time_spent]))
    for grid in scaling:
        console.print()
        console.print(grid)
    if report.reproductions:
        console.print()
        console.print(reproduction_table(report))
    for grid in scenarios:
        console.print()
        console.print(grid)
        console.print(
            _bullets([Text(v.text, style=_verdict_style(v.speedup)) for v in report.scenario_verdicts])
        )
    if comparison is not None:
        console.print()
        console.print(comparison)
    console.print()
    console.rule(Text("Notes"))
    console.print(_bullets(notes_lines(report)))


def machine_table(table: MachineTable, shown: Sequence[int] | None = None) -> Table:
    """One table per (host, arch), with the columns ``shown`` (every one by default); emulated
    machines are dimmed and say so in the title."""
    every_column = cells.machine_columns(table)
    columns = range(len(every_column)) if shown is None else shown
    label, emulation = cells.machine_title(table)
    title = Text(label, style="bold")
    if emulation:
        title.append(f"  {emulation}", style="bold magenta")
    grid = _table(title, tuple(every_column[i] for i in columns))
    grid.caption = cells.runtime_versions(table)
    grid.caption_justify = "left"
    for index, row in enumerate(table.rows):
        texts = [Text(cell) for cell in cells.machine_cells(row)]
        _style_row(texts, row)
        shape = Text(shape_columns.shape_cell(row.input_size))
        texts = shape_columns.with_shape_cell(texts, cells.MACHINE_COLUMNS, shape, table.shapes_named)
        following = table.rows[index + 1] if index + 1 < len(table.rows) else None
        shape_ends = following is not None and following.input_size != row.input_size
        grid.add_row(
            *(texts[i] for i in columns), style="dim" if table.emulated else None, end_section=shape_ends
        )
    return grid


def _fitted_machines(tables: list[MachineTable], console: Console) -> tuple[list[Table], fit.Fit]:
    builders = [partial(machine_table, table) for table in tables]
    columns = cells.machine_columns(tables[0]) if tables else cells.MACHINE_COLUMNS
    return fit.fit_tables(builders, _headers(columns), cells.MACHINE_DROP_ORDER, console)


def machine_notes(table: MachineTable) -> RenderableType | None:
    """Errors, kernel-path flags and stability warnings under a machine's table."""
    notes = cells.machine_notes(table)
    if not notes:
        return None
    dim = " dim" if table.emulated else ""
    return _bullets([Text(note.text, style=NOTE_STYLE[note.kind] + dim) for note in notes], cells.NOTE_MARK)


def headline_text(headline: Headline) -> Text:
    return Text(headline.text, style="bold " + OUTCOME_STYLE.get(headline.outcome, "dim"))


def verdict_text(verdict: Verdict) -> Text:
    return Text(verdict.text, style=OUTCOME_STYLE.get(verdict.outcome, "dim"))


def scenario_table(report: Report, shown: Sequence[int] | None = None) -> Table:
    """MLPerf-style scenarios, by LoadGen's names, and how their runs compare with MLPerf's."""
    every_column = cells.scenario_columns(report.scenario_rows)
    columns = range(len(every_column)) if shown is None else shown
    grid = _table(
        Text("Scenarios (MLPerf LoadGen's names and stopping rules)", style="bold"),
        tuple(every_column[i] for i in columns),
    )
    grid.caption = Text("\n".join([cells.scenario_caption(report.scenario_rows), MLPERF_NOTE]))
    grid.caption_justify = "left"
    for row in report.scenario_rows:
        texts = [Text(cell) for cell in cells.scenario_cells(row)]
        grid.add_row(*(texts[i] for i in columns), style="dim" if row.emulated else None)
    return grid


def _fitted_scenarios(report: Report, console: Console) -> tuple[list[Table], fit.Fit]:
    builders = [partial(scenario_table, report)] if report.scenario_rows else []
    headers = _headers(cells.scenario_columns(report.scenario_rows))
    return fit.fit_tables(builders, headers, cells.SCENARIO_DROP_ORDER, console)


def _verdict_style(interval) -> str:
    return OUTCOME_STYLE.get(interval.direction, "dim") if interval is not None else "dim"


def reproduction_table(report: Report) -> Table:
    """The 2018 row: what the original author timed, next to real int8."""
    grid = _table(
        Text(cells.reproduction_title(report.shapes_named), style="bold"), cells.REPRODUCTION_COLUMNS
    )
    grid.caption = Text(
        "\n".join([*cells.reproduction_causes(report.reproductions), cells.REPRODUCTION_CAPTION])
    )
    grid.caption_justify = "left"
    for item in report.reproductions:
        texts = [Text(cell) for cell in cells.reproduction_cells(item)]
        for text, interval in ((texts[3], item.fakequant_speedup), (texts[4], item.int8_speedup)):
            if interval is not None:
                text.stylize(OUTCOME_STYLE[interval.direction])
        grid.add_row(*texts, style="dim" if item.emulated else None)
    return grid


def comparison_table(comparison: Comparison, where: str, shown: Sequence[int] | None = None) -> Table:
    """pyperf compare_to style, for one machine: old vs new median, ratio interval, significance."""
    columns = range(len(cells.COMPARISON_COLUMNS)) if shown is None else shown
    grid = _table(Text(where, style="bold"), tuple(cells.COMPARISON_COLUMNS[i] for i in columns))
    for change in cells.comparison_groups(comparison)[where]:
        texts = [Text(cell) for cell in cells.comparison_cells(change)]
        for column in (cells.CHANGE_COLUMN - 1, cells.CHANGE_COLUMN):
            texts[column].stylize(OUTCOME_STYLE.get(change.outcome, "dim"))
        grid.add_row(*(texts[i] for i in columns), style="dim" if change.emulated else None)
    return grid


def _fitted_comparison(
    comparison: Comparison | None, console: Console
) -> tuple[RenderableType | None, fit.Fit]:
    """The comparison: a heading, one table per machine (all with the columns that fit), and
    what only one side has."""
    groups = list(cells.comparison_groups(comparison)) if comparison is not None else []
    grids, fitted = fit.fit_tables(
        [partial(comparison_table, comparison, where) for where in groups],
        _headers(cells.COMPARISON_COLUMNS),
        cells.COMPARISON_DROP_ORDER,
        console,
    )
    if comparison is None:
        return None, fitted
    heading = Text(f"Compared with {', '.join(comparison.old_sources)} (old → new)", style="bold underline")
    extra = [Text(f"only in old: {item}", style="dim") for item in comparison.only_old]
    extra += [Text(f"only in new: {item}", style="dim") for item in comparison.only_new]
    extra += [Text(f"WARNING: {item}", style="yellow") for item in comparison.file_warnings]
    return Group(heading, *grids, *extra), fitted


def notes_lines(report: Report) -> list[Text]:
    """Merge rule, skipped files, and what the numbers mean."""
    lines = [Text(f"Merge rule: {report.merge_rule}; {report.superseded} older result(s) set aside.")]
    lines += [Text(f"WARNING: {warning}", style="yellow") for warning in report.file_warnings]
    lines += [Text(definition, style="dim") for definition in report.definitions]
    return lines


def scaling_columns(rows: list[ScalingRow], shapes_named: bool = False) -> tuple[tuple[str, str], ...]:
    """Per thread count its p50, its speed-up over the fewest threads (not for the fewest: 1.00×
    by definition) and the threads it used; the shape before the batch when shapes are named."""
    counts = thread_counts(rows)
    columns = [("machine", "left"), ("variant", "left"), ("batch", "right")]
    for count in counts:
        speedup = [(f"×t{counts[0]} at t{count}", "right")] if count != counts[0] else []
        columns += [(f"p50 ms t{count}", "right"), *speedup, (f"used t{count}", "right")]
    return shape_columns.with_shape(tuple(columns), shapes_named)


def scaling_drop_order(rows: list[ScalingRow]) -> tuple[tuple[str, ...], ...]:
    """First the threads used (they explain a poor scaling; the speed-ups are the scaling), then
    the p50 of more threads (the fewest threads' p50 and the speed-up give it), each all at once
    so that every thread count keeps the same columns."""
    counts = thread_counts(rows)
    return tuple(f"used t{count}" for count in counts), tuple(f"p50 ms t{count}" for count in counts[1:])


def scaling_table(
    rows: list[ScalingRow], shown: Sequence[int] | None = None, shapes_named: bool = False
) -> Table:
    """p50, speed-up over the fewest threads and threads used (CPU/wall), per thread count."""
    counts = thread_counts(rows)
    columns = scaling_columns(rows, shapes_named)
    picked = range(len(columns)) if shown is None else shown
    grid = _table(
        Text("Thread scaling (passes one after another: ratios of medians, no interval; used = CPU/wall)"),
        tuple(columns[i] for i in picked),
    )
    for row in rows:
        by_count = {point.threads: point for point in row.points}
        texts = [Text(f"{row.host} {row.arch}"), Text(row.variant)]
        if shapes_named:
            texts.append(Text(shape_columns.shape_cell(row.input_size)))
        texts.append(Text(str(row.batch)))
        for count in counts:
            point = by_count.get(count)
            fewest = count == counts[0]  # no speed-up column: 1.00× by definition
            if point is None:
                texts += [Text(fmt.DASH) for _ in range(2 if fewest else 3)]
                continue
            used = Text(f"{point.parallelism:.2f}" if point.parallelism is not None else fmt.DASH)
            if point.parallelism is not None and count > 1 and point.parallelism < ONE_THREAD_PARALLELISM:
                used.stylize("yellow")
            speedup = [] if fewest else [Text(f"{row.speedup(point):.2f}×")]
            texts += [Text(fmt.ms(point.p50_s)), *speedup, used]
        grid.add_row(*(texts[i] for i in picked))
    return grid


def _fitted_scaling(rows: list[ScalingRow], named: bool, console: Console) -> tuple[list[Table], fit.Fit]:
    builders = [partial(scaling_table, rows, shapes_named=named)] if rows else []
    headers = _headers(scaling_columns(rows, named)) if rows else []
    return fit.fit_tables(builders, headers, scaling_drop_order(rows) if rows else (), console)


def _style_row(texts: list[Text], row: Row) -> None:
    if not row.ok:
        texts[cells.STATUS_COLUMN].stylize("red")
    if row.is_baseline:
        texts[cells.SPEEDUP_COLUMN].stylize("dim")
    elif row.speedup is not None:
        texts[cells.SPEEDUP_COLUMN].stylize(OUTCOME_STYLE[row.speedup.direction])
    if row.accuracy_gate in GATE_STYLE:
        texts[cells.GATE_COLUMN].stylize(GATE_STYLE[row.accuracy_gate])


def _bullets(lines: list[Text], bullet: str = "•") -> Table:
    """Lines that wrap under their own text, not under the bullet."""
    grid = Table.grid(padding=(0, 1))
    grid.add_column(no_wrap=True)
    grid.add_column()
    for line in lines:
        grid.add_row(Text(bullet, style=line.style), line)
    return grid


def render_explanation(explanation: Explanation, console: Console) -> None:
    """``quantbench explain``: the variant and its float baseline side by side, then the ISA line."""
    mine, theirs = explanation.variant, explanation.baseline
    console.rule(
        Text(
            f"{mine.variant} vs {theirs.variant}: {explanation.host} {explanation.arch} "
            f"({explanation.cpu_model or 'CPU unknown'}; {explanation.isa}), {explanation.setting}, "
            f"{explanation.threads} thread(s)"
        )
    )
    facts = []
    for side in (mine, theirs):
        used = f"{side.parallelism:.2f}" if side.parallelism is not None else "not recorded"
        line = f"{side.variant}: p50 {fmt.ms(side.p50_s)} ms; threads used (CPU/wall) {used}; "
        if side.profile is None:
            line += side.why_no_profile
        else:
            profile = side.profile
            line += (
                f"{profile.method} profile by {profile.tool}, {profile.calls} call(s) of "
                f"{profile.wall_ms:.3g} ms, rows account for {profile.accounted_ms:.3g} ms"
            )
            line += f", every op in {common_kernel(profile)}" if common_kernel(profile) else ""
            line += f". {profile.note}" if profile.note else ""
            line += f". Missing: {profile.missing}" if profile.missing else ""
        facts.append(Text(line))
    console.print(_bullets(facts))
    rows = explanation.rows()
    if rows:
        console.print(explanation_table(explanation, rows))
    console.print(
        _bullets(
            [
                Text(
                    f"outside integer kernels: {mine.variant} {mine.outside_integer()}; "
                    f"{theirs.variant} {theirs.outside_integer()}"
                ),
                Text(explanation.roofline(), style="bold"),
            ]
        )
    )


def explanation_table(explanation: Explanation, rows: list[tuple[str, ...]]) -> Table:
    """Stages aligned by name (with the float/int8 time ratio of each), or op types by rank.
    Names fold when the console is narrow; numbers never do."""
    mine, theirs = explanation.variant.variant, explanation.baseline.variant
    per_side = (("share", "right"), ("ms", "right"), ("precision", "left"), ("n", "right"))
    if len(rows[0]) == 10:  # op types by rank: each side names its own
        columns = ((mine, "left"), *per_side, (theirs, "left"), *per_side)
    else:
        columns = (("stage", "left"), *per_side, *per_side, (f"{theirs}/{mine}", "right"))
    grid = Table(
        title=Text(f"where one call's time goes: {mine} | {theirs}"),
        box=box.SIMPLE_HEAD,
        padding=(0, 1),
        show_edge=False,
        title_justify="left",
    )
    for name, justify in columns:
        wraps = name in (mine, theirs, "stage", "precision")
        grid.add_column(name, justify=justify, no_wrap=not wraps, overflow="fold")
    for row in rows:
        grid.add_row(*(Text(cell) for cell in row))
    return grid
