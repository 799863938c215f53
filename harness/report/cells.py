"""Plain-text table cells shared by the console and the markdown file, so both say the same."""

from __future__ import annotations

from dataclasses import dataclass

from harness.report import fmt
from harness.report.analysis import MachineTable, Row
from harness.report.compare import Change, Comparison
from harness.report.scenarios import ScenarioRow
from harness.report.stats import SLOWER, invert
from harness.report.verdicts import Reproduction

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


def scenario_cells(row: ScenarioRow) -> list[str]:
    """The cells of one scenario row, in SCENARIO_COLUMNS order."""
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
    """One message about one or more rows of a machine table."""

    rows: str  # "all rows" or "tflite-int8 (batch 8, 4 thr), ..."
    message: str
    kind: str  # "error", "kernel", "warning" or "info"

    @property
    def text(self) -> str:
        return f"{self.rows}: {self.message}"


def machine_cells(row: Row) -> list[str]:
    """The machine-table cells of one row, in MACHINE_COLUMNS order."""
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
        fmt.percent(row.top1 if row.ok else None),
        fmt.points(row.top1_delta_pt),
        fmt.percent(row.agreement_with_float if row.ok else None),
        row.accuracy_gate,
        fmt.megabytes(row.model_bytes),
        fmt.megabytes(row.peak_rss_bytes),
    ]
    return cells


def machine_notes(table: MachineTable) -> list[Note]:
    """Errors, kernel-path flags and stability warnings, each message said once."""
    rows_by_message: dict[tuple[str, str], list[Row]] = {}
    for row in table.rows:
        messages = []
        if row.error or not row.ok:
            messages.append((f"{row.status}: {row.error or 'no error recorded'}", "error"))
        messages += [(f"kernel path: {flag}", "kernel") for flag in row.kernel_flags]
        messages += [(f"WARNING: {warning}", "warning") for warning in row.warnings]
        if row.rounds_stop_reason and not table.emulated:
            messages.append((f"rounds: {row.rounds_stop_reason}", "info"))
        for message in messages:
            rows_by_message.setdefault(message, []).append(row)
    notes = []
    for (message, kind), rows in rows_by_message.items():
        if len(rows) == len(table.rows) > 1:
            where = "all rows"
        else:
            where = ", ".join(f"{r.variant} (batch {r.batch}, {r.threads} thr)" for r in rows)
        notes.append(Note(where, message, kind))
    return notes


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
    """Changes per machine ("amd64 on old-box → new-box"), one table each."""
    groups: dict[str, list[Change]] = {}
    for change in comparison.changes:
        groups.setdefault(change.where, []).append(change)
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
