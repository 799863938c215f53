"""One worker process: one variant, its evaluation if asked, its timed calls; nothing else loaded.

``measure`` starts one worker per (process round, variant), so no other model,
runtime, thread pool or allocator shares its process or its cache while it is
timed, and each process is one more sample of the machine's state (pyperf's
lesson).

Run as ``python -m harness.bench.worker JOB_JSON``. It reports on stdout, one
JSON object per line (``EVENT_*`` below); stderr carries the human log.
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from harness.bench import manifest as mf
from harness.bench.cgroup import read_throttling
from harness.bench.memory import PeakTracker
from harness.bench.timing import time_calls, warm_up
from harness.errors import UserError

EVENT_PREFIX = '{"event": '  # every event line starts so; other stdout lines are not events
EVENT_LOADED = "loaded"  # load_s, load_added_bytes, runtime
EVENT_EVALUATED = "evaluated"  # predictions, output_sample, kernel_path
# Class probabilities of this many first eval images go into each result: what the emulated
# check compares with native (a stronger check than top-1, on far fewer images).
OUTPUT_SAMPLE_IMAGES = 32
EVENT_READY = "ready"  # batch, added_bytes (batch buffers + warm-up, on top of the load), warmup_calls
EVENT_CALL = "call"  # batch, index, seconds
EVENT_SCENARIO = "scenario"  # batch, run (a scenarios.ScenarioRun as a dict)
EVENT_THROTTLING = "throttling"  # batch, periods, throttled_periods, throttled_s (periods None: unknown)
EVENT_CPU = "cpu_use"  # batch, cpu_s, wall_s: the process's CPU time and the wall time of its timed calls
EVENT_PROFILED = "profiled"  # batch, profile (an op_profile.OpProfile as a dict) or error
# Batches above this are not profiled: a profiled pass at batch 10,000 would cost minutes.
PROFILE_MAX_BATCH = 256


@dataclass(frozen=True)
class WorkerJob:
    """What one worker does."""

    artifacts: str
    variant: str
    batches: tuple[int, ...]
    threads: int
    warmup: int  # untimed calls per batch, at least
    calls: int  # timed calls per batch
    process_index: int
    warmup_s: float = 0.0  # untimed seconds at the worker's first batch, at least
    min_seconds: float = 0.0  # timed seconds per batch, at least (more calls when they are short)
    evaluate: bool = False
    eval_limit: int | None = None
    profile: bool = False  # with the evaluation: where a call's time goes (native machines only)
    # an MLPerf LoadGen scenario ("SingleStream", "Offline") run at each batch instead of the loop
    scenario: str = ""
    scenario_min_duration_s: float = 0.0
    scenario_min_queries: int = 1

    def to_json(self) -> str:
        return json.dumps(asdict(self))

    @classmethod
    def from_json(cls, text: str) -> WorkerJob:
        raw = json.loads(text)
        raw["batches"] = tuple(raw["batches"])
        return cls(**raw)


def emit(kind: str, **fields) -> None:
    sys.stdout.write(json.dumps({"event": kind, **fields}) + "\n")
    sys.stdout.flush()


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def run_job(job: WorkerJob) -> None:
    """Load the variant, then per batch: warm it up and time its calls; evaluate it if asked."""
    from harness.bench.eval_set import load_eval_set
    from harness.bench.runtimes import configure_threads, load_runner

    artifacts = Path(job.artifacts)
    manifest = mf.read_manifest(artifacts)
    entry = manifest.entry(job.variant)
    eval_images, _ = load_eval_set(artifacts / manifest.eval_file, job.eval_limit)
    configure_threads({entry.runtime}, job.threads)
    tracker = PeakTracker()
    started = time.perf_counter()
    runner = load_runner(entry.runtime, mf.verify_artifact(artifacts, entry), job.threads)
    emit(
        EVENT_LOADED,
        load_s=round(time.perf_counter() - started, 4),
        load_added_bytes=tracker.stop(),
        runtime=runner.runtime_name,
    )
    step = max(1, job.calls // 5)
    inputs = InputForm(manifest.normalize, entry.input_layout)
    for index, batch in enumerate(job.batches):
        tracker = PeakTracker()
        runner.prepare(batch, inputs.batch(eval_images, batch))
        # A fresh process settles once (page faults, thread pools, clocks): the seconds floor is
        # for its first batch; a later batch has new buffers in a settled process, and its
        # calls warm those (bare loops with 5 warm-up calls at batch 64 agree within 5 %).
        warmed = warm_up(runner.call, job.warmup, job.warmup_s if index == 0 else 0.0)
        emit(EVENT_READY, batch=batch, added_bytes=tracker.stop(), warmup_calls=warmed)
        log(
            f"batch {batch}: timing {job.variant}, {job.calls} calls "
            f"(at least {job.min_seconds:g} s, process {job.process_index + 1})"
        )

        def on_call(index: int, seconds: float, batch: int = batch) -> None:
            emit(EVENT_CALL, batch=batch, index=index, seconds=seconds)
            if (index + 1) % step == 0 and index + 1 <= job.calls:
                log(f"  call {index + 1}/{job.calls}")

        before = read_throttling()
        # CPU time of every thread of this process over the wall time of the timed calls: the
        # threads the runtime really used (spinning pool threads count: they hold a core too).
        cpu_before, wall_before = time.process_time(), time.perf_counter()
        try:
            if job.scenario:
                emit(EVENT_SCENARIO, batch=batch, run=run_scenario_job(job, batch, runner.call))
            else:
                time_calls(runner.call, job.calls, job.min_seconds, on_call)
        finally:
            cpu_s, wall_s = time.process_time() - cpu_before, time.perf_counter() - wall_before
            after = read_throttling()
            delta = after.since(before) if before and after else None
            emit(EVENT_THROTTLING, batch=batch, **(asdict(delta) if delta else {"periods": None}))
            emit(EVENT_CPU, batch=batch, cpu_s=round(cpu_s, 6), wall_s=round(wall_s, 6))
        runner.release()  # a huge batch's buffers go before the next batch's
    # After the timing: what the evaluation allocates is not held while a huge batch runs.
    if job.evaluate:
        log(f"evaluating {job.variant} on {len(eval_images)} images")
        scores = np.asarray(runner.predict(inputs.all(eval_images)))
        predictions = scores.argmax(axis=1)
        sample = scores[:OUTPUT_SAMPLE_IMAGES].astype(np.float64)
        if manifest.output_kind == "logits":  # the emulated check compares probabilities
            sample = np.exp(sample - sample.max(axis=1, keepdims=True))
            sample /= sample.sum(axis=1, keepdims=True)
        sample = np.round(sample, 7).tolist()
        kernel_path = runner.kernel_path(job.profile)
        emit(
            EVENT_EVALUATED,
            predictions=[int(p) for p in predictions],
            output_sample=sample,
            kernel_path=kernel_path,
        )
    if job.profile:
        profile_batches(job, runner, eval_images, inputs)


@dataclass(frozen=True)
class InputForm:
    """How this variant takes its images: the manifest's normalization, the file's layout."""

    normalize: str
    layout: str

    def batch(self, eval_images: np.ndarray, batch: int) -> np.ndarray:
        from harness.bench.eval_set import batch_images

        return batch_images(eval_images, batch, self.normalize, self.layout)

    def all(self, eval_images: np.ndarray) -> np.ndarray:
        from harness.bench.preprocess import model_inputs

        return model_inputs(np.asarray(eval_images), self.normalize, self.layout)


def profile_batches(job: WorkerJob, runner, eval_images: np.ndarray, inputs: InputForm) -> None:
    """A profiled pass per batch, after every timed call of this process: where a call's time goes.

    The runner profiles in a session, compiled model or interpreter of its own (profiling slows
    calls), so no timed call is ever profiled. A runtime without a profiler, or one that fails,
    is recorded as such: the result never fails for its profile.
    """
    profile = getattr(runner, "op_profile", None)
    for batch in (b for b in job.batches if b <= PROFILE_MAX_BATCH):
        if profile is None:
            emit(EVENT_PROFILED, batch=batch, error="this runtime's runner has no op_profile")
            continue
        log(f"batch {batch}: profiling {job.variant} (a pass of its own, not timed)")
        try:
            found = profile(batch, inputs.batch(eval_images, batch))
        except Exception as error:  # a profiler is an extra: say what failed, keep the result
            emit(EVENT_PROFILED, batch=batch, error=f"{type(error).__name__}: {error}")
            continue
        emit(EVENT_PROFILED, batch=batch, profile=found.to_dict())


def run_scenario_job(job: WorkerJob, batch: int, call) -> dict:
    """One scenario run on the prepared batch, as a dict (LoadGen where it imports)."""
    from harness.bench.scenarios import ScenarioSettings, run_scenario, shortfalls

    settings = ScenarioSettings(job.scenario, job.scenario_min_duration_s, job.scenario_min_queries, batch)
    log(f"  {job.scenario}: at least {settings.min_duration_s:g} s and {settings.min_query_count} queries")
    run = run_scenario(settings, call)
    return {**asdict(run), "mlperf_shortfalls": shortfalls(run)}


def main(argv: list[str]) -> int:
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")
    if len(argv) != 1:
        log("usage: python -m harness.bench.worker JOB_JSON (started by measure)")
        return 2
    prefer_me_when_out_of_memory()
    try:
        run_job(WorkerJob.from_json(argv[0]))
    except KeyboardInterrupt:
        return 130
    except UserError as error:
        log(f"error: {error}")
        return error.exit_code
    except BrokenPipeError:
        # measure is gone (killed): nobody reads our events; stop quietly, no second error at exit
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        log("stopping: the measure process that started this worker is gone")
        return 1
    return 0


def prefer_me_when_out_of_memory() -> None:
    """Ask the kernel's OOM killer to take this worker before measure (raising is allowed to
    anyone): then measure survives a memory limit and records which variant hit it."""
    with contextlib.suppress(OSError):
        Path("/proc/self/oom_score_adj").write_text("500")


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
