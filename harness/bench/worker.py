"""One worker process: one runtime family, one batch size, its rounds; nothing else loaded.

``measure`` starts one worker per (batch, process, family), so no runtime's
thread pool or allocator can slow another's calls (TensorFlow's pool slowed
the LiteRT call after it by 2.8x at batch 1 when they shared a process), and
each process is one more sample of the machine's state (pyperf's lesson).

Run as ``python -m harness.bench.worker JOB_JSON``. It reports on stdout, one
JSON object per line (``EVENT_*`` below); stderr carries the human log.
"""

from __future__ import annotations

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
from harness.bench.timing import RoundTimings, resident, round_orders, run_rounds
from harness.errors import UserError

EVENT_LOADED = "loaded"  # variant, load_s, load_added_bytes, runtime
EVENT_EVALUATED = "evaluated"  # variant, predictions, kernel_path
EVENT_READY = "ready"  # variant, added_bytes (load + batch buffers + warm-up)
EVENT_ROUND = "round"  # round, order, seconds {variant: s}
EVENT_THROTTLING = "throttling"  # periods, throttled_periods, throttled_s (None: unreadable)


@dataclass(frozen=True)
class WorkerJob:
    """What one worker does."""

    artifacts: str
    family: str
    variants: tuple[str, ...]
    batch: int
    threads: int
    warmup: int
    rounds: int
    seed: int
    process_index: int
    evaluate: tuple[str, ...] = ()  # variants to evaluate first (the family's first worker)
    eval_limit: int | None = None

    def to_json(self) -> str:
        return json.dumps(asdict(self))

    @classmethod
    def from_json(cls, text: str) -> WorkerJob:
        raw = json.loads(text)
        raw["variants"], raw["evaluate"] = tuple(raw["variants"]), tuple(raw["evaluate"])
        return cls(**raw)


EVENT_PREFIX = '{"event": '  # every event line starts so; other stdout lines are not events


def emit(kind: str, **fields) -> None:
    sys.stdout.write(json.dumps({"event": kind, **fields}) + "\n")
    sys.stdout.flush()


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def run_job(job: WorkerJob) -> None:
    """Load the family's variants, evaluate them if asked, warm them, time the rounds."""
    from harness.bench.measure import batch_images, load_eval_set
    from harness.bench.runtimes import configure_threads, load_runner

    manifest = mf.read_manifest(Path(job.artifacts))
    eval_images, _ = load_eval_set(Path(job.artifacts) / manifest.eval_file, job.eval_limit)
    configure_threads({job.family}, job.threads)
    runners = {}
    for name in dict.fromkeys(job.evaluate + job.variants):
        path = mf.verify_artifact(Path(job.artifacts), manifest.entry(name))
        tracker = PeakTracker()
        started = time.perf_counter()
        runners[name] = load_runner(job.family, path, job.threads)
        emit(
            EVENT_LOADED,
            variant=name,
            load_s=round(time.perf_counter() - started, 4),
            load_added_bytes=tracker.stop(),
            runtime=runners[name].runtime_name,
        )
    if job.evaluate:
        inputs = np.asarray(eval_images, np.float32) / np.float32(255.0)
        for name in job.evaluate:
            log(f"evaluating {name} on {len(inputs)} images")
            predictions = runners[name].predict(inputs).argmax(axis=1)
            emit(
                EVENT_EVALUATED,
                variant=name,
                predictions=[int(p) for p in predictions],
                kernel_path=runners[name].kernel_path(),
            )
    images = batch_images(eval_images, job.batch)
    keep_buffers = resident(job.batch)
    for name in job.variants:
        tracker = PeakTracker()
        runners[name].prepare(job.batch, images)
        for _ in range(job.warmup):
            runners[name].call()
        added = tracker.stop()
        if not keep_buffers:
            runners[name].release()
        emit(EVENT_READY, variant=name, added_bytes=added)
    orders = round_orders(list(job.variants), job.rounds, job.seed)
    log(
        f"batch {job.batch}: timing {len(job.variants)} variants interleaved, {job.rounds} rounds "
        f"({job.family}, process {job.process_index + 1})"
    )
    step = max(1, job.rounds // 5)

    def on_round(timings: RoundTimings) -> None:
        emit(EVENT_ROUND, round=timings.round_index, order=timings.order, seconds=timings.seconds)
        done = timings.round_index + 1
        if done % step == 0 or done == job.rounds:
            log(f"  round {done}/{job.rounds}")

    before = read_throttling()
    try:
        run_rounds(
            {name: runner.call for name, runner in runners.items()},
            orders,
            on_round,
            size_up=None
            if keep_buffers
            else (lambda name: runners[name].prepare(job.batch, images, warm=False)),
            size_down=None if keep_buffers else (lambda name: runners[name].release()),
        )
    finally:
        after = read_throttling()
        delta = after.since(before) if before and after else None
        emit(EVENT_THROTTLING, **(asdict(delta) if delta else {"periods": None}))


def main(argv: list[str]) -> int:
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")
    if len(argv) != 1:
        log("usage: python -m harness.bench.worker JOB_JSON (started by measure)")
        return 2
    try:
        run_job(WorkerJob.from_json(argv[0]))
    except KeyboardInterrupt:
        return 130
    except UserError as error:
        log(f"error: {error}")
        return error.exit_code
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
