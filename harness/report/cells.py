"""Plain-text table cells shared by the console and the markdown file, so both say the same."""

from __future__ import annotations

from dataclasses import dataclass

from harness.report import fmt
from harness.report.analysis import MachineTable, Row
from harness.report.compare import Change, Comparison
from harness.report.scenarios import ScenarioRow
from harness.report.shape_columns import shape_cell, with_shape, with_shape_cell
from harness.report.stats import SLOWER, invert
from harness.report.verdicts import Reproduction
from harness.report.warning_kinds import SplitWarning, split_warning
from harness.schema import SEED_INPUT_SIZE

NOTE_MARK = "*"
BASELINE = "baseline"

# (header, justify) for each machine-table column, in order.
MACHINE_COLUMNS = (
    ("variant", "left"),
    ("runtime", "left"),
    ("batch", "right"),
    ("thr", "right"),
    ("p50 ms", "right"),
    ("p90 ms", "right"),
    ("tail", "right"),  # p99 / p50: jitter, shown beside the centre, never a reason to withhold
    ("img/s", "right"),
    ("speed-up [95% CI]", "left"),
    ("rnd", "right"),  # process rounds behind the interval: its unit of replication
    ("top-1", "right"),
    ("Δ pt", "right"),
    ("agree", "right"),
    ("gate", "left"),
    ("size", "right"),
    ("peak mem", "right"),
)
SPEEDUP_COLUMN = 8
STATUS_COLUMN = 4
GATE_COLUMN = 13
# The machine-table columns a narrow console leaves out, first to last, until the table fits
# (fit.fit_columns). Never left out: variant, batch, thr, p50 ms, and the speed-up, top-1, Δ pt,
# agree and gate columns: the numbers the table exists for. Markdown and CSV keep every column.
MACHINE_DROP_ORDER = (
    "size",  # the artifact's size: the same at every batch, not measured by this run
    "peak mem",  # memory, where the table answers speed and accuracy
    "runtime",  # the variant's name says it; the caption names each runtime and its version
    "img/s",  # batch / p50 ms, and both of those stay
    "rnd",  # each verdict says how many rounds stand behind its interval
    "tail",  # p99 / p50: shown for jitter, never a reason to withhold a verdict
    "p90 ms",  # a second percentile beside p50 ms, which stays
)

REPRODUCTION_COLUMNS = (
    ("machine", "left"),
    ("batch", "right"),
    ("thr", "right"),
    ("fake-quant vs fp32 (TF)", "left"),
    ("int8 vs fp32 (LiteRT)", "left"),
)

COMPARISON_COLUMNS = (
    ("variant", "left"),
    ("batch", "right"),
    ("thr", "right"),
    ("old p50 ms", "right"),
    ("new p50 ms", "right"),
    ("change [95% CI]", "left"),
    ("significance", "left"),
    ("top-1 old → new", "right"),
)
CHANGE_COLUMN = 6
# As MACHINE_DROP_ORDER, for a comparison: the change interval says how the medians moved.
COMPARISON_DROP_ORDER = ("old p50 ms", "new p50 ms")


SCENARIO_COLUMNS = (
    ("machine", "left"),
    ("scenario", "left"),
    ("variant", "left"),
    ("batch", "right"),
    ("p90 ms", "right"),
    ("ES p90 ms", "right"),  # LoadGen's early-stopping estimate of the p90
    ("samples/s", "right"),
    ("vs float32 [95% CI]", "left"),
    ("rnd", "right"),
    ("run s", "right"),
    ("MLPerf-length", "left"),
)
# As MACHINE_DROP_ORDER, for the scenario table: "MLPerf-length" is said again in its caption
# (the minimums a run fell short of), the early-stopping p90 refines the p90 that stays, "run s"
# is how long the shortest run took, and samples/s is the Offline figure the ratio is made of.
SCENARIO_DROP_ORDER = ("MLPerf-length", "ES p90 ms", "run s", "rnd", "samples/s")


def scenario_columns(rows: list[ScenarioRow]) -> tuple[tuple[str, str], ...]:
    """SCENARIO_COLUMNS, with a shape column when the report names shapes."""
    return with_shape(SCENARIO_COLUMNS, any(row.shape_named for row in rows))


def scenario_cells(row: ScenarioRow) -> list[str]:
    """The cells of one scenario row, in scenario_columns order."""
    cells = _scenario_cells(row)
    return with_shape_cell(cells, SCENARIO_COLUMNS, shape_cell(row.input_size), row.shape_named)


def _scenario_cells(row: ScenarioRow) -> list[str]:
    comparison = (
        BASELINE if row.variant == row.baseline_variant else fmt.ratio(row.speedup, with_rounds=False)
    )
    rounds = str(row.speedup.rounds) if row.speedup and row.speedup.rounds else str(row.rounds)
    return [
        row.machine,
        row.scenario,
        row.variant,
        str(row.batch),
        fmt.ms(row.p90_s),
        fmt.ms(row.early_stopping_p90_s),
        fmt.rate(row.throughput_sps),
        comparison,
        rounds,
        f"{row.duration_s:.1f}",
        "no (shorter)" if row.shortfalls else "yes",
    ]


def scenario_caption(rows: list[ScenarioRow]) -> str:
    """Which driver ran the scenarios, and the MLPerf minimums the runs fell short of, once each."""
    drivers = sorted({f"{row.machine}: {row.driver}" for row in rows})
    short = list(dict.fromkeys(text for row in rows for text in row.shortfalls))
    lines = [f"driver: {driver}" for driver in drivers]
    if short:
        lines.append("shorter than MLPerf's minimums: " + "; ".join(short))
    return "\n".join(lines)


@dataclass
class Note:
    """One note under a machine table: a message, or a kind of warning, and the rows it concerns."""

    text: str  # "tflite-int8 at batch 1, 2 thr: kernel path: ..." or "WARNING: <kind>: <rows> — <advice>"
    kind: str  # "error", "kernel", "warning" or "info"


def machine_columns(table: MachineTable) -> tuple[tuple[str, str], ...]:
    """MACHINE_COLUMNS, with a shape column when the report names shapes."""
    return with_shape(MACHINE_COLUMNS, table.shapes_named)


def shaped_machine_cells(row: Row, table: MachineTable) -> list[str]:
    """The machine-table cells of one row, in machine_columns(table) order."""
    return with_shape_cell(
        machine_cells(row), MACHINE_COLUMNS, shape_cell(row.input_size), table.shapes_named
    )


def machine_cells(row: Row) -> list[str]:
    """The machine-table cells of one row, in MACHINE_COLUMNS order (no shape column)."""
    marked = row.variant + (NOTE_MARK if row.warnings or row.kernel_flags or not row.ok else "")
    cells = [marked, fmt.runtime(row.runtime).split(" ")[0], str(row.batch), str(row.threads)]
    if row.ok:
        jitter = fmt.DASH if row.jitter is None else f"{row.jitter:.1f}×"
        cells += [fmt.ms(row.p50_s), fmt.ms(row.p90_s), jitter, fmt.rate(row.throughput_ips)]
    else:
        cells += [row.status, fmt.DASH, fmt.DASH, fmt.DASH]
    if row.is_baseline:
        cells += [BASELINE, ""]
    else:
        rounds = row.speedup.rounds if row.speedup and row.speedup.rounds else None
        cells += [fmt.ratio(row.speedup, with_rounds=False), str(rounds) if rounds else fmt.DASH]
    cells += [
        fmt.top1(row.top1 if row.ok else None, row.off_training_scale),
        fmt.points(row.top1_delta_pt),
        fmt.percent(row.agreement_with_float if row.ok else None),
        row.accuracy_gate,
        fmt.megabytes(row.model_bytes),
        fmt.megabytes(row.peak_rss_bytes),
    ]
    return cells


def machine_notes(table: MachineTable) -> list[Note]:
    """Errors, kernel-path flags, warnings and why rounds stopped, each said once: a message
    with the rows it concerns; a kind of warning with its rows, each with its own numbers, and its
    advice once (``warning_kinds``)."""
    grouped: dict[tuple[str, str, str], dict[str, list[Row]]] = {}  # (kind, title, advice) -> detail
    for row in table.rows:
        for kind, split in _row_messages(row, table.emulated):
            grouped.setdefault((kind, split.title, split.advice), {}).setdefault(split.detail, []).append(row)
    notes = [
        Note(_note_text(kind, title, advice, by_detail, table.rows), kind)
        for (kind, title, advice), by_detail in grouped.items()
    ]
    return notes + training_scale_notes(table)


def training_scale_notes(table: MachineTable) -> list[Note]:
    """What the top-1 mark means, once per (trained, measured) pair of sides among marked cells."""
    pairs = {
        (row.trained_input_size, row.input_size)
        for row in table.rows
        if row.off_training_scale and row.ok and row.top1 is not None and row.trained_input_size
    }
    return [Note(fmt.training_scale_note(trained, size), "info") for trained, size in sorted(pairs)]


def rows_named(rows: list[Row], every_row: list[Row]) -> str:
    """ "all rows", or each set of variants with the settings it shares:
    "tflite-int8, tflite-int8-qat at batch 1 and 64, 2 thr"."""
    if _all_of(rows, every_row):
        return "all rows"
    variants_by_setting: dict[tuple[int, int], list[str]] = {}
    for row in rows:
        variants_by_setting.setdefault((row.batch, row.threads), []).append(row.variant)
    settings_by_variants: dict[tuple[str, ...], list[tuple[int, int]]] = {}
    for setting, variants in variants_by_setting.items():
        settings_by_variants.setdefault(tuple(dict.fromkeys(variants)), []).append(setting)
    return " and ".join(
        f"{', '.join(variants)} at {_settings_named(settings)}"
        for variants, settings in settings_by_variants.items()
    )


def rows_with_details(by_detail: dict[str, list[Row]], every_row: list[Row]) -> str:
    """The rows of one kind of warning, each with its own numbers, by setting; rows with the same
    numbers together: "all rows (only 1 repeats)", or "batch 1, 2 thr: ort-int8 (off by 0.137),
    ort-int8-qdq (off by 0.0745); batch 64, 2 thr: ..."."""
    if len(by_detail) == 1:
        [(detail, rows)] = by_detail.items()
        if _all_of(rows, every_row):
            return "all rows" + (f" ({detail})" if detail else "")
    by_setting: dict[tuple[int, int], dict[str, list[str]]] = {}
    for detail, rows in by_detail.items():
        for row in rows:
            by_setting.setdefault((row.batch, row.threads), {}).setdefault(detail, []).append(row.variant)
    settings_by_items: dict[str, list[tuple[int, int]]] = {}
    for setting, variants_by_detail in sorted(by_setting.items()):
        items = ", ".join(
            ", ".join(variants) + (f" ({detail})" if detail else "")
            for detail, variants in variants_by_detail.items()
        )
        settings_by_items.setdefault(items, []).append(setting)
    return "; ".join(f"{_settings_named(settings)}: {items}" for items, settings in settings_by_items.items())


def _all_of(rows: list[Row], every_row: list[Row]) -> bool:
    return len(every_row) > 1 and {id(row) for row in rows} == {id(row) for row in every_row}


def _settings_named(settings: list[tuple[int, int]]) -> str:
    """ "batch 1 and 64, 2 thr", or "batch 1, 2 thr and batch 8, 4 thr" when the threads differ."""
    threads = {count for _, count in settings}
    if len(threads) > 1:
        return " and ".join(f"batch {batch}, {count} thr" for batch, count in settings)
    batches = [str(batch) for batch, _ in settings]
    listed = batches[0] if len(batches) == 1 else f"{', '.join(batches[:-1])} and {batches[-1]}"
    return f"batch {listed}, {threads.pop()} thr"


def _row_messages(row: Row, emulated: bool | None) -> list[tuple[str, SplitWarning]]:
    """(note kind, message) for everything said about one row; only warnings have a detail."""
    messages = []
    if row.error or not row.ok:
        messages.append(("error", f"{row.status}: {row.error or 'no error recorded'}"))
    messages += [("kernel", f"kernel path: {flag}") for flag in row.kernel_flags]
    if row.rounds_stop_reason and not emulated:
        messages.append(("info", f"rounds: {row.rounds_stop_reason}"))
    said = [(kind, SplitWarning(message, "", "")) for kind, message in messages]
    return said + [("warning", split_warning(warning, row.variant)) for warning in row.warnings]


def _note_text(kind: str, title: str, advice: str, by_detail: dict[str, list[Row]], every: list[Row]) -> str:
    """ "<rows>: <message>", or for a kind of warning "WARNING: <kind>: <rows (numbers)> — <advice>"."""
    if kind != "warning":
        return f"{rows_named(next(iter(by_detail.values())), every)}: {title}"
    said_once = f"{title}: " if title else ""
    return f"WARNING: {said_once}{rows_with_details(by_detail, every)}" + (f" — {advice}" if advice else "")


REPRODUCTION_TITLE = "2018 reproduction: the fake-quant graph is float kernels plus quantize ops"


def reproduction_title(shapes_named: bool) -> str:
    """REPRODUCTION_TITLE, saying its shape when the report names shapes: it is always the seed's."""
    return REPRODUCTION_TITLE + (f" (at the seed's {fmt.shape(SEED_INPUT_SIZE)})" if shapes_named else "")


REPRODUCTION_CAPTION = (
    "Timing tf-fakequant is not timing int8; only the LiteRT column runs int8 kernels. "
    "Native machines only: emulated ratios measure QEMU."
)


def reproduction_cells(item: Reproduction) -> list[str]:
    return [
        item.machine,
        str(item.batch),
        str(item.threads),
        fmt.ratio(item.fakequant_speedup),
        fmt.ratio(item.int8_speedup),
    ]


def reproduction_causes(items: list[Reproduction]) -> list[str]:
    """One line per machine under the 2018 rows: where the fake-quant graph's time went."""
    lines = {}
    for item in items:
        cause = item.fakequant_cost or "not profiled (no TensorFlow profile in the tf-fakequant result)"
        lines.setdefault(item.machine, f"Why fake-quant is slow on {item.machine} (TF profiler): {cause}.")
    return list(lines.values())


def comparison_groups(comparison: Comparison) -> dict[str, list[Change]]:
    """Changes per machine ("amd64 on old-box → new-box"), one table each; per machine and input
    shape ("amd64 on box, 224×224") when some change is off the seed's shape."""
    named = fmt.shapes_named(change.input_size for change in comparison.changes)
    groups: dict[str, list[Change]] = {}
    for change in comparison.changes:
        shape = f", {fmt.shape(change.input_size)}" if named else ""
        groups.setdefault(change.where + shape, []).append(change)
    return groups


def comparison_cells(change: Change) -> list[str]:
    """A slow-down is shown as "1.25× slower", not "0.80× faster"."""
    interval = change.change
    if interval is not None and change.outcome == SLOWER:
        interval = invert(interval)
    significance = change.outcome if change.change is not None else change.summary
    return [
        change.variant,
        str(change.batch),
        str(change.threads),
        fmt.ms(change.old_p50_s),
        fmt.ms(change.new_p50_s),
        fmt.ratio(interval),
        significance,
        f"{fmt.percent(change.old_top1)} → {fmt.percent(change.new_top1)}",
    ]


def runtime_versions(table: MachineTable) -> str:
    """ "runtimes: TF 2.21.0, LiteRT 2.3.0": the versions the runtime column leaves out."""
    versions = list(dict.fromkeys(fmt.runtime(row.runtime) for row in table.rows if row.runtime))
    return f"runtimes: {', '.join(versions)}" if versions else ""


def machine_title(table: MachineTable) -> tuple[str, str]:
    """(label with CPU model, emulation warning or "")."""
    title = table.label + (f" · {table.cpu_model}" if table.cpu_model else "")
    warning = "EMULATED (QEMU): not a CPU measurement" if table.emulated else ""
    return title, warning
