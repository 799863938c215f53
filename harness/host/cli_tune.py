"""``python -m harness host tune``: which int8 file to ship, searched and measured in containers.

Only the standard library at module level (see ``harness.host.subcommand``).
"""

from __future__ import annotations

import argparse

from harness.cli_args import name_list, non_negative_float, positive_float, positive_int
from harness.host.cli_run import RUN_ARCH, RUN_OPTIONS, _run
from harness.host.subcommand import Subcommand, arches_of, arg

TUNE_OPTIONS = (
    arg(
        "--runtimes",
        type=name_list,
        default=("litert", "ort", "openvino"),
        help="runtimes to tune (default all)",
    ),
    arg(
        "--max-candidates",
        type=positive_int,
        default=8,
        metavar="N",
        help="recipes tried per runtime (default 8)",
    ),
    arg(
        "--budget",
        type=positive_float,
        default=900.0,
        metavar="S",
        help="seconds for making and judging candidates (default 900); the timing has the profile's",
    ),
    arg(
        "--max-drop",
        type=non_negative_float,
        default=None,
        metavar="PT",
        help="the gate: top-1 points a candidate may lose against its float32 (default: the 99%% rule)",
    ),
)


def tune_command(args: argparse.Namespace) -> int:
    import os

    from harness.errors import UserError
    from harness.host.engine.connect import run_setup_script
    from harness.host.run.plan import TuneOptions

    if (args.machine or args.fleet) and (args.host or args.arch is not None):
        raise UserError("--machine/--fleet name the whole run: drop --arch and --host.")
    if os.geteuid() == 0 and not (args.machine or args.fleet):
        run_setup_script()  # as `host all-arch`: the engine and QEMU, when missing
    from harness.host import REPO_ROOT
    from harness.host.run.tune_step import tune_folder

    options = TuneOptions(tuple(args.runtimes), args.max_candidates, args.budget, args.max_drop)
    if args.results == REPO_ROOT / "results":  # not given: the tune's results stay apart from the runs'
        args.results = tune_folder(args.model) / "results"
    return _run(args, arches_of(args), tune=options)


SUBCOMMANDS = (
    Subcommand(
        "tune",
        "search each runtime's int8 recipes, measure the ones that keep accuracy on every machine, say "
        "which file to ship",
        (RUN_ARCH, *RUN_OPTIONS, *TUNE_OPTIONS),
        tune_command,
    ),
)
