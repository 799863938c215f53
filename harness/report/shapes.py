"""Why the int8 answer changes with the input shape: multiply-adds per weight byte, per machine.

A float32 call reads every weight once, whatever the batch, and does ``batch × macs_per_image``
multiply-adds with them. At 32×32 and batch 1 that is under one multiply-add per weight byte: the
call waits for its weights, and int8, which moves 4× fewer weight bytes, can beat the ISA's
int8:fp32 multiply-add ratio (``isa.int8_mac_limit``). At 224×224 the same weights serve ~49× more
multiply-adds, the call is bound by arithmetic, and int8 gains what the ISA gives.

Pure functions on the report's tables and verdicts: every speed-up is a verdict's own interval,
never computed again; the multiply-adds and weights come from the results (counted from the model
at prepare). Native machines only: emulated ratios measure QEMU. Rendering is elsewhere
(``shape_cells``, ``render_shapes``, ``export``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from harness.report import fmt
from harness.report.analysis import MachineTable, Row, Setting
from harness.report.isa import int8_mac_limit
from harness.report.stats import RatioInterval
from harness.report.verdicts import UNSTABLE, Verdict
from harness.runtime_registry import runtime_named
from harness.schema import is_known_variant, variant_info

TITLE = "Why the answer changes with the input shape"
# Bytes a call reads per weight, by the variant's precision (schema.VARIANTS). dynamic-int8: its
# weights are stored and read as int8 (only activations are quantized at run time), so 1 byte.
# fakequant: the graph holds float32 weights and fake-quantizes them on every call, so 4 bytes.
BYTES_PER_WEIGHT = {"fp32": 4, "fp16": 2, "int8": 1, "int8-qat": 1, "dynamic-int8": 1, "fakequant": 4}
# The classification's kinds: FleetCell-like short names, said in full by ``bound_text``.
WEIGHT_BOUND = "weights"  # the interval's low end is above the ISA's limit
MAC_BOUND = "multiply-adds"  # the interval holds the limit
BELOW_LIMIT = "below limit"  # the interval is all below the limit
ISA_UNKNOWN = "ISA unknown"
NO_CLAIM = "no claim"  # no interval, or the verdict was withheld as unstable
LABELS = {
    WEIGHT_BOUND: "moving weights",
    MAC_BOUND: "multiply-adds",
    BELOW_LIMIT: "below the limit",
    ISA_UNKNOWN: ISA_UNKNOWN,
}


@dataclass(frozen=True)
class ShapeComparison:
    """One runtime's int8 vs its float32 at one setting, with what the float call costs."""

    runtime: str  # the runtime's label, e.g. "LiteRT"
    float_variant: str
    int8_variant: str
    float_p50_s: float | None
    macs_per_image: int | None
    weight_count: int | None
    float_weight_bytes: int | None  # weights a float32 call reads
    int8_weight_bytes: int | None  # weights an int8 call reads
    intensity: float | None  # multiply-adds per weight byte of a float32 call
    float_macs_per_s: float | None  # multiply-adds per second the float32 call achieved
    speedup: RatioInterval | None  # the verdict's (or, when it had none, the row's point ratio)
    outcome: str  # the verdict's
    bound: str  # WEIGHT_BOUND, MAC_BOUND, BELOW_LIMIT, ISA_UNKNOWN or NO_CLAIM


@dataclass(frozen=True)
class ShapeSetting:
    """One (input shape, batch, threads) of a machine and its runtimes' comparisons there."""

    setting: Setting
    comparisons: list[ShapeComparison]


@dataclass
class ShapeMachine:
    """One native machine measured at more than one input shape."""

    host: str
    arch: str
    label: str  # the machine tables' label
    limit: float | None  # the ISA's int8:fp32 multiply-add ratio
    limit_facts: str
    settings: list[ShapeSetting] = field(default_factory=list)
    answer: str = ""  # one plain statement of the answer, from the numbers


def weight_bytes(variant: str, weight_count: int | None) -> int | None:
    """Bytes of weights one call of variant reads: weight_count × its precision's bytes."""
    per_weight = BYTES_PER_WEIGHT.get(variant_info(variant)[1] if is_known_variant(variant) else "")
    return None if weight_count is None or per_weight is None else weight_count * per_weight


def intensity(batch: int, macs_per_image: int | None, weight_bytes: int | None) -> float | None:
    """Multiply-adds per weight byte of one call: batch × macs_per_image / weight bytes."""
    if not macs_per_image or not weight_bytes:
        return None
    return batch * macs_per_image / weight_bytes


def macs_per_second(batch: int, macs_per_image: int | None, p50_s: float | None) -> float | None:
    """Multiply-adds per second a call achieved: batch × macs_per_image / its median time."""
    if not macs_per_image or not p50_s:
        return None
    return batch * macs_per_image / p50_s


def classify(speedup: RatioInterval | None, outcome: str, limit: float | None) -> str:
    """Where a verdict's interval lies against the ISA's int8:fp32 multiply-add limit: above it
    (its low end over the limit), the float call was bound by moving weights; holding it, by
    multiply-adds; below it, int8 did not reach what the ISA gives."""
    if speedup is None or not speedup.has_interval or outcome == UNSTABLE:
        return NO_CLAIM
    if limit is None:
        return ISA_UNKNOWN
    if speedup.low is not None and speedup.low > limit:
        return WEIGHT_BOUND
    if speedup.high is not None and speedup.high < limit:
        return BELOW_LIMIT
    return MAC_BOUND


def bound_label(comparison: ShapeComparison) -> str:
    """The classification in a table cell: "moving weights", "multiply-adds", ..."""
    kind = comparison.bound
    if kind == NO_CLAIM:
        return "no claim (unstable)" if comparison.outcome == UNSTABLE else "no claim (no interval)"
    return LABELS[kind]


def bound_meaning(kind: str, limit: float | None, byte_ratio: str = "4×") -> str:
    """What a classification's label says, in full, once per kind under the table."""
    label = LABELS.get(kind, "no claim")
    if kind == WEIGHT_BOUND:
        return (
            f"{label}: the interval's low end is above the ISA's ~{limit:g}× limit: float call bound by "
            f"moving weights: int8 moves {byte_ratio} fewer bytes"
        )
    if kind == MAC_BOUND:
        return (
            f"{label}: the interval holds the ISA's ~{limit:g}× limit: bound by multiply-adds: int8 gains "
            f"what the ISA gives (~{limit:g}×)"
        )
    if kind == BELOW_LIMIT:
        # not "bound by multiply-adds": a float call at a few multiply-adds per weight byte is not
        # (its GMAC/s says so); int8 simply reached less than its arithmetic allows
        return (
            f"{label}: the interval lies under the ISA's ~{limit:g}× limit: int8 gains less than its "
            "multiply-adds allow; time outside its int8 multiply-adds (or a float call not bound by "
            "arithmetic, see its GMAC/s) holds it back"
        )
    if kind == ISA_UNKNOWN:
        return f"{label}: no int8:fp32 multiply-add limit to compare with"
    return f"{label}: the verdict has no interval, or was withheld as unstable"


def byte_ratio(comparison: ShapeComparison) -> str:
    """How many times fewer weight bytes the int8 call moves: "4×"."""
    if comparison.float_weight_bytes and comparison.int8_weight_bytes:
        return f"{comparison.float_weight_bytes / comparison.int8_weight_bytes:g}×"
    return "4×"  # float32 vs int8 weights, when the counts are not recorded


def build_shape_machines(tables: Sequence[MachineTable], verdicts: Sequence[Verdict]) -> list[ShapeMachine]:
    """One entry per native machine whose results hold more than one input shape."""
    machines = []
    for table in tables:
        if table.emulated is not False or len(table.input_sizes()) < 2:
            continue
        limit, facts = int8_mac_limit(table.arch, table.isa_flags)
        machine = ShapeMachine(table.host, table.arch, table.label, limit, facts)
        for setting in table.shaped_settings():
            here = [v for v in verdicts if v.machine == table.label and v.setting == setting]
            comparisons = [c for v in here if (c := _comparison(table, v, limit)) is not None]
            if comparisons:
                machine.settings.append(ShapeSetting(setting, comparisons))
        if machine.settings:
            machine.answer = answer(machine)
            machines.append(machine)
    return machines


def _comparison(table: MachineTable, verdict: Verdict, limit: float | None) -> ShapeComparison | None:
    """The verdict's runtime at its setting, when both its rows ran."""
    if not verdict.variant or not verdict.runtime:
        return None
    runtime = runtime_named(verdict.runtime)
    base = table.find_at(runtime.float_variant, verdict.setting)
    int8 = table.find_at(verdict.variant, verdict.setting)
    if base is None or int8 is None or not base.ok or not int8.ok:
        return None
    batch = verdict.setting.batch
    float_bytes = weight_bytes(base.variant, base.weight_count)
    speedup = verdict.speedup or int8.speedup
    return ShapeComparison(
        runtime=runtime.label,
        float_variant=base.variant,
        int8_variant=int8.variant,
        float_p50_s=base.p50_s,
        macs_per_image=base.macs_per_image,
        weight_count=base.weight_count,
        float_weight_bytes=float_bytes,
        int8_weight_bytes=weight_bytes(int8.variant, _weights_of(int8, base)),
        intensity=intensity(batch, base.macs_per_image, float_bytes),
        float_macs_per_s=macs_per_second(batch, base.macs_per_image, base.p50_s),
        speedup=speedup,
        outcome=verdict.outcome,
        bound=classify(verdict.speedup, verdict.outcome, limit),
    )


def answer(machine: ShapeMachine) -> str:
    """One plain statement per machine: at its smallest batch per shape, how many multiply-adds a
    float32 call does per weight byte and per second, and where each runtime's int8 lands against
    the ISA's limit."""
    firsts = _first_per_shape(machine)
    if not firsts:
        return ""
    costs = []
    for index, (setting, comparison) in enumerate(firsts):
        rate = fmt.number(comparison.float_macs_per_s / 1e9 if comparison.float_macs_per_s else None)
        per_byte = fmt.number(comparison.intensity)
        if index == 0:
            costs.append(
                f"At {_shape(setting)} a batch-{setting.batch} float32 call does {per_byte} multiply-adds "
                f"per weight byte ({rate} GMAC/s on {comparison.runtime})"
            )
        else:
            batch = "" if setting.batch == firsts[0][0].batch else f" (batch {setting.batch})"
            costs.append(f"at {_shape(setting)}{batch} {per_byte} ({rate} GMAC/s)")
    gains = []
    for setting, _ in firsts:
        [found] = [shaped for shaped in machine.settings if shaped.setting == setting]
        by_kind: dict[str, list[str]] = {}
        for comparison in found.comparisons:
            by_kind.setdefault(comparison.bound, []).append(
                f"{comparison.runtime} {_ratio(comparison.speedup)}"
            )
        said = [
            f"{_listed(names)} {'is' if len(names) == 1 else 'are'} {_against(kind, machine.limit)}"
            for kind, names in by_kind.items()
        ]
        gains.append(f"at {_shape(setting)} {'; '.join(said)}")
    return ", ".join(costs) + ". int8 vs float32: " + "; ".join(gains) + "."


def _against(kind: str, limit: float | None) -> str:
    """Where a gain lies against the limit, and what that says, for the answer sentence."""
    if kind == WEIGHT_BOUND:
        return f"above the ISA's ~{limit:g}× multiply-add limit (the float call is bound by moving weights)"
    if kind == MAC_BOUND:
        return f"within the ISA's ~{limit:g}× limit (bound by multiply-adds)"
    if kind == BELOW_LIMIT:
        return f"below the ISA's ~{limit:g}× limit (int8 gains less than its multiply-adds allow)"
    if kind == ISA_UNKNOWN:
        return "measured, with no multiply-add limit to compare with (ISA unknown)"
    return "measured with no claim (no interval, or unstable)"


def _listed(names: list[str]) -> str:
    return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} and {names[-1]}"


def _first_per_shape(machine: ShapeMachine) -> list[tuple[Setting, ShapeComparison]]:
    """Per input shape, its smallest setting with a float call whose intensity is known."""
    firsts: dict[int, tuple[Setting, ShapeComparison]] = {}
    for shaped in machine.settings:
        known = [c for c in shaped.comparisons if c.intensity is not None]
        if known and shaped.setting.input_size not in firsts:
            firsts[shaped.setting.input_size] = (shaped.setting, known[0])
    return [firsts[size] for size in sorted(firsts)]


def _weights_of(int8: Row, base: Row) -> int | None:
    return int8.weight_count if int8.weight_count is not None else base.weight_count


def _shape(setting: Setting) -> str:
    return fmt.shape(setting.input_size)


def _ratio(speedup: RatioInterval | None) -> str:
    return fmt.ratio(speedup, with_rounds=False)
