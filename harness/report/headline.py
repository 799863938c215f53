"""The answer across runtimes: the fastest int8 variant vs the fastest float32 variant, per machine.

Each runtime's own int8-vs-float32 verdict (``verdicts.py``) says whether that
runtime's int8 pays off; a user choosing a runtime asks something else: is the
best int8 I can get faster than the best float32 I can get on this CPU? Both
sides are picked by median time among results that are "ok" (a float32 variant
that failed the float32 check is not ok), and int8 variants that fail the
accuracy gate are not candidates. The interval is the same paired-by-round
bootstrap as every speed-up; it does not correct for having picked the fastest.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from harness.intervals import RoundSide
from harness.report import fmt
from harness.report.analysis import GATE_FAIL, MachineTable, Row, Setting, speedup
from harness.report.stats import FASTER, SLOWER, RatioInterval
from harness.report.verdicts import (
    NO_SPEED_VERDICT,
    NO_VERDICT,
    UNSTABLE,
    direction_only,
    setting_text,
    speed_claim,
    unstable_notes,
)
from harness.runtime_registry import FLOAT32, INT8_PRECISIONS, variant_specs
from harness.schema import SEED_INPUT_SIZE, Result

HEADLINE_TITLE = "The answer: fastest int8 vs fastest float32, any runtime, same machine"


@dataclass
class Headline:
    """The fastest int8 vs the fastest float32 of one machine at one (input shape, batch, threads)."""

    machine: str
    emulated: bool | None
    batch: int
    threads: int
    outcome: str  # stats.FASTER / SLOWER / NO_DIFFERENCE, or NO_SPEED_VERDICT / NO_VERDICT / UNSTABLE
    text: str
    int8_variant: str | None = None
    float_variant: str | None = None
    speedup: RatioInterval | None = None
    input_size: int = SEED_INPUT_SIZE
    side: RoundSide | None = None  # the side alone: the rounds agree on it, not on a ratio
    near_ties: list[str] = field(default_factory=list)  # variants within the fastest's interval

    @property
    def setting(self) -> Setting:
        return Setting(self.input_size, self.batch, self.threads)


def build_headlines(tables: Sequence[MachineTable], results: Sequence[Result]) -> list[Headline]:
    """One headline per machine and (input shape, batch, threads) with an int8 and a float32 result:
    both sides at the same shape, so each shape has its own answer."""
    by_key = {(r.host, r.arch, r.emulated, r.variant, r.input_size, r.batch, r.threads): r for r in results}
    headlines = []
    for table in tables:
        for setting in table.shaped_settings():
            rows = [row for row in table.rows if row.setting == setting and row.ok]
            int8 = _fastest(
                r for r in rows if r.precision in INT8_PRECISIONS and r.accuracy_gate != GATE_FAIL
            )
            base = _fastest(r for r in rows if r.precision == FLOAT32)
            if int8 is None or base is None:
                continue

            def result_of(row: Row, table: MachineTable = table) -> Result | None:
                return by_key.get((table.host, table.arch, table.emulated, row.variant, *row.setting))

            headline = _headline(table, setting, int8, base, result_of(int8), result_of(base))
            if table.emulated is False:
                int8_rows = [
                    r for r in rows if r.precision in INT8_PRECISIONS and r.accuracy_gate != GATE_FAIL
                ]
                headline.near_ties = _near(int8, int8_rows, result_of) + _near(
                    base, [r for r in rows if r.precision == FLOAT32], result_of
                )
                if headline.near_ties and headline.outcome not in (NO_VERDICT, UNSTABLE):
                    headline.text += (
                        f"; within the fastest's interval: {', '.join(headline.near_ties)} (picking the "
                        "fastest of near-ties is not corrected for)"
                    )
            headlines.append(headline)
    return headlines


def _near(fastest: Row, rows: list[Row], result_of) -> list[str]:
    """The rows not measurably slower than the fastest: their paired interval against it touches 1."""
    best = result_of(fastest)
    near = []
    for row in rows:
        other = result_of(row)
        if row is fastest or other is None or best is None or row.p50_s is None:
            continue
        interval = speedup(other, best)
        if interval is None or not interval.has_interval or interval.low <= 1.0:
            near.append(row.variant)
    return near


def _fastest(rows) -> Row | None:
    timed = [row for row in rows if row.p50_s is not None]
    return min(timed, key=lambda row: row.p50_s) if timed else None


def _headline(
    table: MachineTable,
    setting: Setting,
    int8: Row,
    base: Row,
    int8_result: Result | None,
    base_result: Result | None,
) -> Headline:
    batch, threads = setting.batch, setting.threads
    where = f"{table.label}, {setting_text(batch, threads, table.shape_of(setting))}"
    pair = f"the fastest int8, {_name(int8)}, vs the fastest float32, {_name(base)}"
    headline = Headline(
        table.label, table.emulated, batch, threads, NO_VERDICT, "", int8.variant, base.variant
    )
    headline.input_size = setting.input_size
    if table.emulated is not False:
        headline.outcome = NO_SPEED_VERDICT
        headline.text = f"{where}: {NO_SPEED_VERDICT} ({pair}): emulated timings measure QEMU"
        return headline
    ratio = speedup(base_result, int8_result) if int8_result and base_result else None
    headline.speedup = ratio
    if ratio is None or not ratio.has_interval:
        headline.text = f"{where}: {NO_VERDICT}, too few timings ({pair}: {fmt.ratio(ratio)})"
        return headline
    unstable = unstable_notes(int8, base)
    side = direction_only(int8, base, unstable)
    if side is not None:
        headline.outcome, headline.side = (FASTER if side.faster else SLOWER), side
        headline.text = (
            f"{where}: fastest int8 vs fastest float32, any runtime: "
            f"{side.describe(_name(int8), _name(base))}; the magnitude is withheld: "
            f"{unstable[0].removeprefix('unstable: ').rstrip('.')}"
        )
        return headline
    if unstable:
        headline.outcome = UNSTABLE
        headline.text = f"{where}: {UNSTABLE}, no speed claim ({pair}: {fmt.ratio(ratio)}; {unstable[0]})"
        return headline
    headline.outcome = ratio.direction
    claim = speed_claim(_name(int8), _name(base), ratio)
    accuracy = (
        f"; top-1{fmt.OFF_SCALE if int8.off_training_scale else ''} {fmt.points(int8.top1_delta_pt)} pt "
        "vs its own float32"
        if int8.top1_delta_pt is not None
        else ""
    )
    headline.text = f"{where}: fastest int8 vs fastest float32, any runtime: {claim}{accuracy}"
    return headline


def _name(row: Row) -> str:
    spec = variant_specs().get(row.variant)
    return f"{spec[0].label} {row.variant}" if spec else row.variant
