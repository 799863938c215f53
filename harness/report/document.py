"""The whole report as one plain object: what every output format renders."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from harness.report import fmt
from harness.report.analysis import MachineTable, build_tables
from harness.report.compare import Comparison
from harness.report.explain import report_lines
from harness.report.fleet import Fleet, build_fleet
from harness.report.headline import Headline, build_headlines
from harness.report.load import MERGE_RULE, MERGE_RULE_SHAPES, LoadedResults
from harness.report.models import ModelEntry, build_models
from harness.report.scenarios import (
    ScenarioRow,
    ScenarioVerdict,
    build_scenario_rows,
    build_scenario_verdicts,
)
from harness.report.shapes import ShapeMachine, build_shape_machines
from harness.report.threads import ScalingRow, build_scaling
from harness.report.verdicts import Reproduction, Verdict, build_reproductions, build_verdicts

DEFINITIONS = (
    "timing: every variant runs in worker processes of its own (2 process rounds natively), a bare "
    "loop of consecutive calls after warm-up (at least 1 s in a fresh process, at least 3 calls at "
    "every batch), so no other model, runtime or thread "
    "pool shares its process or cache; in each round every variant gets one process, in an order "
    "drawn from a recorded seed.",
    "speed-up = geometric mean over process rounds of (float baseline median / variant median in "
    "that round), same runtime family, host, arch, batch and threads: paired, since both ran back to "
    "back in each round. [low–high] is a 95% t-interval on the logs of those per-round ratios: the "
    "round is the unit of replication, so the interval shows how the machine drifted between rounds "
    "and is wide with few rounds; 'rnd' is how many rounds stand behind it. The comparisons a "
    "verdict rests on get more rounds while their interval is wider than ±5% (within the profile's "
    "time budget; each result records why rounds stopped). An interval touching 1 means no "
    "measurable difference. Results without round data compare medians, resampling each side on "
    "its own. With one round or fewer than 5 timings the point ratio has no interval and no verdict.",
    "a verdict is withheld ('unstable') when its rounds' ratios have no common centre (fewer than two "
    "thirds of them within 1.25× of their median ratio: two rounds 1.5× apart have none; a drift that "
    "slowed both sides of a round alike cancels in its ratio) or a side's CPU quota throttled it; "
    "when such rounds still agree on the side (a two-sided sign test over the rounds at 5%: every one "
    "of 6 or more rounds, 9 of 10...), the verdict says faster (or slower) with the range of the round "
    "ratios and withholds only the magnitude; "
    "the long tail of single calls is shown as 'tail' (p99/p50) and never withholds a verdict.",
    "accuracy gate (MLPerf-style): a quantized model passes when its top-1 is at least 99% of the "
    "float model's top-1.",
    "tf-fakequant is the 2018 setup: the QAT graph run in TensorFlow, i.e. float kernels plus "
    "quantize/dequantize ops; it simulates int8 rounding and never runs int8 arithmetic.",
    "emulated rows (QEMU) are dimmed: their timings measure the emulator, so they never enter a "
    "speed verdict and are never compared with native numbers.",
)
# Said only when the results hold an input shape other than the seed's.
SHAPE_DEFINITION = (
    "shape: the image side the network took (32×32 the seed's images, 224×224 ImageNet's). Each "
    "shape has its own rows, speed-ups, verdicts and headline: a speed-up only ever pairs results "
    "of one shape, and the 2018 row stays at the seed's."
)


@dataclass
class Report:
    """Tables per machine, the cross-runtime headlines, verdicts, the 2018 reproduction, and what
    was skipped."""

    sources: list[str]
    tables: list[MachineTable]
    headlines: list[Headline]
    verdicts: list[Verdict]
    reproductions: list[Reproduction]
    file_warnings: list[str]
    merge_rule: str
    superseded: int
    results_used: int
    comparison: Comparison | None = None
    definitions: tuple[str, ...] = DEFINITIONS
    scenario_rows: list[ScenarioRow] = field(default_factory=list)
    scenario_verdicts: list[ScenarioVerdict] = field(default_factory=list)
    # where each verdict variant's time goes (quantbench explain, one line each), native only
    time_spent: list[str] = field(default_factory=list)
    scaling: list[ScalingRow] = field(default_factory=list)  # runs with several thread counts
    fleet: Fleet | None = None  # the native machines side by side, when there are two or more
    shapes_named: bool = False  # some result is off the seed's input shape: every row names its shape
    # why the int8 answer changes with the input shape, per native machine measured at several
    shape_machines: list[ShapeMachine] = field(default_factory=list)
    # the model and data block: one entry per model the results measured (one, when loaded from
    # directories: a report covers one model)
    models: list[ModelEntry] = field(default_factory=list)


def build_report(
    loaded: LoadedResults, sources: Sequence[str], comparison: Comparison | None = None
) -> Report:
    """Compute every row, verdict and reproduction line for one merged result set."""
    fixed_batch = [result for result in loaded.results if not result.scenario]
    named = fmt.shapes_named(result.input_size for result in loaded.results)
    tables = build_tables(fixed_batch, named)
    scenario_rows = build_scenario_rows(loaded.results, named)
    headlines = build_headlines(tables, fixed_batch)
    verdicts = build_verdicts(tables)
    return Report(
        sources=list(sources),
        tables=tables,
        headlines=headlines,
        verdicts=verdicts,
        reproductions=build_reproductions(tables),
        file_warnings=[*loaded.file_warnings, *loaded.model_notes],
        merge_rule=MERGE_RULE_SHAPES if named and loaded.merge_rule == MERGE_RULE else loaded.merge_rule,
        superseded=loaded.superseded,
        results_used=len(loaded.results),
        comparison=comparison,
        definitions=(*DEFINITIONS, SHAPE_DEFINITION) if named else DEFINITIONS,
        scenario_rows=scenario_rows,
        scenario_verdicts=build_scenario_verdicts(scenario_rows),
        time_spent=report_lines(fixed_batch, named),
        scaling=build_scaling(fixed_batch),
        fleet=build_fleet(tables, verdicts, headlines),
        shapes_named=named,
        shape_machines=build_shape_machines(tables, verdicts),
        models=build_models(loaded.results),
    )
