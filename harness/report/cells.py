"""Plain-text table cells shared by the console and the markdown file, so both say the same."""

from __future__ import annotations

from dataclasses import dataclass

from harness.report import fmt
from harness.report.analysis import MachineTable, Row
from harness.report.compare import Change, Comparison
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
    ("img/s", "right"),
    ("speed-up [95% CI]", "left"),
    ("top-1", "right"),
    ("Δ pt", "right"),
    ("agree", "right"),
    ("gate", "left"),
    ("size", "right"),
    ("peak mem", "right"),
)
SPEEDUP_COLUMN = 7
STATUS_COLUMN = 4
GATE_COLUMN = 11

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


@dataclass
class Note:
    """One message about one or more rows of a machine table."""

    rows: str  # "all rows" or "tflite-int8 (batch 8, 4 thr), ..."
    message: str
    kind: str  # "error", "kernel" or "warning"

    @property
    def text(self) -> str:
        return f"{self.rows}: {self.message}"


def machine_cells(row: Row) -> list[str]:
    """The machine-table cells of one row, in MACHINE_COLUMNS order."""
    marked = row.variant + (NOTE_MARK if row.warnings or row.kernel_flags or not row.ok else "")
    cells = [marked, fmt.runtime(row.runtime), str(row.batch), str(row.threads)]
    if row.ok:
        cells += [fmt.ms(row.p50_s), fmt.ms(row.p90_s), fmt.rate(row.throughput_ips)]
    else:
        cells += [row.status, fmt.DASH, fmt.DASH]
    cells.append(BASELINE if row.is_baseline else fmt.ratio(row.speedup))
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


def machine_title(table: MachineTable) -> tuple[str, str]:
    """(label with CPU model, emulation warning or "")."""
    title = table.label + (f" · {table.cpu_model}" if table.cpu_model else "")
    warning = "EMULATED (QEMU): not a CPU measurement" if table.emulated else ""
    return title, warning
