"""The sentences a reader acts on: one speed verdict per machine and setting, and the 2018 row.

A verdict only ever compares a runtime's native int8 with the same runtime's
native float32 on the same host, arch, input shape, batch and threads (the runtimes and
their int8 variants come from their declarations, ``runtime_registry``), and says "no measurable
difference" whenever the 95% interval touches 1. Emulated machines get an
explicit "no speed verdict" line instead.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from harness.intervals import RoundSide
from harness.report import fmt
from harness.report.analysis import (
    GATE_FAIL,
    GATE_PASS,
    MachineTable,
    Row,
    Setting,
    agreed_side,
    round_instability,
    unstable_reasons,
)
from harness.report.isa import has_int8_dot_product, missing_int8_instructions
from harness.report.stats import FASTER, NO_DIFFERENCE, SLOWER, RatioInterval, invert
from harness.runtime_registry import RuntimeSpec, runtimes
from harness.schema import SEED_INPUT_SIZE

NO_SPEED_VERDICT = "no speed verdict"
NO_VERDICT = "no verdict"
UNSTABLE = "unstable"  # an interval exists, but its rounds have no common ratio or a side was throttled


@dataclass
class Verdict:
    """The answer for one machine at one (input shape, batch, threads)."""

    machine: str
    host: str
    arch: str
    emulated: bool | None
    batch: int
    threads: int
    outcome: str  # stats.FASTER / SLOWER / NO_DIFFERENCE, or NO_SPEED_VERDICT / NO_VERDICT / UNSTABLE
    text: str
    variant: str | None = None
    speedup: RatioInterval | None = None
    top1_delta_pt: float | None = None
    accuracy_gate: str = ""
    causes: list[str] = field(default_factory=list)
    runtime: str = ""  # the registry name of the runtime whose int8 and float32 are compared
    input_size: int = SEED_INPUT_SIZE
    # the side alone (FASTER/SLOWER, the magnitude withheld): the rounds agree on it, not on a ratio
    side: RoundSide | None = None

    @property
    def setting(self) -> Setting:
        return Setting(self.input_size, self.batch, self.threads)


@dataclass
class Reproduction:
    """What the 2018 author timed (TF fake-quant vs TF float) next to real int8."""

    machine: str
    emulated: bool | None
    batch: int
    threads: int
    fakequant_speedup: RatioInterval | None
    int8_speedup: RatioInterval | None
    text: str
    fakequant_cost: str = ""  # where the fake-quant graph's time goes, from its TF profile
    input_size: int = SEED_INPUT_SIZE  # always the seed's: the 2018 row is about its shape


def verdict_runtimes() -> list[RuntimeSpec]:
    """Runtimes that declare an int8 variant a verdict is about."""
    return [runtime for runtime in runtimes() if any(v.verdict_name for v in runtime.variants)]


def build_verdicts(tables: Sequence[MachineTable]) -> list[Verdict]:
    """One verdict per machine, (input shape, batch, threads) and runtime that has a result there."""
    verdicts = []
    for table in tables:
        for setting in table.shaped_settings():
            for runtime in verdict_runtimes():
                if table.find_at(runtime.float_variant, setting) or _int8_row(table, runtime, setting):
                    verdicts.append(_verdict(table, runtime, setting))
    return verdicts


def build_reproductions(tables: Sequence[MachineTable]) -> list[Reproduction]:
    """One 2018 row per native machine and (batch, threads) that ran the fake-quant graph.

    The row is a speed statement, so emulated machines get none: their ratios
    measure QEMU (which slows float code far more than int8 code) and stay in
    their dimmed machine table, never side by side with a CPU's ratios. It is
    about the 2018 setup, so only results at the seed's input shape stand in it.
    """
    rows = []
    runtime = verdict_runtimes()[0]  # the 2018 row sets real int8 of the first such runtime beside it
    for table in tables:
        if table.emulated is not False:  # emulated, or not known to be native
            continue
        for batch, threads in table.settings(SEED_INPUT_SIZE):
            setting = Setting(SEED_INPUT_SIZE, batch, threads)
            fakequant = table.find_at("tf-fakequant", setting)
            if fakequant is None:
                continue
            int8 = _int8_row(table, runtime, setting)
            fq_speedup = fakequant.speedup if fakequant.ok else None
            int8_speedup = int8.speedup if int8 is not None and int8.ok else None
            where = setting_text(batch, threads, table.shape_of(setting))
            text = (
                f"{table.label}, {where}: the TF fake-quant graph (float kernels "
                f"plus quantize ops, no int8 arithmetic) runs at {_speed(fakequant, fq_speedup)} of "
                f"the TF float graph; real int8 ({_int8_name(runtime, int8)}) runs at "
                f"{_speed(int8, int8_speedup)} of {_float_name(runtime)}"
            )
            cost = fakequant_cost(fakequant.profile)
            if cost:
                text += f". Why fake-quant is slow (measured): {cost}"
            rows.append(
                Reproduction(
                    table.label, table.emulated, batch, threads, fq_speedup, int8_speedup, text, cost
                )
            )
    return rows


def fakequant_cost(profile: object) -> str:
    """The measured reason, from the TF profile in the fake-quant result's kernel path."""
    if not isinstance(profile, dict) or not profile.get("top_ops"):
        return ""
    try:
        top = profile["top_ops"][0]
        share, op, count, weights = top["share"], top["type"], top["in_graph"], top["on_weights"]
        ms, batch = top["ms_per_call"], profile["batch"]
    except (KeyError, IndexError, TypeError):
        return ""
    on = "all on weights" if weights and weights == count else f"{weights} of {count} on weights"
    text = f"{share * 100:.0f}% of a batch-{batch} call's op time ({ms:.0f} ms) is {op} ({count} ops, {on})"
    if weights and weights == count:
        text += ": the weights are fake-quantized again on every call, whatever the batch"
    return text


def _verdict(table: MachineTable, runtime: RuntimeSpec, setting: Setting) -> Verdict:
    int8 = _int8_row(table, runtime, setting)
    base = table.find_at(runtime.float_variant, setting)
    float_name = _float_name(runtime)
    machine = (table.label, table.host, table.arch, table.emulated)
    batch, threads = setting.batch, setting.threads
    verdict = Verdict(
        *machine, batch, threads, NO_VERDICT, "", runtime=runtime.name, input_size=setting.input_size
    )
    head = f"{table.label}: "
    where = f"at {setting_text(batch, threads, table.shape_of(setting))}"
    if int8 is not None:
        verdict.variant = int8.variant
        verdict.top1_delta_pt = int8.top1_delta_pt
        verdict.accuracy_gate = int8.accuracy_gate
    problem = _missing(runtime, int8, base)
    if problem:
        verdict.text = f"{head}{NO_VERDICT} {where}: {problem}"
        return verdict
    accuracy = _accuracy(int8)
    if table.emulated is not False:
        verdict.outcome = NO_SPEED_VERDICT
        why = (
            f"emulated timings measure QEMU, not {table.arch} hardware"
            if table.emulated
            else "the emulation probe failed, so these may be emulated timings"
        )
        verdict.text = f"{head}{NO_SPEED_VERDICT} {where}: {why}; {accuracy}"
        return verdict
    if int8.speedup is None or not int8.speedup.has_interval:
        verdict.text = (
            f"{head}{NO_VERDICT} {where}: too few timings for a confidence interval "
            f"({fmt.ratio(int8.speedup)}); {accuracy}"
        )
        return verdict
    unstable = unstable_notes(int8, base)
    side = direction_only(int8, base, unstable)
    if side is not None:
        name = _verdict_name(runtime, int8.variant)
        verdict.outcome, verdict.speedup, verdict.side = (
            (FASTER if side.faster else SLOWER),
            int8.speedup,
            side,
        )
        verdict.text = (
            f"{head}{side.describe(name, f'{float_name} {where}')}; the magnitude is withheld: "
            f"{unstable[0].removeprefix('unstable: ').rstrip('.')}; {accuracy}"
        )
        return verdict
    if unstable:
        verdict.outcome = UNSTABLE
        verdict.speedup = int8.speedup
        verdict.text = (
            f"{head}{UNSTABLE} {where}, no speed claim (measured {fmt.ratio(int8.speedup)}): "
            f"{unstable[0].rstrip('.')}; {accuracy}"
        )
        return verdict
    name = _verdict_name(runtime, int8.variant)
    verdict.speedup = int8.speedup
    verdict.outcome = int8.speedup.direction
    claim = speed_claim(name, f"{float_name} {where}", int8.speedup)
    verdict.text = f"{head}{claim}; {accuracy}"
    if verdict.outcome in (SLOWER, NO_DIFFERENCE):
        verdict.causes = _likely_causes(table, int8)
        if verdict.causes:
            verdict.text += "; likely cause: " + "; ".join(verdict.causes)
    return verdict


def speed_claim(subject: str, reference: str, ratio: RatioInterval) -> str:
    """ "A is r× [lo–hi] faster/slower than B", or "A vs B: no measurable difference (r×)"."""
    if ratio.direction == FASTER:
        return f"{subject} is {fmt.ratio(ratio)} faster than {reference}"
    if ratio.direction == SLOWER:
        return f"{subject} is {fmt.ratio(invert(ratio))} slower than {reference}"
    return f"{subject} vs {reference}: {NO_DIFFERENCE} ({fmt.ratio(ratio)})"


def direction_only(candidate: Row, reference: Row, unstable: list[str]) -> RoundSide | None:
    """The side a claim may still take when its rounds have no common ratio but agree on which
    side is faster (a sign test over the rounds); None when anything else withholds it (a side was
    throttled) or the rounds disagree on the side as well."""
    if not unstable or any(not note.startswith("unstable: the rounds disagree") for note in unstable):
        return None
    return agreed_side(reference, candidate)


def unstable_notes(candidate: Row, reference: Row) -> list[str]:
    """Why a claim of candidate vs reference would not stand: their rounds' ratios have no
    centre, or a side's CPU quota throttled it ("variant: reason")."""
    notes = [round_instability(reference, candidate)]
    notes += [
        f"{row.variant}: {reason}" for row in (candidate, reference) for reason in unstable_reasons(row)
    ]
    return [note for note in notes if note]


def _int8_row(table: MachineTable, runtime: RuntimeSpec, setting: Setting) -> Row | None:
    """The runtime's first declared verdict variant that has a row here."""
    here = {row.variant for row in table.rows if row.setting == setting}
    variant = runtime.verdict_variant(here)
    return table.find_at(variant.name, setting) if variant else None


def _verdict_name(runtime: RuntimeSpec, variant: str) -> str:
    return next(v.verdict_name for v in runtime.variants if v.name == variant)


def _float_name(runtime: RuntimeSpec) -> str:
    return f"float32 {runtime.label}"


def _missing(runtime: RuntimeSpec, int8: Row | None, base: Row | None) -> str:
    """Why no comparison is possible, or "" when both sides are usable."""
    if int8 is None:
        return f"no {runtime.label} int8 result"
    if base is None:
        return f"no {_float_name(runtime)} baseline ({runtime.float_variant}) to compare {int8.variant} with"
    for row in (int8, base):
        if not row.ok:
            reason = f": {row.error}" if row.error else ""
            return f"{row.variant} is {row.status}{reason}"
    return ""


def _accuracy(row: Row) -> str:
    if row.top1_delta_pt is not None:
        gate = {GATE_PASS: "pass", GATE_FAIL: "FAIL"}.get(row.accuracy_gate, "n/a")
        tests = "".join(f"; {test.describe()}" for test in row.accuracy_tests)
        top1 = "top-1" + (fmt.OFF_SCALE if row.off_training_scale else "")
        return f"accuracy {fmt.points(row.top1_delta_pt)} pt {top1} (99% gate: {gate}){tests}"
    if row.agreement_with_float is not None:
        agreement = fmt.percent(row.agreement_with_float)
        return f"accuracy not measured (no labels); agrees with float on {agreement}"
    return "accuracy not measured"


def _likely_causes(table: MachineTable, int8: Row) -> list[str]:
    causes = list(int8.kernel_flags)
    if has_int8_dot_product(table.arch, table.isa_flags) is False:
        causes.append(f"this CPU has {missing_int8_instructions(table.arch)} for int8 math")
    return causes


def _speed(row: Row | None, speedup: RatioInterval | None) -> str:
    if row is None:
        return "— (not measured)"
    if not row.ok:
        return f"— ({row.status})"
    return fmt.ratio(speedup) if speedup else "— (no timings)"


def _int8_name(runtime: RuntimeSpec, row: Row | None) -> str:
    return f"{runtime.label} {_verdict_name(runtime, row.variant)}" if row else f"{runtime.label} int8"


def setting_text(batch: int, threads: int, input_size: int | None = None) -> str:
    """ "batch 8, 4 threads", after the shape when one is named: "224×224, batch 8, 4 threads"."""
    thread_text = "default threads" if threads <= 0 else f"{threads} thread{'s' if threads != 1 else ''}"
    shape = f"{fmt.shape(input_size)}, " if input_size is not None else ""
    return f"{shape}batch {batch}, {thread_text}"
