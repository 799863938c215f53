"""Turn merged results into report rows: speed-ups, accuracy change, gate, kernel flags.

Plain dataclasses only: the console, markdown, CSV, JSON and chart all read
the same ``Report``. Speed-ups compare a variant only with the float variant
of its own runtime family, on the same host, arch, input shape, batch and
thread count, and only between results whose status is "ok".
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import NamedTuple

from harness.intervals import RoundSide, group_by_round, median_by_round, medians_disagreement, round_side
from harness.report import fmt
from harness.report.accuracy_test import AccuracyTest, accuracy_tests
from harness.report.isa import isa_label
from harness.report.stats import RatioInterval, median_ratio_interval, paired_ratio_interval, point_ratio
from harness.runtime_registry import INT8_PRECISIONS
from harness.schema import (
    SEED_INPUT_SIZE,
    STATUS_OK,
    VARIANTS,
    Result,
    stability_warnings,
    summarize_timings,
)

# MLPerf-style: a quantized model passes when it keeps 99% of float top-1.
ACCURACY_GATE = 0.99
GATED_PRECISIONS = ("int8", "int8-qat", "dynamic-int8", "fakequant")
GATE_PASS, GATE_FAIL, GATE_UNKNOWN = "pass", "fail", "n/a"
MAX_OPS_NAMED = 4

TableKey = tuple[str, str, bool | None]  # host, arch, emulated (None: unknown)


class Setting(NamedTuple):
    """What a comparison holds fixed on one machine: the input shape, the batch, the threads."""

    input_size: int  # the image side (H = W): 32 the seed's, 224 ImageNet's
    batch: int
    threads: int


@dataclass
class Row:
    """One result as the report shows it; summaries are recomputed from raw timings."""

    variant: str
    family: str
    precision: str
    runtime: str
    batch: int
    threads: int
    status: str
    run_id: str
    baseline_variant: str
    error: str | None = None
    n_timings: int = 0
    p50_s: float | None = None
    p90_s: float | None = None
    throughput_ips: float | None = None
    jitter: float | None = None  # p99 / p50 of the calls: the tail, shown, never a reason to withhold
    speedup: RatioInterval | None = None  # vs baseline_variant; None for the baseline itself
    top1: float | None = None  # fraction 0..1
    top1_delta_pt: float | None = None  # percentage points vs the float baseline
    agreement_with_float: float | None = None
    accuracy_tests: list[AccuracyTest] = field(default_factory=list)  # paired McNemar, per reference
    accuracy_gate: str = ""  # "" when the gate does not apply to this precision
    model_bytes: int = 0
    peak_rss_bytes: int | None = None
    warnings: list[str] = field(default_factory=list)
    kernel_flags: list[str] = field(default_factory=list)
    profile: dict | None = None  # where a call's time went (TF profiler), for fake-quant graphs
    rounds_stop_reason: str = ""  # why measure stopped adding process rounds
    round_medians_s: dict[int, float] = field(default_factory=dict)  # process round -> its median
    input_size: int = SEED_INPUT_SIZE  # the image side the network took (H = W)
    macs_per_image: int | None = None  # multiply-adds of one image through its conv and dense layers
    weight_count: int | None = None  # weights (parameters) of its layers
    trained_input_size: int | None = None  # the side its weights were trained at

    @property
    def is_baseline(self) -> bool:
        return self.variant == self.baseline_variant

    @property
    def setting(self) -> Setting:
        return Setting(self.input_size, self.batch, self.threads)

    @property
    def off_training_scale(self) -> bool:
        """True when its top-1 is of the network used at a side it was not trained at."""
        return self.trained_input_size is not None and self.trained_input_size != self.input_size

    @property
    def ok(self) -> bool:
        return self.status == STATUS_OK


@dataclass
class MachineTable:
    """All rows of one (host, arch): what ran on one CPU, natively or under emulation."""

    host: str
    arch: str
    emulated: bool | None  # None: the emulation probe failed, so not known to be a CPU measurement
    isa: str  # label from isa.isa_label
    isa_flags: list[str]
    cpu_model: str
    rows: list[Row]
    cpu_count: int = 0  # CPUs its measure container could run on (0: not recorded)
    # the report names each row's input shape (some result is not at the seed's): fmt.shapes_named
    shapes_named: bool = False

    @property
    def label(self) -> str:
        """E.g. "amd64 (AVX2, no VNNI, native) on ci-amd64"."""
        mode = {True: "emulated", False: "native"}.get(self.emulated, "emulation unknown")
        return f"{self.arch} ({self.isa}, {mode}) on {self.host}"

    def find(self, variant: str, batch: int, threads: int, input_size: int = SEED_INPUT_SIZE) -> Row | None:
        """The row of variant at this setting (at the seed's shape unless input_size says)."""
        wanted = Setting(input_size, batch, threads)
        return next((row for row in self.rows if row.variant == variant and row.setting == wanted), None)

    def find_at(self, variant: str, setting: Setting) -> Row | None:
        """The row of variant at this (input size, batch, threads)."""
        return self.find(variant, setting.batch, setting.threads, setting.input_size)

    def settings(self, input_size: int = SEED_INPUT_SIZE) -> list[tuple[int, int]]:
        """Distinct (batch, threads) pairs at one input shape (the seed's by default), in order."""
        return sorted({(row.batch, row.threads) for row in self.rows if row.input_size == input_size})

    def shaped_settings(self) -> list[Setting]:
        """Every distinct (input size, batch, threads), in display order: each shape's apart."""
        return sorted({row.setting for row in self.rows})

    def input_sizes(self) -> list[int]:
        """The input shapes its rows were measured at, smallest first."""
        return sorted({row.input_size for row in self.rows})

    def shape_of(self, setting: Setting) -> int | None:
        """The input size a sentence about this setting names: None when shapes go unnamed."""
        return setting.input_size if self.shapes_named else None


def build_tables(results: Sequence[Result], shapes_named: bool | None = None) -> list[MachineTable]:
    """Group results per (host, arch, emulated) and compute every row's comparisons, each against
    its baseline at the same input shape, batch and threads. ``shapes_named`` (default: whether
    any result is not at the seed's shape) makes every table name its rows' shapes."""
    if shapes_named is None:
        shapes_named = fmt.shapes_named(result.input_size for result in results)
    groups: dict[TableKey, list[Result]] = {}
    for result in results:
        groups.setdefault((result.host, result.arch, result.emulated), []).append(result)
    tables = []
    for (host, arch, emulated), members in sorted(groups.items(), key=lambda item: _table_order(item[0])):
        members.sort(key=lambda r: (r.input_size, r.batch, r.threads, _variant_order(r.variant)))
        flags = sorted({flag for r in members for flag in r.isa_flags})
        cpu_model = next((r.cpu_model for r in members if r.cpu_model), "")
        by_key = {(r.variant, _setting_of(r)): r for r in members}
        rows = [_row(r, by_key.get((_baseline_of(r), _setting_of(r)))) for r in members]
        cpu_count = max((r.cpu_count for r in members if isinstance(r.cpu_count, int)), default=0)
        isa = isa_label(arch, flags)
        table = MachineTable(host, arch, emulated, isa, flags, cpu_model, rows, cpu_count, shapes_named)
        tables.append(table)
    return tables


def kernel_flags(result: Result) -> list[str]:
    """Why an int8 model may not run on fast integer kernels, from its kernel_path."""
    if _precision_of(result) not in INT8_PRECISIONS or not result.kernel_path:
        return []
    path = result.kernel_path
    flags = []
    delegate = str(path.get("delegate") or "none")  # a runtime with delegates says "none" when it has none
    if "delegate" in path and delegate.lower() == "none":
        flags.append("no delegate: runs on the built-in reference kernels")
    float_ops = _op_names(path.get("float_ops"))
    if float_ops:
        flags.append(f"still computes {_count_ops(path.get('float_ops'))} op(s) in float: {float_ops}")
    outside = _op_names(path.get("outside_delegate_ops"))
    if outside and delegate.lower() != "none":
        count = _count_ops(path.get("outside_delegate_ops"))
        flags.append(f"{count} op(s) outside the {delegate} delegate: {outside}")
    partitions = path.get("xnnpack_partitions")
    if isinstance(partitions, int) and partitions > 1:
        flags.append(f"graph split into {partitions} delegate partitions (data moves between kernels)")
    return flags


def _row(result: Result, baseline: Result | None) -> Row:
    summary = summarize_timings(result.timings_s, result.batch) if result.timings_s else {}
    row = Row(
        variant=result.variant,
        family=result.family or VARIANTS.get(result.variant, ("", "", ""))[0],
        precision=_precision_of(result),
        runtime=result.runtime,
        batch=result.batch,
        threads=result.threads,
        status=result.status,
        run_id=result.run_id,
        baseline_variant=_baseline_of(result),
        error=result.error,
        n_timings=len(result.timings_s),
        p50_s=summary.get("p50_s", result.p50_s),
        p90_s=summary.get("p90_s", result.p90_s),
        throughput_ips=summary.get("throughput_ips", result.throughput_ips),
        jitter=summary.get("jitter", result.jitter),
        top1=result.top1,
        agreement_with_float=result.agreement_with_float,
        accuracy_tests=accuracy_tests(result.paired_correctness),
        model_bytes=result.model_bytes,
        peak_rss_bytes=result.peak_rss_bytes,
        warnings=_warnings(result),
        kernel_flags=kernel_flags(result),
        profile=result.kernel_path.get("profile") if isinstance(result.kernel_path, dict) else None,
        rounds_stop_reason=result.rounds_stop_reason,
        round_medians_s=median_by_round(_timings_by_round(result)),
        input_size=result.input_size,
        macs_per_image=result.macs_per_image,
        weight_count=result.weight_count,
        trained_input_size=result.trained_input_size,
    )
    if not row.ok:
        return row  # a failed or interrupted run is listed, never compared
    usable_baseline = baseline is not None and baseline.status == STATUS_OK
    if usable_baseline and not row.is_baseline:
        row.speedup = speedup(baseline, result)
        if result.top1 is not None and baseline.top1 is not None:
            row.top1_delta_pt = 100.0 * (result.top1 - baseline.top1)
    if row.precision in GATED_PRECISIONS:
        row.accuracy_gate = _gate(result, baseline if usable_baseline else None)
    return row


def speedup(baseline: Result, result: Result) -> RatioInterval | None:
    """result's speed-up over baseline: paired by process round when both were timed in the
    same rounds of one run, else unpaired; a point ratio when too few for an interval."""
    reference, candidate = _timings_by_round(baseline), _timings_by_round(result)
    interval = None
    if reference and candidate and baseline.run_id == result.run_id:
        interval = paired_ratio_interval(reference, candidate)
    else:
        interval = median_ratio_interval(baseline.timings_s, result.timings_s)
    return interval or point_ratio(baseline.timings_s, result.timings_s)


def _timings_by_round(result: Result) -> dict[int, list[float]]:
    """{process round: its seconds}, or {} for results that do not say (schema v1)."""
    return group_by_round(result.timings_s, result.timing_process)


def _warnings(result: Result) -> list[str]:
    """The result's warnings, its stability judged again from its raw timings by today's rule
    (older results carry a per-call stdev rule that read a long tail as instability)."""
    stale = ("unstable:", "only ", "shortest repeat", f"{result.variant}'s processes")
    kept = [w for w in result.warnings if not w.startswith(stale)]
    fresh = stability_warnings(result.timings_s, result.timing_process, result.variant)
    return list(dict.fromkeys(fresh + kept)) if result.timings_s else list(dict.fromkeys(result.warnings))


def unstable_reasons(row: Row) -> list[str]:
    """The warnings that make a row's timings untrustworthy for any speed claim."""
    return [w for w in row.warnings if w.startswith("CPU throttled")]


def agreed_side(reference: Row, candidate: Row) -> RoundSide | None:
    """The side the rounds of reference vs candidate agree on by a sign test, or None."""
    rounds = sorted(set(reference.round_medians_s) & set(candidate.round_medians_s))
    ratios = [
        reference.round_medians_s[r] / candidate.round_medians_s[r]
        for r in rounds
        if candidate.round_medians_s[r] > 0
    ]
    return round_side(ratios)


def round_instability(reference: Row, candidate: Row) -> str:
    """Why the rounds of reference vs candidate give no claim (no centre to their ratios), or ""."""
    found = medians_disagreement(
        reference.round_medians_s, candidate.round_medians_s, (reference.variant, candidate.variant)
    )
    return found.describe() if found else ""


def _gate(result: Result, baseline: Result | None) -> str:
    if result.top1 is None or baseline is None or baseline.top1 is None:
        return GATE_UNKNOWN
    if result.trained_input_size and result.trained_input_size != result.input_size:
        # off the weights' training scale the top-1 measures nothing (224 digits: every image one
        # class), so a top-1 gate would pass or fail on noise; the agreement column still shows it
        return GATE_UNKNOWN
    return GATE_PASS if result.top1 >= ACCURACY_GATE * baseline.top1 else GATE_FAIL


def _setting_of(result: Result) -> Setting:
    return Setting(result.input_size, result.batch, result.threads)


def _baseline_of(result: Result) -> str:
    return result.baseline_variant or VARIANTS.get(result.variant, ("", "", result.variant))[2]


def _precision_of(result: Result) -> str:
    return result.precision or VARIANTS.get(result.variant, ("", "", ""))[1]


def _variant_order(variant: str) -> int:
    names = list(VARIANTS)
    return names.index(variant) if variant in names else len(names)


def _table_order(key: TableKey) -> tuple[bool, str, str]:
    host, arch, emulated = key
    return (emulated is not False, emulated is None, arch, host)  # native tables first


def _op_names(ops: object) -> str:
    if not isinstance(ops, list) or not ops:
        return ""
    unique = list(dict.fromkeys(str(op) for op in ops))
    shown = ", ".join(unique[:MAX_OPS_NAMED])
    return shown + (", …" if len(unique) > MAX_OPS_NAMED else "")


def _count_ops(ops: object) -> int:
    return len(ops) if isinstance(ops, list) else 0
