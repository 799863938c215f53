"""``python -m harness tune``: search each runtime's int8 recipes, then time the ones that keep the
accuracy in paired rounds beside their runtime's float32 (measure's own machinery)."""

from __future__ import annotations

import argparse
import os
import secrets
from datetime import UTC, datetime
from pathlib import Path

from harness.cli_args import batch_list, name_list, non_negative_float, positive_float, positive_int
from harness.errors import UserError

QUICK_BUDGET_S = 900.0
QUICK_CANDIDATES = 8


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--artifacts", type=Path, required=True, help="a set written by prepare")
    parser.add_argument(
        "--out", type=Path, required=True, help="the tune folder: tune.json and the candidates"
    )
    parser.add_argument("--results", type=Path, required=True, help="where the candidates' results go")
    parser.add_argument(
        "--runtimes",
        type=name_list,
        default=("litert", "ort", "openvino"),
        help="runtimes to tune (default all)",
    )
    parser.add_argument(
        "--max-candidates",
        type=positive_int,
        default=QUICK_CANDIDATES,
        metavar="N",
        help=f"recipes tried per runtime, in its order (default {QUICK_CANDIDATES})",
    )
    parser.add_argument(
        "--budget",
        type=positive_float,
        default=QUICK_BUDGET_S,
        metavar="S",
        help=f"seconds for making and judging candidates (default {QUICK_BUDGET_S:g}); timing has its own",
    )
    parser.add_argument(
        "--max-drop",
        type=non_negative_float,
        default=None,
        metavar="PT",
        help="the gate: top-1 points a candidate may lose against its float32 (without labels: points of "
        "agreement); default the 99 %% rule",
    )
    parser.add_argument("--batch", type=batch_list, default=(1, 64), help="batches timed (default 1,64)")
    parser.add_argument("--threads", type=positive_int, default=os.cpu_count() or 1, help="threads per call")
    parser.add_argument("--host", default=os.environ.get("QUANTBENCH_HOST", "local"), help="host label")
    parser.add_argument("--run-id", default=None, help="names the results (default: time + random)")
    parser.add_argument(
        "--resume", action="store_true", help="finish a stopped search and its timing (--run-id)"
    )
    parser.add_argument("--no-timing", action="store_true", help="make and judge the candidates only")
    parser.add_argument("--events", action="store_true", help="progress as JSON lines too, for the host")


def run(args: argparse.Namespace) -> int:
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")
    from harness.bench.measure import MeasureConfig, measure
    from harness.bench.progress import StepProgress
    from harness.bench.rounds import DEFAULT_MAX_ROUNDS, DEFAULT_ROUNDS_BUDGET_S
    from harness.bench.tune.search import SET_FOLDER, TuneConfig, search

    if args.resume and not args.run_id:
        raise UserError("--resume needs the --run-id of the tune run to finish.")
    config = TuneConfig(
        args.artifacts,
        args.out,
        tuple(args.runtimes),
        args.max_candidates,
        args.budget,
        args.max_drop,
        args.threads,
    )
    records = search(config, StepProgress("tune", events=args.events))
    passed = [r for r in records if r.gate == "pass"]
    print(f"searched {len(records)} candidates: {len(passed)} pass the gate ({args.out / 'tune.json'})")
    if args.no_timing or not passed:
        return 0
    run_id = args.run_id or datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ-") + secrets.token_hex(3)
    written = measure(
        MeasureConfig(
            artifacts=args.out / SET_FOLDER,
            out=args.results,
            variants=("all",),
            batches=args.batch,
            threads=args.threads,
            max_rounds=DEFAULT_MAX_ROUNDS,  # the quick profile's round policy
            rounds_budget_s=DEFAULT_ROUNDS_BUDGET_S,
            host=args.host,
            run_id=run_id,
            resume=args.resume,
        ),
        StepProgress("measure", events=args.events),
    )
    print(f"wrote {len(written)} results to {args.results} (run {run_id})")
    from harness.report.tune.show import show_tune

    show_tune([args.results], run_id, args.out)
    return 0
