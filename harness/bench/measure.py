"""Measure: time every variant in worker processes of its own, in turns.

For ``processes`` process rounds, every timed variant gets one worker process
per round (in an order drawn from the run's seed): it loads that one model,
warms it and times consecutive calls at each batch size, a bare loop with no
other model, runtime or thread pool beside it. This process holds no model:
it starts the workers, gathers what they report, and writes one result per
(variant, batch) with every raw timing and the process round it came from
(the report pairs variants round by round).
"""

from __future__ import annotations

import json
import secrets
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from harness import schema
from harness.bench import manifest as mf
from harness.bench import rounds
from harness.bench import worker as wk
from harness.bench.cgroup import memory_limit_bytes, oom_reason, read_oom_kills
from harness.bench.eval_set import load_eval_archive
from harness.bench.progress import StepProgress
from harness.bench.result_writer import (
    BatchTimings,
    VariantFacts,
    write_result_file,
)
from harness.bench.resume import pending_work
from harness.bench.rounds import RoundPolicy
from harness.bench.scenarios.rules import SINGLE_STREAM
from harness.bench.sysinfo import collect_system_info
from harness.bench.timing import round_orders
from harness.errors import UserError
from harness.intervals import group_by_round

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
    warmup: int = 3  # untimed calls per worker and batch, at least
    warmup_s: float = 1.0  # untimed seconds at each worker's first batch, at least
    min_seconds: float = 0.5  # timed seconds per worker and batch, at least
    repeats: int = 20  # timed rounds in all, shared out over the processes
    processes: int = 2
    seed: int | None = None  # of the round orders; None: a random one, recorded
    eval_limit: int | None = None
    host: str = "local"
    run_id: str = ""
    resume: bool = False
    # rounds after the --processes base rounds, for the comparisons a claim rests on (rounds.py)
    max_rounds: int = 0  # in all, at most; 0 or no budget: the base rounds only
    rounds_budget_s: float = 0.0
    target_half_width: float = 0.05
    # an MLPerf LoadGen scenario instead of the fixed-batch loop: "SingleStream" (batch 1) or
    # "Offline" (each batch); each worker runs it once per batch, for at least both minimums
    scenario: str = ""
    scenario_min_duration_s: float = 0.0
    scenario_min_queries: int = 1
    # a profiled pass per variant and batch after its first process's timed calls (natively)
    profile: bool = True

    def rounds_of(self, process_index: int) -> int:
        """Counted calls of one process per batch: ``repeats`` shared out, the first processes
        taking the remainder; a scenario run counts as one."""
        if self.scenario:
            return 1
        share, remainder = divmod(self.repeats, self.processes)
        return share + (process_index < remainder)

    def batch_sizes(self) -> tuple[int, ...]:
        """The batches timed: SingleStream's queries hold one sample, whatever --batch says."""
        return (1,) if self.scenario == SINGLE_STREAM else self.batches


class WorkerFailure(Exception):
    """A worker process that ended badly; its variant's results say why."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def resolve_variants(requested: tuple[str, ...], manifest: mf.Manifest) -> list[str]:
    """Expand ``all`` and check every name, in the canonical order."""
    available = [e.name for e in manifest.variants]
    if requested == (ALL,):
        return schema.in_table_order(available)
    for name in requested:
        if not schema.is_known_variant(name):
            raise UserError(
                f"unknown variant {name!r}; choose from: {', '.join(schema.VARIANTS)} (or 'all')."
            )
        manifest.entry(name)
    return schema.in_table_order(dict.fromkeys(requested))


def measure(config: MeasureConfig, log: StepProgress | None = None) -> list[Path]:
    """Run the whole measurement; return the result files written.

    Progress units: one per evaluation and one per counted timed call (--repeats shared out).
    """
    log = log or StepProgress("measure")
    manifest = mf.read_manifest(config.artifacts)
    timed = resolve_variants(config.variants, manifest)
    baselines = {schema.variant_info(v)[2] for v in timed} & {e.name for e in manifest.variants}
    evaluated = schema.in_table_order(dict.fromkeys([*sorted(baselines), *timed]))
    todo = pending_work(config, timed, manifest.input_size)
    if not todo:
        log("every requested result already exists for this run: nothing to do.")
        return []
    _, truth = load_eval_archive(config.artifacts / manifest.eval_file, config.eval_limit)
    for name in evaluated:
        mf.verify_artifact(config.artifacts, manifest.entry(name))
    info = collect_system_info()
    if config.threads > info.cpu_count:
        log.message(
            "warning", f"--threads {config.threads} is more than the {info.cpu_count} CPUs available."
        )
    seed = config.seed if config.seed is not None else secrets.randbits(31)
    native = info.emulated is False
    facts = {name: VariantFacts(name, manifest.entry(name)) for name in evaluated}
    batches_of = {v: tuple(b for b in sorted(config.batch_sizes()) if (v, b) in todo) for v in timed}
    batches_of = {v: b for v, b in batches_of.items() if b}
    timings = {(v, b): BatchTimings() for v, bs in batches_of.items() for b in bs}
    status = schema.STATUS_OK
    stop_reason = ""
    orders = list(round_orders(list(batches_of), min(config.processes, config.repeats), seed))
    log.total = len(evaluated) + sum(
        len(batches_of[name]) * config.rounds_of(index)
        for index, order in enumerate(orders)
        for name in order
    )
    log.reach(0, f"{len(evaluated)} variants, {len(orders)} process round(s)")
    try:
        for name in (v for v in evaluated if v not in batches_of):  # an untimed baseline: evaluate it
            _run_or_record(_job(config, name, (), 0, True, native), 0, facts, timings, log)
        for process_index, order in enumerate(orders):
            for position, name in enumerate(order):
                if any(timings[(name, b)].error for b in batches_of[name]):
                    continue  # that variant's worker failed already
                first = facts[name].predictions is None and process_index == 0
                job = _job(config, name, batches_of[name], process_index, first, native)
                _run_or_record(job, position, facts, timings, log)
        stop_reason = f"{len(orders)} base round(s) (no rounds added: none asked)"
        policy = RoundPolicy(config.max_rounds, config.rounds_budget_s, config.target_half_width)
        if policy.adaptive and config.max_rounds > len(orders) and not config.scenario:
            stop_reason = _add_rounds(
                config, policy, len(orders), batches_of, facts, timings, log, seed, native
            )
    except KeyboardInterrupt:
        status = schema.STATUS_INCOMPLETE
        stop_reason = "interrupted"
        raise
    finally:
        written = [
            write_result_file(
                config,
                manifest,
                info,
                facts,
                name,
                batch,
                timings[(name, batch)],
                status,
                seed,
                truth,
                stop_reason,
            )
            for (name, batch) in sorted(timings, key=lambda key: (key[1], timed.index(key[0])))
        ]
    failed = sum(t.error is not None for t in timings.values())
    log.reach(log.total, f"done, {failed} failed" if failed else "done")
    if failed:
        raise UserError(
            f"{failed} of {len(written)} results failed (a worker process died; its log is above); "
            "the others are written. Fix the cause, then rerun the failed ones."
        )
    return written


def _add_rounds(
    config: MeasureConfig,
    policy: RoundPolicy,
    base_rounds: int,
    batches_of: dict[str, tuple[int, ...]],
    facts: dict[str, VariantFacts],
    timings: dict[tuple[str, int], BatchTimings],
    log: StepProgress,
    seed: int,
    native: bool,
) -> str:
    """Rounds after the base ones, of the variants whose comparisons are still wide; the reason
    it stopped. A round starts only if a round as long as the last one fits in the budget."""
    started = time.monotonic()
    last_round_s = 0.0
    process_index = base_rounds
    batches = sorted({b for bs in batches_of.values() for b in bs})
    while True:
        by_round = {key: group_by_round(t.seconds, t.processes) for key, t in timings.items() if not t.error}
        wide = rounds.too_wide(rounds.watched(list(batches_of), batches, by_round), by_round, policy)
        if not wide:
            return (
                f"every watched interval within ±{policy.target_half_width:.0%} after {process_index} rounds"
            )
        if process_index >= policy.max_rounds:
            return f"round limit of {policy.max_rounds} reached; still wide: {rounds.describe(wide)}"
        spent = time.monotonic() - started
        if spent + last_round_s > policy.budget_s:
            return (
                f"time budget of {policy.budget_s:g} s for added rounds spent after {process_index} "
                f"rounds; still wide: {rounds.describe(wide)}"
            )
        plan = rounds.next_round(wide)
        order = next(round_orders(sorted(plan), 1, seed + process_index))
        log.total += sum(len(plan[name]) * config.rounds_of(process_index) for name in order)
        log.log(f"round {process_index + 1}: {rounds.describe(wide)} still wide; timing {', '.join(order)}")
        round_started = time.monotonic()
        for position, name in enumerate(order):
            if any(timings[(name, b)].error for b in batches_of[name]):
                continue
            job = _job(config, name, plan[name], process_index, False, native)
            _run_or_record(job, position, facts, timings, log)
        last_round_s = time.monotonic() - round_started
        process_index += 1


def _job(
    config: MeasureConfig,
    name: str,
    batches: tuple[int, ...],
    process_index: int,
    evaluate: bool,
    native: bool = False,
) -> wk.WorkerJob:
    return wk.WorkerJob(
        artifacts=str(config.artifacts),
        variant=name,
        batches=batches,
        threads=config.threads,
        warmup=config.warmup,
        warmup_s=config.warmup_s,
        min_seconds=config.min_seconds,
        calls=config.rounds_of(process_index) if batches else 0,
        process_index=process_index,
        evaluate=evaluate,
        eval_limit=config.eval_limit,
        # where a call's time goes, natively only: an emulated profile measures QEMU
        profile=evaluate and native and config.profile,
        scenario=config.scenario,
        scenario_min_duration_s=config.scenario_min_duration_s,
        scenario_min_queries=config.scenario_min_queries,
    )


def _run_or_record(
    job: wk.WorkerJob,
    position: int,
    facts: dict[str, VariantFacts],
    timings: dict[tuple[str, int], BatchTimings],
    log: StepProgress,
) -> None:
    """Run one worker; a failure is written into the results of its variant, not raised."""
    try:
        run_worker(job, position, facts, timings, log)
    except WorkerFailure as failure:
        log.message("error", f"the {job.variant} worker {failure.reason}")
        for batch in job.batches:
            timings[(job.variant, batch)].error = f"{job.variant} worker {failure.reason}"


def run_worker(
    job: wk.WorkerJob,
    position: int,
    facts: dict[str, VariantFacts],
    timings: dict[tuple[str, int], BatchTimings],
    log: StepProgress,
) -> None:
    """Start one worker, fold each event it reports into facts and timings as it arrives."""
    command = [sys.executable, "-m", "harness.bench.worker", job.to_json()]
    oom_kills_before = read_oom_kills()
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)  # stderr: ours (the log)
    try:
        _read_events(proc, job, position, facts, timings, log)
        code = proc.wait()
    except KeyboardInterrupt:
        # In a container only this process gets the signal: pass it on, keep what arrives.
        proc.send_signal(signal.SIGINT)
        try:
            _read_events(proc, job, position, facts, timings, log)
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
    position: int,
    facts: dict[str, VariantFacts],
    timings: dict[tuple[str, int], BatchTimings],
    log: StepProgress,
) -> None:
    """Fold every event line; anything else a library printed to stdout goes to the log."""
    fact = facts[job.variant]
    for line in proc.stdout:
        if not line.startswith(wk.EVENT_PREFIX):
            if line.strip():
                print(line.rstrip(), file=sys.stderr, flush=True)
            continue
        event = json.loads(line)
        kind = event["event"]
        if kind == wk.EVENT_LOADED:
            fact.runtime_name = event["runtime"]
            fact.load_s = event["load_s"]
            fact.load_added_bytes = event["load_added_bytes"]
        elif kind == wk.EVENT_EVALUATED:
            fact.predictions = np.asarray(event["predictions"], dtype=np.int64)
            fact.output_sample = event.get("output_sample") or []
            fact.kernel_path = event["kernel_path"]
            log.advance(1, f"evaluated {job.variant}")
        elif kind == wk.EVENT_READY:
            timings[(job.variant, event["batch"])].note_memory(fact.load_added_bytes, event["added_bytes"])
        elif kind == wk.EVENT_CALL:
            slot = timings[(job.variant, event["batch"])]
            slot.add(event["seconds"], job.process_index, event["index"], position)
            if event["index"] < job.calls:  # calls past --repeats' share (the seconds floor) are extra
                detail = f"{job.variant} b{event['batch']}: call {event['index'] + 1}/{job.calls}"
                log.advance(1, detail)
        elif kind == wk.EVENT_SCENARIO:
            slot = timings[(job.variant, event["batch"])]
            for index, seconds in enumerate(event["run"]["latencies_s"]):
                slot.add(seconds, job.process_index, index, position)
            slot.scenario_runs.append({**event["run"], "process": job.process_index})
            log.advance(1, f"{job.variant} {event['run']['scenario']} b{event['batch']}")
        elif kind == wk.EVENT_THROTTLING:
            timings[(job.variant, event["batch"])].add_throttling(event)
        elif kind == wk.EVENT_CPU:
            timings[(job.variant, event["batch"])].add_cpu_use(event["cpu_s"], event["wall_s"])
        elif kind == wk.EVENT_PROFILED:
            fact.op_profiles[event["batch"]] = event.get("profile") or {"error": event.get("error", "")}
