"""Measure: time the variants interleaved, evaluate them, write one result per file.

Timing is round-robin over warm models (one per variant), with the order
rotated every round so no variant always runs first after a slow neighbour.
Only the runtime call is timed; raw seconds are kept for every repeat.
"""

from __future__ import annotations

import gc
import platform
import sys
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from harness import schema
from harness.bench import manifest as mf
from harness.bench.memory import PeakTracker
from harness.bench.sysinfo import MACHINE_TO_ARCH, SystemInfo, collect_system_info
from harness.errors import UserError

ALL = "all"


@dataclass(frozen=True)
class MeasureConfig:
    """What to measure and where to write it."""

    artifacts: Path
    out: Path
    variants: tuple[str, ...]
    batches: tuple[int, ...]
    threads: int
    warmup: int = 3
    repeats: int = 20
    eval_limit: int | None = None
    host: str = "local"
    run_id: str = ""
    resume: bool = False


@dataclass
class VariantState:
    """One loaded variant and what is known about it so far."""

    name: str
    entry: mf.ArtifactEntry
    runner: object
    load_s: float
    load_added_bytes: int | None
    predictions: np.ndarray | None = None
    kernel_path: dict = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)


def resolve_variants(requested: tuple[str, ...], manifest: mf.Manifest) -> list[str]:
    """Expand ``all`` and check every name, in the canonical order."""
    available = [e.name for e in manifest.variants]
    if requested == (ALL,):
        return [v for v in schema.VARIANTS if v in available]
    for name in requested:
        if name not in schema.VARIANTS:
            raise UserError(
                f"unknown variant {name!r}; choose from: {', '.join(schema.VARIANTS)} (or 'all')."
            )
        manifest.entry(name)
    return [v for v in schema.VARIANTS if v in requested]


def batch_images(eval_images: np.ndarray, batch: int) -> np.ndarray:
    """The first ``batch`` eval images (cycled when the set is smaller), float32 in [0, 1]."""
    repeats = -(-batch // len(eval_images))
    tiled = np.concatenate([eval_images] * repeats)[:batch] if repeats > 1 else eval_images[:batch]
    return np.ascontiguousarray(tiled, dtype=np.float32) / np.float32(255.0)


def progress(message: str) -> None:
    """Progress goes to stderr, flushed: stdout carries only the final summary."""
    print(message, file=sys.stderr, flush=True)


def measure(config: MeasureConfig, log=progress) -> list[Path]:
    """Run the whole measurement; return the result files written."""
    manifest = mf.read_manifest(config.artifacts)
    timed = resolve_variants(config.variants, manifest)
    baselines = {schema.VARIANTS[v][2] for v in timed} & {e.name for e in manifest.variants}
    evaluated = [v for v in schema.VARIANTS if v in set(timed) | baselines]
    todo = pending_work(config, timed)
    if not todo:
        log("every requested result already exists for this run: nothing to do.")
        return []
    eval_images, eval_labels = load_eval_set(config.artifacts / manifest.eval_file, config.eval_limit)
    paths = {v: mf.verify_artifact(config.artifacts, manifest.entry(v)) for v in evaluated}
    info = collect_system_info()
    if config.threads > info.cpu_count:
        log(f"warning: --threads {config.threads} is more than the {info.cpu_count} CPUs available.")

    from harness.bench.runtimes import configure_threads, load_runner

    configure_threads({manifest.entry(v).runtime for v in evaluated}, config.threads)
    states: dict[str, VariantState] = {}
    for name in evaluated:
        tracker = PeakTracker()
        started = time.perf_counter()
        runner = load_runner(manifest.entry(name).runtime, paths[name], config.threads)
        states[name] = VariantState(
            name, manifest.entry(name), runner, time.perf_counter() - started, tracker.stop()
        )
    inputs = np.asarray(eval_images, np.float32) / np.float32(255.0)
    for name in evaluated:
        log(f"evaluating {name} on {len(inputs)} images")
        states[name].predictions = states[name].runner.predict(inputs).argmax(axis=1)
        states[name].kernel_path = states[name].runner.kernel_path()

    written: list[Path] = []
    for batch in sorted({b for _, b in todo}):
        names = [v for v in timed if (v, batch) in todo]
        written += measure_batch(config, manifest, info, states, names, batch, eval_images, eval_labels, log)
        gc.collect()
    return written


def pending_work(config: MeasureConfig, timed: list[str]) -> set[tuple[str, int]]:
    """(variant, batch) pairs still to measure; with --resume, skip finished ones."""
    todo = {(v, b) for v in timed for b in config.batches}
    if not config.resume:
        return todo
    arch = MACHINE_TO_ARCH.get(platform.machine(), platform.machine())
    for variant, batch in list(todo):
        probe = schema.Result(variant, "", batch, config.threads, config.run_id, host=config.host, arch=arch)
        path = config.out / probe.file_name()
        if not path.exists():
            continue
        try:
            done = schema.load_result(path).status == schema.STATUS_OK
        except schema.SchemaError as error:
            print(f"resume: {path} is not a valid result ({error}); measuring it again.", file=sys.stderr)
            done = False
        if done:
            todo.discard((variant, batch))
        else:  # keep the unfinished file, out of the way of the new one
            path.rename(path.with_suffix(".json.superseded"))
    return todo


def load_eval_set(path: Path, limit: int | None) -> tuple[np.ndarray, np.ndarray]:
    try:
        with np.load(path) as archive:
            images, labels = archive["images"], archive["labels"]
    except (OSError, KeyError, ValueError) as error:
        raise UserError(f"cannot read the eval set {path} ({error}); rerun prepare.") from error
    if limit is not None:
        images, labels = images[:limit], labels[:limit]
    if len(images) == 0:
        raise UserError(f"the eval set {path} holds no images; rerun prepare with more data.")
    return images, labels


def measure_batch(
    config: MeasureConfig,
    manifest: mf.Manifest,
    info: SystemInfo,
    states: dict[str, VariantState],
    names: list[str],
    batch: int,
    eval_images: np.ndarray,
    eval_labels: np.ndarray,
    log,
) -> list[Path]:
    """Warm every variant at this batch, time them interleaved, write their results."""
    started_at = _now()
    images = batch_images(eval_images, batch)
    added_bytes: dict[str, int | None] = {}
    for name in names:
        tracker = PeakTracker()
        states[name].runner.prepare(batch, images)
        for _ in range(config.warmup):
            states[name].runner.call()
        batch_added = tracker.stop()
        load_added = states[name].load_added_bytes
        added_bytes[name] = None if batch_added is None or load_added is None else batch_added + load_added
    timings: dict[str, list[float]] = {name: [] for name in names}
    status = schema.STATUS_OK
    log(f"batch {batch}: timing {len(names)} variants interleaved, {config.repeats} rounds")
    try:
        interleave(states, names, config.repeats, timings, log)
    except KeyboardInterrupt:
        status = schema.STATUS_INCOMPLETE
        raise
    finally:
        written = [
            write_one(
                config,
                manifest,
                info,
                states,
                name,
                batch,
                timings[name],
                status,
                added_bytes,
                eval_labels,
                started_at,
            )
            for name in names
        ]
    return written


def interleave(states, names: list[str], repeats: int, timings: dict[str, list[float]], log) -> None:
    """Round-robin: each round runs every variant once, order rotated per round."""
    clock = time.perf_counter
    # bind everything once: the timed region holds one call and two clock reads
    slots = [(states[name].runner.call, timings[name].append) for name in names]
    step = max(1, repeats // 5)
    for round_index in range(repeats):
        shift = round_index % len(slots)
        for call, record in slots[shift:] + slots[:shift]:
            start = clock()
            call()
            record(clock() - start)
        if (round_index + 1) % step == 0 or round_index + 1 == repeats:
            print(f"  round {round_index + 1}/{repeats}", file=sys.stderr, flush=True)


def write_one(
    config, manifest, info, states, name, batch, timings, status, added_bytes, eval_labels, started_at
) -> Path:
    state = states[name]
    family, precision, baseline = schema.VARIANTS[name]
    predictions = state.predictions
    top1 = agreement = None
    if predictions is not None:
        if manifest.has_labels:
            top1 = float(np.mean(predictions == eval_labels))
        reference = states.get(baseline)
        if reference is not None and reference.predictions is not None:
            agreement = float(np.mean(predictions == reference.predictions))
    warnings = schema.stability_warnings(timings) if timings else []
    if status == schema.STATUS_INCOMPLETE:
        warnings.append(f"interrupted after {len(timings)} of {config.repeats} repeats; rerun with --resume.")
    if not manifest.has_labels:
        warnings.append(f"data '{manifest.data}' has no real labels: top-1 is n/a.")
    result = schema.Result(
        variant=name,
        runtime=state.runner.runtime_name,
        batch=batch,
        threads=config.threads,
        run_id=config.run_id,
        status=status,
        error="interrupted" if status == schema.STATUS_INCOMPLETE else None,
        family=family,
        precision=precision,
        baseline_variant=baseline,
        warmup=config.warmup,
        repeats=len(timings),
        timings_s=list(timings),
        top1=top1,
        eval_images=len(eval_labels),
        agreement_with_float=agreement,
        predictions=[int(p) for p in predictions] if predictions is not None else [],
        data=manifest.data,
        model_bytes=state.entry.size_bytes,
        artifact_sha256=state.entry.sha256,
        load_s=round(state.load_s, 4),
        peak_rss_bytes=added_bytes.get(name),
        kernel_path=state.kernel_path,
        host=config.host,
        arch=info.arch,
        emulated=info.emulated,
        cpu_model=info.cpu_model,
        cpu_count=info.cpu_count,
        isa_flags=info.isa_flags,
        versions={**info.versions, "model": manifest.model},
        started_at=started_at,
        finished_at=_now(),
        warnings=warnings,
    )
    for key, value in schema.summarize_timings(timings, batch).items():
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


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")
