"""Explain one number: a variant and its float baseline side by side, op by op, against the ISA.

Fed by result files only (their ``op_profile``, ``kernel_path``, timings): the
profiles come from a profiled pass of their own in the bench, never from the
timed calls. Pure functions; rendering is in ``render.py``.
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import dataclass

from harness.errors import UserError
from harness.op_profile import METHOD_NONE, METHOD_STAGES, PRECISION_CONVERT, PRECISION_INT8, OpProfile
from harness.report import fmt
from harness.report.analysis import speedup
from harness.report.isa import int8_mac_limit, isa_label
from harness.report.stats import RatioInterval
from harness.schema import SEED_INPUT_SIZE, STATUS_OK, VARIANTS, Result, is_known_variant, variant_info

TOP_ROWS = 8


@dataclass(frozen=True)
class Side:
    """One variant of the comparison: its median call and where that call's time goes."""

    variant: str
    precision: str
    p50_s: float | None
    profile: OpProfile | None
    why_no_profile: str  # "" when there is a profile
    parallelism: float | None  # CPU time / wall time over its timed calls

    def outside_integer(self) -> str:
        """Share of the call outside integer kernels, split by precision: "12% (fp32 9%, convert 3%)"."""
        if self.profile is None or self.profile.method == METHOD_NONE or not self.profile.rows:
            return fmt.DASH
        if self.profile.method == METHOD_STAGES and self.precision != "fp32":
            converts = sum(row.kernel.count("QUANTIZE") for row in self.profile.rows)
            inside = f"{converts} (de)quantize op(s) sit inside int8 stages"
            stages = sum(
                self.profile.share(row) for row in self.profile.rows if row.precision != PRECISION_INT8
            )
            if stages == 0:
                return f"n/a per stage ({inside})"
            return f"{stages:.0%} in stages not all int8 ({inside})"
        shares = self.profile.share_by_precision()
        outside = {name: share for name, share in shares.items() if name != PRECISION_INT8}
        parts = ", ".join(
            f"{name} {share:.0%}" for name, share in sorted(outside.items(), key=lambda kv: -kv[1])
        )
        return f"{sum(outside.values()):.0%}" + (f" ({parts})" if parts else "")


@dataclass(frozen=True)
class Explanation:
    """Everything ``quantbench explain`` prints for one variant on one machine, input shape, batch and
    thread count."""

    host: str
    arch: str
    cpu_model: str
    isa: str
    batch: int
    threads: int
    variant: Side
    baseline: Side
    speedup: RatioInterval | None
    limit: float | None  # the ISA's int8:fp32 multiply-add ratio
    limit_facts: str
    input_size: int = SEED_INPUT_SIZE
    shape_named: bool = False  # the variant was measured at other shapes than the seed's: say which

    @property
    def setting(self) -> str:
        """ "batch 64" or, when shapes are named, "224×224, batch 64"."""
        return (f"{fmt.shape(self.input_size)}, " if self.shape_named else "") + f"batch {self.batch}"

    def roofline(self) -> str:
        """The measured ratio against the ISA's int8:fp32 multiply-add limit, in one sentence."""
        measured = fmt.ratio(self.speedup)
        if self.limit is None or self.speedup is None:
            return f"measured {measured}; {self.limit_facts}"
        reached = self.speedup.ratio / self.limit
        if reached > 1.05:
            why = (
                "above the multiply-add limit: the float call was bound by something int8 shrinks "
                "more than arithmetic (4x smaller weights to move), not by multiply-adds"
            )
        elif reached >= 0.8:
            why = "near the multiply-add limit"
        else:
            why = f"{reached:.0%} of the multiply-add limit: time outside integer multiply-adds holds it back"
        return (
            f"measured {self.variant.variant}:{self.baseline.variant} {measured} at {self.setting}; "
            f"the ISA's int8:fp32 multiply-add limit here is ~{self.limit:g}x ({self.limit_facts}): {why}"
        )

    def summary(self) -> str:
        """One line for the report: the ratio, time outside integer kernels, the top rows, the limit."""
        mine, theirs = self.variant, self.baseline
        text = f"{mine.variant} vs {theirs.variant}, {self.setting}, {self.threads} thread(s): "
        text += fmt.ratio(self.speedup)
        if mine.profile is None:
            text += f"; {mine.why_no_profile}"
        else:
            text += f"; outside integer kernels {mine.outside_integer()}"
            tops = [
                f"{side.variant} {row.name} ({row.precision}) {side.profile.share(row):.0%}"
                for side in (mine, theirs)
                if side.profile is not None and side.profile.rows
                for row in [max(side.profile.rows, key=lambda row: row.ms)]
            ]
            text += f"; largest: {', '.join(tops)}" if tops else ""
        if self.limit is not None and self.speedup is not None:
            text += f"; ISA limit ~{self.limit:g}x, reached {self.speedup.ratio / self.limit:.0%}"
        return text

    def rows(self, top: int = TOP_ROWS) -> list[tuple[str, ...]]:
        """Side-by-side rows: stages aligned by name (with their fp32/int8 ratio), op types by rank."""
        mine, theirs = self.variant.profile, self.baseline.profile
        if mine is None or theirs is None:
            return []
        if mine.method == theirs.method == METHOD_STAGES:
            by_name = {row.name: row for row in theirs.rows}
            lines = []
            for row in mine.rows:
                other = by_name.get(row.name)
                ratio = f"{other.ms / row.ms:.2f}x" if other and row.ms > 0 else fmt.DASH
                lines.append(
                    (
                        row.name,
                        *_cells(mine, row),
                        *(_cells(theirs, other) if other else ("", "", "", "")),
                        ratio,
                    )
                )
            return lines
        left, right = mine.rows[:top], theirs.rows[:top]
        lines = []
        for index in range(max(len(left), len(right))):
            a = _cells(mine, left[index], named=True) if index < len(left) else ("",) * 5
            b = _cells(theirs, right[index], named=True) if index < len(right) else ("",) * 5
            lines.append((*a, *b))
        return lines


def _cells(profile: OpProfile, row, named: bool = False) -> tuple[str, ...]:
    """(name?), share, ms, precision, count of one row. The kernel only when the profile's
    differ (one kernel for all is said once, in the profile's line): after the name in a named
    row, after the precision otherwise."""
    kernel = ""
    if row.kernel and len({r.kernel for r in profile.rows}) > 1 and row.precision != PRECISION_CONVERT:
        kernel = f" ({row.kernel})"
    share, ms = f"{profile.share(row):.0%}", f"{row.ms:.3g}"
    if named:
        return (row.name + kernel, share, ms, row.precision, str(row.count))
    return (share, ms, row.precision + kernel, str(row.count))


def common_kernel(profile: OpProfile) -> str:
    """The one kernel every row ran in ("" when they differ or none is named)."""
    kernels = {row.kernel for row in profile.rows}
    return next(iter(kernels)) if len(kernels) == 1 else ""


def explain(
    results: Sequence[Result],
    variant: str,
    *,
    batch: int | None = None,
    threads: int | None = None,
    host: str | None = None,
    arch: str | None = None,
    input_size: int | None = None,
    shapes_named: bool | None = None,
) -> Explanation:
    """The explanation of ``variant`` on one native machine at one input shape (the seed's by
    default, when measured); UserError saying what to choose. ``shapes_named`` (default: whether
    the variant was measured off the seed's shape) makes its lines name the shape."""
    if not is_known_variant(variant):
        raise UserError(f"unknown variant {variant!r}; choose from: {', '.join(VARIANTS)}.")
    native = [
        r
        for r in results
        if r.emulated is False
        and r.status == STATUS_OK
        and not r.scenario
        and (host is None or r.host == host)
        and (arch is None or r.arch == arch)
    ]
    candidates = [r for r in native if r.variant == variant]
    if not candidates:
        raise UserError(
            f"no native, ok result of {variant} here"
            + (f" for host {host}" if host else "")
            + (f" and arch {arch}" if arch else "")
            + "; emulated results have no profile. Measure it natively, or name another --variant."
        )
    machines = sorted({(r.host, r.arch) for r in candidates})
    if len(machines) > 1:
        names = ", ".join(f"--host {h} --arch {a}" for h, a in machines)
        raise UserError(f"{variant} was measured on {len(machines)} machines; choose one: {names}.")
    sizes = sorted({r.input_size for r in candidates})
    size = _input_size(sizes, input_size, variant)
    named = fmt.shapes_named(sizes) if shapes_named is None else shapes_named
    candidates = [r for r in candidates if r.input_size == size]
    profiled = [r for r in candidates if isinstance(r.op_profile, dict)] or candidates
    chosen = _pick(profiled, batch, threads, variant)
    baseline_name = variant_info(variant)[2]
    baseline = next(
        (
            r
            for r in native
            if (r.variant, r.host, r.arch, r.input_size, r.batch, r.threads)
            == (baseline_name, chosen.host, chosen.arch, size, chosen.batch, chosen.threads)
        ),
        None,
    )
    if baseline is None:
        shape = f"{fmt.shape(size)}, " if named else ""
        raise UserError(
            f"{variant} at {shape}batch {chosen.batch}, {chosen.threads} threads has no {baseline_name} "
            "result beside it to compare with; measure both (--variants all)."
        )
    limit, facts = int8_mac_limit(chosen.arch, chosen.isa_flags)
    return Explanation(
        host=chosen.host,
        arch=chosen.arch,
        cpu_model=chosen.cpu_model,
        isa=isa_label(chosen.arch, chosen.isa_flags),
        batch=chosen.batch,
        threads=chosen.threads,
        variant=side_of(chosen),
        baseline=side_of(baseline),
        speedup=speedup(baseline, chosen) if variant != baseline_name else None,
        limit=limit,
        limit_facts=facts,
        input_size=size,
        shape_named=named,
    )


def _input_size(sizes: list[int], asked: int | None, variant: str) -> int:
    """The shape asked for, or by default the seed's (or the only one measured)."""
    measured = ", ".join(f"{fmt.shape(size)} (--input-size {size})" for size in sizes)
    if asked is None:
        if SEED_INPUT_SIZE in sizes or len(sizes) == 1:
            return SEED_INPUT_SIZE if SEED_INPUT_SIZE in sizes else sizes[0]
        raise UserError(f"{variant} was measured at several input shapes; choose one: {measured}.")
    if asked not in sizes:
        raise UserError(f"no result of {variant} at {fmt.shape(asked)} here; it was measured at {measured}.")
    return asked


def _pick(results: list[Result], batch: int | None, threads: int | None, variant: str) -> Result:
    """The result at batch and threads; by default the largest batch, then the most threads."""
    matching = [
        r
        for r in results
        if (batch is None or r.batch == batch) and (threads is None or r.threads == threads)
    ]
    if not matching:
        have = ", ".join(sorted({f"batch {r.batch} with {r.threads} threads" for r in results}))
        raise UserError(f"no result of {variant} at the batch and threads asked; it has: {have}.")
    return max(matching, key=lambda r: (r.batch, r.threads))


def side_of(result: Result) -> Side:
    """One side of the comparison, from its result."""
    raw = result.op_profile
    profile, why = None, "no profile recorded (an emulated run, or a result from before schema 4)"
    if isinstance(raw, dict) and "error" in raw:
        why = f"the profiled pass failed: {raw['error']}"
    elif isinstance(raw, dict):
        profile, why = OpProfile.from_dict(raw), ""
    p50 = statistics.median(result.timings_s) if result.timings_s else None
    return Side(result.variant, result.precision, p50, profile, why, result.effective_parallelism)


def report_lines(results: Sequence[Result], shapes_named: bool | None = None) -> list[str]:
    """One summary line per native machine, input shape and full-integer int8 variant that has a
    profile; each names its shape when ``shapes_named`` (default: some result is off the seed's)."""
    lines = []
    named = fmt.shapes_named(r.input_size for r in results) if shapes_named is None else shapes_named
    machines = sorted({(r.host, r.arch) for r in results if r.emulated is False})
    for host, arch in machines:
        here = [r for r in results if (r.host, r.arch) == (host, arch)]
        for size in sorted({r.input_size for r in here}):
            at_size = [r for r in here if r.input_size == size]
            profiled = {r.variant for r in at_size if isinstance(r.op_profile, dict)}
            int8 = [v for v, (_, precision, _) in VARIANTS.items() if precision == "int8" and v in profiled]
            for name in int8:
                where = dict(host=host, arch=arch, input_size=size, shapes_named=named)
                try:
                    lines.append(f"{host} {arch}: " + explain(at_size, name, **where).summary())
                except UserError as error:
                    lines.append(f"{host} {arch}: {name}: {error}")
    return lines
