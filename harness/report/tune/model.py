"""Which int8 file to ship: the tune results as tables per machine and batch, and the recommendations.

Pure functions of results (``quantbench tune`` writes them): each candidate's
paired speed-up over its runtime's float32 (the same process rounds), its
accuracy change and gate (from the search recorded in every result), and the
share of its call outside integer kernels (its op profile). The recommendation
per runtime is the candidate with the largest speed-up among those that pass
the gate and are measurably faster than float32; overall, the fastest such file
of any runtime (by median) against the fastest float32 of any runtime, paired
on the same rounds. Candidates within each other's intervals are named as
near-ties: picking the largest of several is not corrected for.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from harness.report import fmt
from harness.report.analysis import speedup
from harness.report.explain import side_of
from harness.report.isa import isa_label
from harness.report.stats import FASTER, RatioInterval
from harness.runtime_registry import is_candidate, runtime_named
from harness.schema import STATUS_OK, Result, variant_info

TIMED, FAILS_GATE, NOT_MADE, NOT_TRIED = "timed", "fails the gate", "not made", "not tried"


@dataclass(frozen=True)
class CandidateLine:
    """One candidate of one runtime on one machine at one batch."""

    runtime: str  # the runtime's label
    name: str  # "ort-int8-qdq~qdq-u8s8"
    recipe: str  # the recipe's summary
    status: str  # TIMED, FAILS_GATE, NOT_MADE, NOT_TRIED
    why: str = ""  # not made / not tried: the reason
    speedup: RatioInterval | None = None  # over its runtime's float32
    p50_s: float | None = None
    accuracy_pt: float | None = None  # top-1 change in points (or agreement - 100 without labels)
    accuracy_label: str = "top-1"
    gate: str = ""
    outside_int8: str = fmt.DASH
    file: str = ""  # the candidate's file name in the tune set
    slower_because: str = ""  # a timed candidate slower than its float32: where its time goes

    @property
    def faster(self) -> bool:
        return self.speedup is not None and self.speedup.direction == FASTER


@dataclass
class TuneTable:
    """One machine, shape, batch and thread count: every candidate, and what to ship."""

    host: str
    arch: str
    machine: str  # "amd64 (AVX-512, AVX512-VNNI, native) on local"
    input_size: int
    batch: int
    threads: int
    gate_rule: str
    lines: list[CandidateLine] = field(default_factory=list)
    picks: dict[str, CandidateLine] = field(default_factory=dict)  # runtime label -> recommended
    sentences: list[str] = field(default_factory=list)  # one per runtime, then the overall one
    overall: CandidateLine | None = None
    # the emulated check of the same run: (arch, how many candidates checked, {failed: why})
    emulated: list[tuple[str, int, dict[str, str]]] = field(default_factory=list)


def tune_results(results: Sequence[Result]) -> list[Result]:
    """The results of tune runs: every result measured from a tune set (it carries the search)."""
    return [r for r in results if r.tune_search and not r.scenario]


def build_tune_tables(results: Sequence[Result]) -> list[TuneTable]:
    """A table per native machine, shape, batch and thread count of the tune results, each with
    what the emulated check of the same run found."""
    all_tuned = tune_results(results)
    tuned = [r for r in all_tuned if r.emulated is False and r.status == STATUS_OK]
    keys = sorted({(r.host, r.arch, r.input_size, r.batch, r.threads) for r in tuned})
    tables = [
        _table([r for r in tuned if (r.host, r.arch, r.input_size, r.batch, r.threads) == key])
        for key in keys
    ]
    checks = emulated_checks([r for r in all_tuned if r.emulated and is_candidate(r.variant)])
    failed = {name for _, _, bad in checks for name in bad}
    for table in tables:
        table.emulated = checks
        for runtime, line in table.picks.items():
            if line.name in failed:
                table.sentences.append(
                    f"{runtime}'s pick {line.name} gave other outputs under emulation than natively: "
                    "check it on that arch before shipping it there"
                )
    return tables


def emulated_checks(results: Sequence[Result]) -> list[tuple[str, int, dict[str, str]]]:
    """Per emulated arch: the candidates checked, and those whose outputs differed from native."""
    checks = []
    for arch in sorted({r.arch for r in results}):
        here = [r for r in results if r.arch == arch]
        failed = {r.variant: (r.error or "failed") for r in here if r.status != STATUS_OK}
        checks.append((arch, len({r.variant for r in here}), failed))
    return checks


def _table(results: list[Result]) -> TuneTable:
    first = results[0]
    newest = max(results, key=lambda r: (r.finished_at, r.run_id))
    search, max_drop = newest.tune_search, newest.tune_max_drop
    by_name = {r.variant: r for r in results}
    machine = f"{first.arch} ({isa_label(first.arch, first.isa_flags)}, native) on {first.host}"
    rule = next((c.get("gate_rule") for c in search if c.get("gate_rule")), "")
    table = TuneTable(first.host, first.arch, machine, first.input_size, first.batch, first.threads, rule)
    for record in search:
        table.lines.append(_line(record, by_name))
    _recommend(table, by_name, max_drop)
    return table


def _line(record: dict, by_name: dict[str, Result]) -> CandidateLine:
    name, status = record["name"], record.get("status", "")
    runtime = runtime_named(record["runtime"]).label
    recipe = record.get("recipe", {}).get("summary", "")
    labelled = record.get("top1") is not None
    if labelled:
        change = 100 * (record["top1"] - record["baseline_top1"])
    elif record.get("agreement") is not None:
        change = 100 * (record["agreement"] - 1)
    else:
        change = None
    common = dict(
        runtime=runtime,
        name=name,
        recipe=recipe,
        accuracy_pt=change,
        accuracy_label="top-1" if labelled else "agreement",
        gate=record.get("gate", ""),
    )
    if status == "not made":
        return CandidateLine(status=NOT_MADE, why=record.get("reason", ""), **common)
    if status == "not tried":
        return CandidateLine(status=NOT_TRIED, why=record.get("reason", ""), **common)
    result = by_name.get(name)
    if record.get("gate") != "pass" or result is None:
        return CandidateLine(status=FAILS_GATE if record.get("gate") == "fail" else NOT_TRIED, **common)
    baseline = by_name.get(variant_info(name)[2])
    interval = speedup(baseline, result) if baseline is not None else None
    side = side_of(result)
    slower = ""
    if interval is not None and interval.has_interval and interval.high < 1:
        slower = _where_time_goes(side)
    return CandidateLine(
        status=TIMED,
        speedup=interval,
        p50_s=result.p50_s,
        outside_int8=side.outside_integer().split(" (", 1)[0],
        file=record.get("file", "").rsplit("/", 1)[-1],
        slower_because=slower,
        **common,
    )


def _where_time_goes(side) -> str:
    """ "float Conv 51%, DequantizeLinear 14%": the largest rows not in int8, from the op profile."""
    profile = side.profile
    if profile is None or not profile.rows:
        return "no op profile says where its time goes"
    rows = sorted((row for row in profile.rows if row.precision != "int8"), key=lambda row: -row.ms)[:3]
    if not rows:
        return "every profiled op ran in int8"
    return ", ".join(f"{row.name} ({row.precision}) {profile.share(row):.0%}" for row in rows)


def _recommend(table: TuneTable, by_name: dict[str, Result], max_drop: float | None) -> None:
    timed = [line for line in table.lines if line.status == TIMED and line.gate == "pass"]
    for runtime in dict.fromkeys(line.runtime for line in table.lines):
        mine = [line for line in timed if line.runtime == runtime and line.speedup is not None]
        faster = [line for line in mine if line.faster]
        if not faster:
            tried = len([line for line in table.lines if line.runtime == runtime])
            table.sentences.append(
                f"{runtime}: keep float32; none of its {tried} candidates passes the gate and is measurably "
                "faster than its float32" + (f" ({_best_text(mine)})" if mine else "")
            )
            continue
        best = max(faster, key=lambda line: line.speedup.ratio)
        table.picks[runtime] = best
        ties = [
            line.name
            for line in faster
            if line is not best and line.speedup.has_interval and line.speedup.high >= best.speedup.low
        ]
        table.sentences.append(
            f"{runtime}: ship {best.name} ({best.recipe}): {fmt.ratio(best.speedup)} faster than its "
            "float32, "
            f"{best.accuracy_label} {fmt.points(best.accuracy_pt)} pt"
            + (f"; within its interval: {', '.join(ties)}" if ties else "")
        )
    _overall(table, by_name)


def _best_text(lines: list[CandidateLine]) -> str:
    best = max(lines, key=lambda line: line.speedup.ratio)
    return f"its best, {best.name}: {fmt.ratio(best.speedup)}"


def _overall(table: TuneTable, by_name: dict[str, Result]) -> None:
    picks = [line for line in table.picks.values() if line.p50_s]
    floats = [r for name, r in by_name.items() if not is_candidate(name) and variant_info(name)[1] == "fp32"]
    if not picks or not floats:
        table.sentences.append("overall: no int8 file passes the gate and beats its float32: ship float32.")
        return
    fastest = min(picks, key=lambda line: line.p50_s)
    reference = min(floats, key=lambda r: r.p50_s or float("inf"))
    interval = speedup(reference, by_name[fastest.name])
    table.overall = fastest
    runtime = runtime_named(variant_info(reference.variant)[0]).label
    table.sentences.append(
        f"overall: ship {fastest.name} ({fastest.runtime}, {fastest.recipe}): {fmt.ratio(interval)} "
        "faster than "
        f"the fastest float32 ({runtime} {reference.variant}), {fastest.accuracy_label} "
        f"{fmt.points(fastest.accuracy_pt)} pt"
    )
