"""Plain-text cells of the fleet tables, shared by the console and the markdown file.

Two tables: each runtime's int8 vs its float32 per machine and setting (the verdicts' numbers),
and the fastest int8 vs the fastest float32 of any runtime (the headlines' numbers). A machine's
name, int8 instructions and CPUs are written on its first line only, so its settings read as one
block.
"""

from __future__ import annotations

from harness.report import fmt
from harness.report.fleet import NOT_MEASURED, Fleet, FleetCell, FleetRow, FleetSetting
from harness.report.shape_columns import shape_cell, with_shape, with_shape_cell
from harness.report.verdicts import UNSTABLE

SPEEDUP_TITLE = "Fleet: each runtime's int8 vs its float32, across machines (native only), [95% CI]"
FASTEST_TITLE = "Fleet: fastest int8 vs fastest float32, any runtime, per machine"
MACHINE_COLUMNS = (("machine", "left"), ("int8 ISA", "left"), ("cpus", "right"))
SETTING_COLUMNS = (("batch", "right"), ("thr", "right"))
SETTING_COLUMNS_AFTER_MACHINE = (*MACHINE_COLUMNS, *SETTING_COLUMNS)  # where the shape goes
FASTEST_COLUMNS = (
    ("machine", "left"),
    ("batch", "right"),
    ("thr", "right"),
    ("fastest int8", "left"),
    ("int8 ms", "right"),
    ("fastest float32", "left"),
    ("fp32 ms", "right"),
    ("int8 vs float32 [95% CI]", "left"),
)
# As cells.MACHINE_DROP_ORDER, for the fleet tables at a narrow console: the CPUs are said again
# in the caption; the p50s are what the interval is a ratio of. Every interval stays.
SPEEDUP_DROP_ORDER = ("cpus",)
FASTEST_DROP_ORDER = ("int8 ms", "fp32 ms")
UNSTABLE_MARK = f" ({UNSTABLE})"
CELL_NOTE = (
    f"{UNSTABLE_MARK.strip()}: its rounds disagree or a side was throttled, so its verdict makes no "
    "speed claim; (no interval, ...): too few rounds or timings for one, no claim either"
)


def speedup_columns(fleet: Fleet) -> tuple[tuple[str, str], ...]:
    """The machine, its int8 instructions and CPUs, the setting, then one column per runtime."""
    columns = (*MACHINE_COLUMNS, *SETTING_COLUMNS, *((label, "left") for label in fleet.runtimes))
    return with_shape(columns, fleet.shapes_named)


def fastest_columns(fleet: Fleet) -> tuple[tuple[str, str], ...]:
    """FASTEST_COLUMNS, with a shape column when the report names shapes."""
    return with_shape(FASTEST_COLUMNS, fleet.shapes_named)


def speedup_rows(fleet: Fleet) -> list[list[str]]:
    """One line per machine and (input shape, batch, threads), in speedup_columns order."""
    lines = []
    for row in fleet.rows:
        for index, setting in enumerate(row.settings):
            machine = _machine_cells(row) if index == 0 else ["", "", ""]
            cells = [speedup_text(cell) for cell in setting.runtimes]
            line = [*machine, str(setting.batch), str(setting.threads), *cells]
            lines.append(
                with_shape_cell(line, SETTING_COLUMNS_AFTER_MACHINE, _shape(setting), fleet.shapes_named)
            )
    return lines


def fastest_rows(fleet: Fleet) -> list[list[str]]:
    """One line per machine and setting that has a fastest pair, in fastest_columns order."""
    lines = []
    for row in fleet.rows:
        pairs = [(setting, setting.fastest) for setting in row.settings if setting.fastest is not None]
        for index, (setting, fastest) in enumerate(pairs):
            line = [row.name if index == 0 else "", *_fastest_cells(setting, fastest)]
            lines.append(with_shape_cell(line, FASTEST_COLUMNS, _shape(setting), fleet.shapes_named))
    return lines


def _shape(setting: FleetSetting) -> str:
    return shape_cell(setting.input_size)


def speedup_text(cell: FleetCell) -> str:
    """ "2.57× [2.08–3.17]", "1.74× [1.28–2.37] (unstable)", "1.05× (no interval, 1 round)",
    "—" (not measured) or "— (failed)"."""
    if cell.note:
        return fmt.DASH if cell.note == NOT_MEASURED else f"{fmt.DASH} ({cell.note})"
    if cell.side is not None:  # the side alone: the rounds agree on it, not on a ratio
        return f"{cell.outcome} ({cell.side.low:.2f}–{cell.side.high:.2f}× by round)"
    text = fmt.ratio(cell.speedup, with_rounds=False)
    return text + UNSTABLE_MARK if cell.outcome == UNSTABLE else text


def speedup_caption(fleet: Fleet) -> list[str]:
    """What each runtime column compares, what a mark means, each machine's CPU, who is left out."""
    pairs: dict[str, dict[str, None]] = {}
    for row in fleet.rows:
        for setting in row.settings:
            for cell in setting.runtimes:
                if cell.int8_variant:
                    pair = f"{cell.int8_variant} vs {cell.float_variant}"
                    pairs.setdefault(cell.label, {})[pair] = None
    compared = "; ".join(f"{label}: {', '.join(found)}" for label, found in pairs.items())
    lines = [f"each cell is that machine's verdict ({compared}); {CELL_NOTE}"]
    lines += [f"{row.name}: {_cpu_text(row)}" for row in fleet.rows]
    lines += [f"left out: {line}" for line in fleet.left_out]
    return lines


def _cpu_text(row: FleetRow) -> str:
    """ "AMD EPYC, 2 CPUs for its container (cpus)": what the CPU is, how much of it was used."""
    model = row.cpu_model or "CPU model not recorded"
    cpus = f"{row.cpus} CPU" + ("s" if row.cpus != 1 else "")
    return f"{model}, {cpus} for its container (cpus)" if row.cpus else model


def _machine_cells(row: FleetRow) -> list[str]:
    return [row.name, row.isa, str(row.cpus) if row.cpus else fmt.DASH]


def _fastest_cells(setting: FleetSetting, fastest: FleetCell) -> list[str]:
    return [
        str(setting.batch),
        str(setting.threads),
        fastest.int8_variant or fmt.DASH,
        fmt.ms(fastest.int8_p50_s),
        fastest.float_variant or fmt.DASH,
        fmt.ms(fastest.float_p50_s),
        speedup_text(fastest),
    ]
