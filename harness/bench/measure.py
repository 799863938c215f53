"""Measure: time the variants in worker processes, one runtime family per process.

For each batch size, ``processes`` rounds of workers run one after another,
one worker per runtime family each (families alternate which goes first).
A worker loads only its family's models, so no runtime disturbs another;
inside it every round runs each variant once in a fresh seeded order. This
process holds no model: it starts the workers, gathers what they report and
writes one result per (variant, batch), keeping every raw timing with the
process and round it came from (the report pairs variants round by round).
"""

from __future__ import annotations

import json
import platform
import secrets
import signal
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from harness import schema
from harness.bench import manifest as mf
from harness.bench import worker as wk
from harness.bench.cgroup import memory_limit_bytes, oom_reason, read_oom_kills
from harness.bench.result_writer import BatchTimings, VariantFacts, write_result_file
from harness.bench.sysinfo import MACHINE_TO_ARCH, collect_system_info
from harness.bench.timing import worker_seed
from harness.errors import UserError

ALL = "all"
WORKER_STOP_GRACE_S = 30


@dataclass(frozen=True)
class MeasureConfig:
    """What to measure and where to write it."""

    artifacts: Path
    out: Path
    variants: tuple[str, ...]
    batches: tuple[int, ...]
    threads: int
    warmup: int = 3
    repeats: int = 20  # timed rounds in all, shared out over the processes
    processes: int = 2
    seed: int | None = None  # of the round orders; None: a random one, recorded
    eval_limit: int | None = None
    host: str = "local"
    run_id: str = ""
    resume: bool = False

    def rounds_of(self, process_index: int) -> int:
        """Rounds of one process: ``repeats`` shared out, the first processes taking the remainder."""
        share, remainder = divmod(self.repeats, self.processes)
        return share + (process_index < remainder)


@dataclass
class WorkerFailure(Exception):
    """A worker process that ended badly; its family's results at that batch say why."""

    reason: str
    log_tail: list[str] = field(default_factory=list)


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
    _, eval_labels = load_eval_set(config.artifacts / manifest.eval_file, config.eval_limit)
    for name in evaluated:
        mf.verify_artifact(config.artifacts, manifest.entry(name))
    info = collect_system_info()
    if config.threads > info.cpu_count:
        log(f"warning: --threads {config.threads} is more than the {info.cpu_count} CPUs available.")
    seed = config.seed if config.seed is not None else secrets.randbits(31)
    facts = {name: VariantFacts(name, manifest.entry(name)) for name in evaluated}
    to_evaluate = {family: [v for v in evaluated if facts[v].family == family] for family in _families(facts)}
    written: list[Path] = []
    failed = 0
    for batch in sorted({b for _, b in todo}):
        names = [v for v in timed if (v, batch) in todo]
        batch_timings = {name: BatchTimings() for name in names}
        status = schema.STATUS_OK
        try:
            for process_index in range(min(config.processes, config.repeats)):
                families = _families({n: facts[n] for n in names})
                if process_index % 2:
                    families.reverse()
                for family in families:
                    members = [n for n in names if facts[n].family == family]
                    if any(batch_timings[n].error for n in members):
                        continue  # that family already failed at this batch
                    job = wk.WorkerJob(
                        artifacts=str(config.artifacts),
                        family=family,
                        variants=tuple(members),
                        evaluate=tuple(to_evaluate.pop(family, ())),
                        batch=batch,
                        threads=config.threads,
                        warmup=config.warmup,
                        rounds=config.rounds_of(process_index),
                        seed=worker_seed(seed, batch, process_index, family),
                        process_index=process_index,
                        eval_limit=config.eval_limit,
                    )
                    try:
                        run_worker(job, facts, batch_timings)
                    except WorkerFailure as failure:
                        log(f"error: the {family} worker at batch {batch} {failure.reason}")
                        for name in members:
                            batch_timings[name].error = f"{family} worker {failure.reason}"
        except KeyboardInterrupt:
            status = schema.STATUS_INCOMPLETE
            raise
        finally:
            for name in names:
                written.append(
                    write_result_file(
                        config,
                        manifest,
                        info,
                        facts,
                        name,
                        batch,
                        batch_timings[name],
                        status,
                        seed,
                        eval_labels,
                    )
                )
                failed += batch_timings[name].error is not None
    if failed:
        raise UserError(
            f"{failed} of {len(written)} results failed (a worker process died; its log is above); "
            "the others are written. Fix the cause, then rerun the failed ones."
        )
    return written


def _families(facts: dict[str, VariantFacts]) -> list[str]:
    return list(dict.fromkeys(f.family for f in facts.values()))


def run_worker(job: wk.WorkerJob, facts: dict[str, VariantFacts], timings: dict[str, BatchTimings]) -> None:
    """Start one worker, fold each event it reports into facts and timings as it arrives."""
    command = [sys.executable, "-m", "harness.bench.worker", job.to_json()]
    for variant in job.variants:
        timings[variant].seeds[job.process_index] = job.seed
    oom_kills_before = read_oom_kills()
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)  # stderr: ours (the log)
    try:
        _read_events(proc, job, facts, timings)
        code = proc.wait()
    except KeyboardInterrupt:
        # In a container only this process gets the signal: pass it on, keep what arrives.
        proc.send_signal(signal.SIGINT)
        try:
            _read_events(proc, job, facts, timings)
            proc.wait(timeout=WORKER_STOP_GRACE_S)
        except subprocess.TimeoutExpired:
            proc.kill()
        raise
    if code == -signal.SIGKILL and (read_oom_kills() or 0) > (oom_kills_before or 0):
        raise WorkerFailure(oom_reason(memory_limit_bytes()))
    if code != 0:
        reason = f"killed by signal {-code}" if code < 0 else f"exited with code {code}"
        raise WorkerFailure(reason)


def _read_events(
    proc: subprocess.Popen,
    job: wk.WorkerJob,
    facts: dict[str, VariantFacts],
    timings: dict[str, BatchTimings],
) -> None:
    """Fold every event line; anything else a library printed to stdout goes to the log."""
    for line in proc.stdout:
        if line.startswith(wk.EVENT_PREFIX):
            _fold(json.loads(line), job, facts, timings)
        elif line.strip():
            print(line.rstrip(), file=sys.stderr, flush=True)


def _fold(
    event: dict, job: wk.WorkerJob, facts: dict[str, VariantFacts], timings: dict[str, BatchTimings]
) -> None:
    kind = event.pop("event")
    name = event.get("variant")
    if kind == wk.EVENT_LOADED:
        facts[name].runtime_name = event["runtime"]
        facts[name].load_s = event["load_s"]
        facts[name].load_added_bytes = event["load_added_bytes"]
    elif kind == wk.EVENT_EVALUATED:
        facts[name].predictions = np.asarray(event["predictions"], dtype=np.int64)
        facts[name].kernel_path = event["kernel_path"]
    elif kind == wk.EVENT_READY and name in timings:
        timings[name].note_memory(facts[name].load_added_bytes, event["added_bytes"])
    elif kind == wk.EVENT_ROUND:
        for position, variant in enumerate(event["order"]):
            timings[variant].add(event["seconds"][variant], job.process_index, event["round"], position)
    elif kind == wk.EVENT_THROTTLING:
        for variant in job.variants:
            timings[variant].add_throttling(event)


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
