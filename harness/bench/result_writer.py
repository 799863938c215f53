"""What measure learns about each variant, and the one result file it writes per batch."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import numpy as np

from harness import schema
from harness.bench import manifest as mf
from harness.bench.output_checks import FLOAT_MODEL_REFERENCE, agreement, decisive, fp32_agreement_error
from harness.errors import UserError

if TYPE_CHECKING:
    from harness.bench.measure import MeasureConfig
    from harness.bench.sysinfo import SystemInfo


@dataclass
class VariantFacts:
    """One variant: its artifact, and what its workers reported once (load, evaluation)."""

    name: str
    entry: mf.ArtifactEntry
    runtime_name: str = ""
    load_s: float | None = None
    load_added_bytes: int | None = None
    predictions: np.ndarray | None = None
    output_sample: list[list[float]] = field(default_factory=list)  # probabilities, first images
    kernel_path: dict[str, Any] = field(default_factory=dict)
    op_profiles: dict[int, dict[str, Any]] = field(default_factory=dict)  # batch -> OpProfile dict

    @property
    def family(self) -> str:
        return self.entry.runtime


@dataclass
class BatchTimings:
    """Every timed call of one variant at one batch: the process round and call index of each."""

    seconds: list[float] = field(default_factory=list)
    processes: list[int] = field(default_factory=list)
    rounds: list[int] = field(default_factory=list)
    positions: list[int] = field(default_factory=list)  # place of its process in the round's order
    peak_added_bytes: int | None = None
    throttling: dict[str, float] | None = None
    scenario_runs: list[dict[str, Any]] = field(default_factory=list)  # one per process round
    cpu_s: list[float] = field(default_factory=list)  # per worker process: CPU time of its timed calls
    wall_s: list[float] = field(default_factory=list)  # ... and their wall time
    error: str | None = None
    started_at: str = field(default_factory=lambda: now())

    def add(self, seconds: float, process: int, round_index: int, position: int) -> None:
        self.seconds.append(seconds)
        self.processes.append(process)
        self.rounds.append(round_index)
        self.positions.append(position)

    def note_memory(self, load_added: int | None, batch_added: int | None) -> None:
        if load_added is None or batch_added is None:
            return
        self.peak_added_bytes = max(self.peak_added_bytes or 0, load_added + batch_added)

    def add_cpu_use(self, cpu_s: float, wall_s: float) -> None:
        self.cpu_s.append(cpu_s)
        self.wall_s.append(wall_s)

    def add_throttling(self, counters: dict[str, Any]) -> None:
        if counters.get("periods") is None:  # no cpu.stat readable: stays None (unknown)
            return
        total = self.throttling or {"periods": 0, "throttled_periods": 0, "throttled_s": 0.0}
        for key in total:
            total[key] += counters[key]
        self.throttling = total


def throttling_warning(throttling: dict[str, float] | None) -> list[str]:
    """A warning when the cgroup's CPU quota cut in while this variant was timed."""
    if not throttling or not throttling.get("throttled_periods"):
        return []
    return [
        f"CPU throttled in {int(throttling['throttled_periods'])} of {int(throttling['periods'])} "
        f"scheduler periods ({throttling['throttled_s']:.2f} s) while timing: the container's CPU quota "
        "cut in; give it a CPU limit above --threads or pin it to a cpuset of that size."
    ]


def thread_use_warning(name: str, threads: int, cpu_s: float, wall_s: float) -> list[str]:
    """A warning when a variant asked for several threads and used about one."""
    if threads <= 1 or wall_s <= 0 or cpu_s / wall_s >= schema.ONE_THREAD_PARALLELISM:
        return []
    return [
        f"{name} asked for {threads} threads and used about 1: CPU time / wall time over its timed "
        f"calls is {cpu_s / wall_s:.2f}; its runtime ignored the thread count at this batch (check "
        "its threading option), or the call is too small to split."
    ]


def write_result_file(
    config: MeasureConfig,
    manifest: mf.Manifest,
    info: SystemInfo,
    facts: dict[str, VariantFacts],
    name: str,
    batch: int,
    timings: BatchTimings,
    status: str,
    seed: int,
    truth: EvalTruth,
    rounds_stop_reason: str = "",
):
    """Write the result of one variant at one batch; UserError when the file cannot be written."""
    fact = facts[name]
    family, precision, baseline = schema.variant_info(name)
    if timings.error is not None:
        status = schema.STATUS_FAILED
    eval_labels = truth.labels
    top1 = agreement = None
    correctness: dict[str, dict[str, int]] = {}
    if fact.predictions is not None:
        if manifest.has_labels:
            top1 = float(np.mean(fact.predictions == eval_labels))
        reference = facts.get(baseline)
        if reference is not None and reference.predictions is not None:
            agreement = float(np.mean(fact.predictions == reference.predictions))
        if manifest.has_labels:
            correctness = paired_correctness(name, baseline, precision, fact, facts, truth)
    warnings = schema.stability_warnings(timings.seconds, timings.processes, name) if timings.seconds else []
    warnings += throttling_warning(timings.throttling)
    warnings += thread_use_warning(name, config.threads, sum(timings.cpu_s), sum(timings.wall_s))
    if status == schema.STATUS_INCOMPLETE:
        warnings.append(
            f"interrupted after {len(timings.seconds)} of {config.repeats} repeats; rerun with --resume."
        )
    if not manifest.has_labels:
        warnings.append(f"data '{manifest.data}' has no real labels: top-1 is n/a.")
    elif manifest.input_size != manifest.trained_input_size:
        side, trained = manifest.input_size, manifest.trained_input_size
        warnings.append(
            f"weights trained at {trained}×{trained}, images upscaled to {side}×{side}: top-1 is the network "
            "off its training scale (timing only); the agreement with float32 still holds."
        )
    if info.emulated is None:
        warnings.append("emulation unknown (the probe could not read a child process): no speed verdict.")
    model_agreement, problem = check_float32(name, precision, fact, truth, config.threads)
    if problem:
        status = schema.STATUS_FAILED
    error = timings.error or problem or ("interrupted" if status == schema.STATUS_INCOMPLETE else None)
    result = schema.Result(
        variant=name,
        runtime=fact.runtime_name or fact.entry.runtime,
        batch=batch,
        threads=config.threads,
        run_id=config.run_id,
        status=status,
        error=error,
        family=family,
        precision=precision,
        baseline_variant=baseline,
        warmup=config.warmup,
        repeats=len(timings.seconds),
        timings_s=list(timings.seconds),
        timing_process=list(timings.processes),
        timing_round=list(timings.rounds),
        timing_position=list(timings.positions),
        processes=len(set(timings.processes)),
        order_seed=seed,
        cpu_throttling=timings.throttling,
        top1=top1,
        eval_images=len(eval_labels),
        agreement_with_float=agreement,
        float_model_agreement=model_agreement,
        paired_correctness=correctness,
        predictions=[int(p) for p in fact.predictions] if fact.predictions is not None else [],
        output_sample=fact.output_sample,
        data=manifest.data,
        model_bytes=fact.entry.size_bytes,
        artifact_sha256=fact.entry.sha256,
        load_s=fact.load_s,
        peak_rss_bytes=timings.peak_added_bytes,
        kernel_path=fact.kernel_path,
        op_profile=fact.op_profiles.get(batch),
        timed_cpu_s=round(sum(timings.cpu_s), 6) if timings.cpu_s else None,
        timed_wall_s=round(sum(timings.wall_s), 6) if timings.wall_s else None,
        host=config.host,
        arch=info.arch,
        emulated=info.emulated,
        cpu_model=info.cpu_model,
        cpu_count=info.cpu_count,
        isa_flags=info.isa_flags,
        versions={**info.versions, "model": manifest.model},
        started_at=timings.started_at,
        finished_at=now(),
        warnings=warnings,
        rounds_stop_reason=rounds_stop_reason,
        scenario=config.scenario,
        scenario_runs=timings.scenario_runs,
        model=manifest.model,
        model_kind=manifest.model_kind,
        model_sha256=manifest.model_sha256,
        normalize=manifest.normalize,
        input_layout=fact.entry.input_layout,
        variants_not_made=dict(manifest.not_made),
        recipe=dict(fact.entry.recipe),
        tune_search=list(manifest.tune_search),
        tune_max_drop=manifest.tune_max_drop,
        input_size=manifest.input_size,
        macs_per_image=manifest.macs_per_image or None,
        weight_count=manifest.weight_count or None,
        trained_input_size=manifest.trained_input_size,
    )
    for key, value in schema.summarize_timings(timings.seconds, batch).items():
        setattr(result, key, value)
    try:
        return schema.write_result(result, config.out)
    except FileExistsError as error:
        raise UserError(
            f"{config.out / result.file_name()} exists already; use a new --run-id, or --resume "
            "with the same --run-id to finish an interrupted run."
        ) from error
    except OSError as error:  # disk full, quota, read-only: earlier files stay valid
        raise UserError(
            f"cannot write {result.file_name()} to {config.out} ({error.strerror}); the results "
            "already written there are intact: free space, then rerun with "
            f"--resume --run-id {config.run_id}."
        ) from error


def check_float32(
    name: str, precision: str, fact: VariantFacts, truth: EvalTruth, threads: int
) -> tuple[float | None, str | None]:
    """An fp32 variant's top-1 agreement with the trained float model, and the failure if too low."""
    reference = truth.references.get(FLOAT_MODEL_REFERENCE)
    if precision != "fp32" or fact.predictions is None or reference is None:
        return None, None
    share = agreement(fact.predictions, reference, truth.float_margins)
    path = fact.kernel_path
    configuration = str(path.get("configuration") or f"delegate {path.get('delegate', 'none')}")
    runtime = fact.runtime_name or fact.entry.runtime
    images = len(decisive(reference, truth.float_margins, len(fact.predictions)))
    return share, fp32_agreement_error(name, runtime, f"{configuration}, {threads} threads", share, images)


@dataclass(frozen=True)
class EvalTruth:
    """The eval labels, and predictions of references that are not measured variants."""

    labels: np.ndarray
    references: dict[str, np.ndarray] = field(default_factory=dict)
    float_margins: np.ndarray | None = None  # trained float model: top-1 minus top-2 probability


QAT_FLOAT_REFERENCE = "qat-float"  # the QAT model with its quantizers off (its fine-tuned float weights)
QAT_PRECISIONS = ("int8-qat", "fakequant")


def paired_correctness(
    name: str,
    baseline: str,
    precision: str,
    fact: VariantFacts,
    facts: dict[str, VariantFacts],
    truth: EvalTruth,
) -> dict[str, dict[str, int]]:
    """Per reference: images only the reference got right, and only this variant (McNemar's b, c)."""
    references: dict[str, np.ndarray] = {}
    if baseline != name and facts.get(baseline) is not None and facts[baseline].predictions is not None:
        references[baseline] = facts[baseline].predictions
    if precision in QAT_PRECISIONS and QAT_FLOAT_REFERENCE in truth.references:
        references[QAT_FLOAT_REFERENCE] = truth.references[QAT_FLOAT_REFERENCE]
    right = fact.predictions == truth.labels
    counts = {}
    for reference, predictions in references.items():
        reference_right = predictions == truth.labels
        counts[reference] = {
            "only_reference_right": int(np.sum(reference_right & ~right)),
            "only_variant_right": int(np.sum(~reference_right & right)),
        }
    return counts


def now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")
