"""``python -m harness measure``: time and evaluate variants, one result JSON each."""

from __future__ import annotations

import argparse
import os
import secrets
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

from harness.bench.rounds import DEFAULT_MAX_ROUNDS, DEFAULT_ROUNDS_BUDGET_S  # standard library only
from harness.cli_args import (
    batch_list,
    name_list,
    non_negative_float,
    non_negative_int,
    positive_int,
    thread_list,
)
from harness.errors import UserError


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--artifacts", type=Path, required=True, help="directory written by prepare")
    parser.add_argument("--variants", type=name_list, default=("all",), help="comma list, or all")
    parser.add_argument("--batch", type=batch_list, default=(1, 64), help="comma list of batch sizes")
    parser.add_argument(
        "--threads",
        type=thread_list,
        default=(os.cpu_count() or 1,),
        help="threads per call (default: the CPUs available); a comma list (1,2) sweeps them: "
        "every variant is measured at each count in turn, with a verdict per count",
    )
    parser.add_argument(
        "--warmup", type=non_negative_int, default=3, help="untimed calls per worker and batch, at least"
    )
    parser.add_argument(
        "--warmup-seconds",
        type=non_negative_float,
        default=1.0,
        help="untimed seconds at each worker's first batch, at least (a fresh process needs time "
        "to settle; later batches are warmed by --warmup calls)",
    )
    parser.add_argument(
        "--repeats",
        type=positive_int,
        default=20,
        help="timed calls in all, at least, shared out over --processes",
    )
    parser.add_argument(
        "--min-seconds",
        type=non_negative_float,
        default=0.5,
        help="timed seconds per worker and batch, at least: short calls are timed more often",
    )
    parser.add_argument(
        "--processes",
        type=positive_int,
        default=2,
        help="worker processes per runtime family and batch (default 2: one process is one sample)",
    )
    parser.add_argument(
        "--max-rounds",
        type=non_negative_int,
        default=DEFAULT_MAX_ROUNDS,
        help="process rounds in all, at most: after the --processes rounds, the comparisons a verdict "
        f"rests on get more rounds while their interval is wider than --target-width (default "
        f"{DEFAULT_MAX_ROUNDS}, the quick profile's; 0: none added)",
    )
    parser.add_argument(
        "--rounds-budget",
        type=non_negative_float,
        default=DEFAULT_ROUNDS_BUDGET_S,
        help=f"seconds that the added rounds may take, at most (default {DEFAULT_ROUNDS_BUDGET_S:g}; "
        "0: none added)",
    )
    parser.add_argument(
        "--target-width",
        type=non_negative_float,
        default=0.05,
        help="an interval within this fraction of its ratio (0.05: +-5%%) needs no more rounds",
    )
    parser.add_argument(
        "--scenario",
        choices=("singlestream", "offline"),
        default=None,
        help="MLPerf LoadGen scenario instead of the fixed-batch loop: singlestream (batch-1 queries "
        "back to back; p90 latency) or offline (every sample at once, at each --batch; samples/s); "
        "driven by LoadGen where mlperf_loadgen imports, else by its rules in Python",
    )
    parser.add_argument(
        "--min-duration",
        type=non_negative_float,
        default=None,
        help="a scenario run lasts at least this many seconds (default 2; MLPerf requires 600)",
    )
    parser.add_argument(
        "--min-queries",
        type=positive_int,
        default=None,
        help="and at least this many queries (SingleStream) or samples (Offline) (default: 64, and "
        "4 batches for Offline; MLPerf: 24,576 samples for ResNet-50 Offline)",
    )
    parser.add_argument(
        "--mlperf-minimums",
        action="store_true",
        help="use MLPerf's own minimums (600 s; Offline ResNet-50: 24,576 samples)",
    )
    parser.add_argument(
        "--no-profile",
        action="store_true",
        help="skip the profiled pass (where a call's time goes, per op or stage) that follows each "
        "variant's first timed process natively; it never runs during a timed call",
    )
    parser.add_argument("--seed", type=non_negative_int, default=None, help="seed of the round orders")
    parser.add_argument("--eval-limit", type=positive_int, default=None, help="evaluate only the first N")
    parser.add_argument("--out", type=Path, required=True, help="results directory")
    parser.add_argument("--host", default=os.environ.get("QUANTBENCH_HOST", "local"), help="host label")
    parser.add_argument("--run-id", default=None, help="names this run's files (default: time + random)")
    parser.add_argument("--resume", action="store_true", help="measure only what --run-id lacks")
    parser.add_argument(
        "--events",
        action="store_true",
        help="also write progress as JSON lines (harness.schema.ProgressEvent) to stderr, for the host",
    )


def run(args: argparse.Namespace) -> int:
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")
    from harness.bench.measure import MeasureConfig, measure
    from harness.bench.progress import StepProgress

    if args.resume and not args.run_id:
        raise UserError("--resume needs the --run-id of the run to finish.")
    _check_writable(args.out)
    run_id = args.run_id or datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ-") + secrets.token_hex(3)
    scenario, min_duration, min_queries = _scenario_settings(args)
    config = MeasureConfig(
        artifacts=args.artifacts,
        out=args.out,
        variants=args.variants,
        batches=args.batch,
        threads=args.threads[0],
        warmup=args.warmup,
        warmup_s=args.warmup_seconds,
        min_seconds=args.min_seconds,
        repeats=args.repeats,
        processes=args.processes,
        max_rounds=args.max_rounds,
        rounds_budget_s=args.rounds_budget,
        target_half_width=args.target_width,
        scenario=scenario,
        scenario_min_duration_s=min_duration,
        scenario_min_queries=min_queries,
        seed=args.seed,
        eval_limit=args.eval_limit,
        host=args.host,
        run_id=run_id,
        resume=args.resume,
        profile=not args.no_profile,
    )
    written: list[Path] = []
    failures: list[str] = []
    for threads in args.threads:
        # one whole measure per thread count, one after the other: each count's verdicts are
        # paired within its own rounds; the scaling between counts is a ratio of medians
        step = "measure" if len(args.threads) == 1 else f"measure, {threads} thread(s)"
        try:
            written += measure(replace(config, threads=threads), StepProgress(step, events=args.events))
        except UserError as error:
            if len(args.threads) == 1:
                raise
            failures.append(f"{threads} thread(s): {error}")
    print(f"wrote {len(written)} results to {args.out} (run {run_id})")
    if failures:
        raise UserError(" ".join(failures))
    return 0


DEFAULT_MIN_DURATION_S = 2.0
DEFAULT_OFFLINE_BATCHES = 4


def _scenario_settings(args: argparse.Namespace) -> tuple[str, float, int]:
    """(LoadGen's scenario name or "", minimum seconds, minimum queries or samples)."""
    if args.scenario is None:
        if args.min_duration is not None or args.min_queries is not None or args.mlperf_minimums:
            raise UserError("--min-duration, --min-queries and --mlperf-minimums need --scenario.")
        return "", 0.0, 1
    from harness.bench.scenarios import OFFLINE, SCENARIOS, SINGLE_STREAM, mlperf_minimums

    scenario = SCENARIOS[args.scenario]
    if args.mlperf_minimums:
        if args.min_duration is not None or args.min_queries is not None:
            raise UserError("--mlperf-minimums sets both minimums: drop --min-duration and --min-queries.")
        minimum = mlperf_minimums(scenario)
        return scenario, minimum.min_duration_s, minimum.min_query_count
    # by default, the fewest queries LoadGen's early-stopping estimate of a p90 needs (64)
    queries = mlperf_minimums(SINGLE_STREAM).min_query_count
    if scenario == OFFLINE:
        queries = DEFAULT_OFFLINE_BATCHES * max(args.batch)
    duration = DEFAULT_MIN_DURATION_S if args.min_duration is None else args.min_duration
    return scenario, duration, args.min_queries or queries


def _check_writable(out: Path) -> None:
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise UserError(f"cannot create the results directory {out}: {error.strerror}.") from error
    if not os.access(out, os.W_OK | os.X_OK):
        raise UserError(f"the results directory {out} is not writable; choose another --out.")
