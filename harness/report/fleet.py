"""The fleet view: which of the measured CPUs gain how much from int8, side by side.

One ``FleetRow`` per native machine (host, arch): its CPU, its int8 instructions, the CPUs its
container could use, and at each (input shape, batch, threads) the int8-vs-float32 speed-up of every runtime
with a verdict (``verdicts.verdict_runtimes``), plus the fastest int8 vs the fastest float32 of
any runtime (the headline). Nothing is computed again: every number is a verdict's or a
headline's, so a cell says what that machine's own verdict line says, and a verdict withheld as
unstable or interval-less is withheld here too.

Emulated machines, and machines whose emulation probe failed, are left out, each named in one
line: their ratios measure QEMU, and a fleet table exists to set ratios side by side. The view is
built only for two or more native machines; for one, its own tables and verdicts are the answer.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from harness.intervals import RoundSide
from harness.report.analysis import MachineTable
from harness.report.headline import Headline
from harness.report.isa import has_int8_dot_product
from harness.report.stats import RatioInterval
from harness.report.verdicts import NO_VERDICT, UNSTABLE, Verdict, verdict_runtimes
from harness.schema import SEED_INPUT_SIZE

MIN_MACHINES = 2  # one machine's own report is its answer
FASTEST = "fastest"  # FleetCell.name of the fastest int8 vs the fastest float32, any runtime
# FleetCell.note: why a cell makes no claim ("" when it does, or when it holds a point ratio)
NOT_MEASURED = "not measured"
NO_BASELINE = "no float32"


@dataclass
class FleetCell:
    """One comparison on one machine at one setting: a runtime's int8 vs its float32, or the
    fastest int8 vs the fastest float32 (name FASTEST)."""

    name: str  # the runtime's registry name, or FASTEST
    label: str  # "LiteRT", "ONNX Runtime", ..., or "any runtime"
    outcome: str  # the verdict's or headline's: FASTER / SLOWER / NO_DIFFERENCE / UNSTABLE / NO_VERDICT
    speedup: RatioInterval | None = None  # the verdict's interval, or the point ratio it had none for
    int8_variant: str | None = None
    float_variant: str | None = None
    int8_p50_s: float | None = None
    float_p50_s: float | None = None
    note: str = ""  # NOT_MEASURED, NO_BASELINE, or a side's status ("failed"); "" otherwise
    side: RoundSide | None = None  # the side alone: the rounds agree on it, not on a ratio

    @property
    def claims(self) -> bool:
        """True when the cell is a speed claim with a magnitude: an interval, stable rounds."""
        return self.outcome not in (NO_VERDICT, UNSTABLE) and self.speedup is not None and self.side is None


@dataclass
class FleetSetting:
    """One (input shape, batch, threads) of one machine: a cell per runtime, and the fastest pair."""

    batch: int
    threads: int
    runtimes: list[FleetCell]  # in runtime order, one per verdict runtime
    fastest: FleetCell | None  # None when the machine has no usable int8 or float32 here
    input_size: int = SEED_INPUT_SIZE


@dataclass
class FleetRow:
    """One native machine of the fleet."""

    host: str
    arch: str
    label: str  # the machine tables' label, e.g. "amd64 (AVX2, no VNNI, native) on local"
    cpu_model: str
    isa: str  # the int8-relevant features, isa.isa_label: "AVX-512, AVX512-VNNI, AMX-INT8"
    int8_dot_product: bool | None  # VNNI/AMX or dot-product/i8mm; None: flags not recorded
    cpus: int  # CPUs its measure container could run on (0: not recorded)
    settings: list[FleetSetting] = field(default_factory=list)

    @property
    def name(self) -> str:
        return f"{self.host} {self.arch}"


@dataclass
class Fleet:
    """The native machines side by side, and the machines left out of it (one line each)."""

    rows: list[FleetRow]
    runtimes: list[str]  # runtime labels, in column order
    left_out: list[str] = field(default_factory=list)
    shapes_named: bool = False  # each setting names its input shape (fmt.shapes_named)


def build_fleet(
    tables: Sequence[MachineTable], verdicts: Sequence[Verdict], headlines: Sequence[Headline]
) -> Fleet | None:
    """The fleet of the native machines among ``tables``, or None for fewer than MIN_MACHINES."""
    native = [table for table in tables if table.emulated is False]
    if len({(table.host, table.arch) for table in native}) < MIN_MACHINES:
        return None
    verdict_of = {(v.machine, v.setting, v.runtime): v for v in verdicts}
    headline_of = {(h.machine, h.setting): h for h in headlines}
    rows = []
    for table in native:
        row = FleetRow(
            host=table.host,
            arch=table.arch,
            label=table.label,
            cpu_model=table.cpu_model,
            isa=table.isa,
            int8_dot_product=has_int8_dot_product(table.arch, table.isa_flags),
            cpus=table.cpu_count,
        )
        for setting in table.shaped_settings():
            cells = [
                _runtime_cell(table, verdict_of.get((table.label, setting, runtime.name)), runtime)
                for runtime in verdict_runtimes()
            ]
            headline = headline_of.get((table.label, setting))
            fastest = _fastest_cell(table, headline) if headline is not None else None
            row.settings.append(
                FleetSetting(setting.batch, setting.threads, cells, fastest, setting.input_size)
            )
        rows.append(row)
    left_out = [_left_out_line(table) for table in tables if table.emulated is not False]
    named = any(table.shapes_named for table in tables)
    return Fleet(rows, [runtime.label for runtime in verdict_runtimes()], left_out, named)


def _runtime_cell(table: MachineTable, verdict: Verdict | None, runtime) -> FleetCell:
    """The verdict's outcome and interval; when it has none, the point ratio it was withheld
    for, or why there is nothing to compare."""
    cell = FleetCell(runtime.name, runtime.label, NO_VERDICT, float_variant=runtime.float_variant)
    if verdict is None or verdict.variant is None:
        cell.note = NOT_MEASURED
        return cell
    int8 = table.find_at(verdict.variant, verdict.setting)
    base = table.find_at(runtime.float_variant, verdict.setting)
    cell.outcome, cell.int8_variant, cell.side = verdict.outcome, verdict.variant, verdict.side
    cell.int8_p50_s = int8.p50_s if int8 is not None and int8.ok else None
    cell.float_p50_s = base.p50_s if base is not None and base.ok else None
    if base is None:
        cell.note = NO_BASELINE
    elif int8 is None or not int8.ok or not base.ok:
        failed = [row.status for row in (int8, base) if row is not None and not row.ok]
        cell.note = failed[0] if failed else NOT_MEASURED
    else:
        # the verdict's interval; withheld for too few timings, the row's point ratio instead
        cell.speedup = verdict.speedup or int8.speedup
    return cell


def _fastest_cell(table: MachineTable, headline: Headline) -> FleetCell:
    int8 = table.find_at(headline.int8_variant or "", headline.setting)
    base = table.find_at(headline.float_variant or "", headline.setting)
    return FleetCell(
        FASTEST,
        "any runtime",
        headline.outcome,
        headline.speedup,
        headline.int8_variant,
        headline.float_variant,
        int8.p50_s if int8 is not None else None,
        base.p50_s if base is not None else None,
        side=headline.side,
    )


def _left_out_line(table: MachineTable) -> str:
    why = (
        "emulated (QEMU): its ratios measure the emulator"
        if table.emulated
        else "the emulation probe failed: its ratios may measure an emulator"
    )
    return f"{table.arch} on {table.host}: {why}, no speed claim"
