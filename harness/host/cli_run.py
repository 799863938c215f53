"""``python -m harness host run`` and ``host all-arch``: the whole benchmark in containers.

Only the standard library at module level (see ``harness.host.subcommand``).
"""

from __future__ import annotations

import argparse
import os
import signal
from pathlib import Path

from harness.cli_args import input_size_list, non_negative_int, positive_float, positive_int, thread_list
from harness.host import ARCHES, DEFAULT_TIMEOUT_S, IMAGES_DIR, REPO_ROOT
from harness.host.run.profiles import PROFILES
from harness.host.subcommand import Subcommand, arches_of, arg

RUN_ARCH = arg(
    "--arch",
    choices=(*ARCHES, "all"),
    default=None,
    help="architecture (default: all; not with --machine, where each machine runs its own)",
)

RUN_OPTIONS = (
    arg(
        "--machine",
        action="append",
        default=[],
        metavar="NAME=TARGET",
        help="measure on this machine, natively, under NAME: TARGET is local, unix:///x.sock, "
        "tcp://h:port, ssh://user@box or a docker context (repeatable; then the run is the machines)",
    ),
    arg(
        "--fleet",
        type=Path,
        default=None,
        metavar="FILE",
        help="the machines of a TOML fleet file (docs/many-machines.md)",
    ),
    arg(
        "--skip-unreachable",
        action="store_true",
        help="with machines: leave out one that does not answer, run the others (the run still fails)",
    ),
    arg(
        "--host",
        action="append",
        default=[],
        metavar="ARCH=TARGET",
        help="run ARCH on another engine: unix:///x.sock, tcp://h:port, ssh://user@box or a docker "
        "context (repeatable; default: the local engine, emulated when foreign)",
    ),
    arg(
        "--profile",
        choices=tuple(PROFILES),
        default="quick",
        help="quick: batch 1,64 at 32×32 (default); full: +10000, MLPerf-style scenarios, 224×224",
    ),
    arg(
        "--input-size",
        type=input_size_list,
        default=(),
        metavar="SIDES",
        help="image sides to measure, e.g. 32,224 (default: the profile's; quick 32, full 32,224): "
        "224 runs batch 1,16 natively and checks 2 images' outputs under emulation",
    ),
    arg(
        "--repeats",
        type=positive_int,
        default=None,
        metavar="N",
        help="timed calls per variant and batch, at least (default: the profile's, 20 native, 1 emulated)",
    ),
    arg(
        "--model",
        default="resnet50",
        help="resnet50 (default, trained here), tiny (tests), or your model: a .keras, .h5 or .onnx file or "
        "a SavedModel folder (sent into the container; measured as given)",
    ),
    arg(
        "--data",
        default="digits",
        help="digits (default), synthetic, cifar100:DIR, or for your model imagefolder:DIR (a subfolder of "
        "JPEG/PNG per class) or npz:FILE",
    ),
    arg(
        "--normalize",
        default=None,
        metavar="NAME",
        help="your model's pixels (required with --model PATH): raw, 0-1, tf (-1..1), torch (ImageNet "
        "mean/std), caffe (BGR minus means)",
    ),
    arg(
        "--resize", default=None, choices=("center-crop", "stretch"), help="your images to the model's input"
    ),
    arg(
        "--calibration-images",
        type=positive_int,
        default=None,
        metavar="N",
        help="your int8 calibration images",
    ),
    arg("--eval-images", type=positive_int, default=None, metavar="N", help="your evaluation images"),
    arg("--split-seed", type=non_negative_int, default=None, metavar="N", help="seed of your images' split"),
    arg(
        "--epochs",
        type=positive_int,
        default=None,
        help="float training epochs: the length of the one-cycle schedule (default 12)",
    ),
    arg("--qat-epochs", type=positive_int, default=None, help="QAT fine-tuning epochs (default 1)"),
    arg(
        "--artifacts",
        type=Path,
        default=None,
        help="prepared models (default artifacts/; your model's: artifacts-<file name>/)",
    ),
    arg("--results", type=Path, default=REPO_ROOT / "results", help="result JSON (default results/)"),
    arg("--timeout", type=positive_float, default=None, metavar="S", help="per container (default 4 h)"),
    arg(
        "--threads",
        type=thread_list,
        default=(),
        metavar="N[,N...]",
        help="threads per call natively, e.g. 1,2: one measure pass per count, a verdict per count "
        "and a scaling table (default: the CPU limit; emulated runs keep that)",
    ),
    arg("--cpus", type=positive_float, default=None, metavar="N", help="CPU limit (default: all)"),
    arg("--memory", default=None, metavar="SIZE", help="memory limit, e.g. 16g (default: 75%% of RAM)"),
    arg("--resume", action="store_true", help="finish a run: measure only what it lacks"),
    arg("--run-id", default=None, help="name of the run (default: time + random; --resume: the latest)"),
    arg("--images-dir", type=Path, default=IMAGES_DIR, help="where image archives for other engines go"),
    arg(
        "--no-build",
        action="store_true",
        help="use the images as they are (default: a cached build, so they run this checkout's code)",
    ),
    arg(
        "--reverify",
        action="store_true",
        help="check the emulated outputs again though the same image and files passed the check before",
    ),
    arg(
        "--verbose",
        action="store_true",
        help="print every line the containers write (and TensorFlow's C++ log) as well as the bars",
    ),
)


def run_command(args: argparse.Namespace) -> int:
    from harness.errors import UserError

    if (args.machine or args.fleet) and (args.host or args.arch is not None):
        raise UserError(
            "--machine/--fleet name the whole run (each machine measures its own arch natively); "
            "drop --arch and --host, or name the local engine as a machine: --machine here=local."
        )
    return _run(args, arches_of(args))


def all_arch_command(args: argparse.Namespace) -> int:
    from harness.host.engine.connect import run_setup_script

    # As root the idempotent set-up installs and starts what is missing; otherwise the
    # engine and emulation checks of `run` say what to do.
    if args.machine or args.fleet:
        from harness.errors import UserError

        raise UserError("all-arch runs this machine's arches; for a fleet use `host run --machine/--fleet`.")
    if os.geteuid() == 0:
        run_setup_script()
    return _run(args, list(ARCHES))


def _image_options(args: argparse.Namespace):
    """A user's model's input options (None for the built-in model, which refuses them); its
    model and data paths checked before anything is built."""
    from harness.errors import UserError
    from harness.host.run import inputs
    from harness.host.run.profiles import ImageOptions

    inputs.data_path(args.data)
    if inputs.model_path(args.model) is None:
        given = [name for name in ("normalize", "resize", "calibration_images", "eval_images", "split_seed")]
        given = [f"--{name.replace('_', '-')}" for name in given if getattr(args, name) is not None]
        if given:
            raise UserError(
                f"{', '.join(given)} are for your own model (--model PATH); the built-in one drops them."
            )
        return None
    if args.normalize is None:
        raise UserError(
            "say how your model expects its pixels with --normalize (NORMALIZE= for make): raw, 0-1, tf "
            "(-1..1), torch (ImageNet mean/std) or caffe (BGR minus means); quantbench does not guess it."
        )
    if args.epochs or args.qat_epochs:
        raise UserError(
            "your model is measured as given: drop --epochs and --qat-epochs (they train the built-in one)."
        )
    if args.input_size and len(args.input_size) > 1:
        raise UserError("your model is measured at one input size: give --input-size one side, e.g. 224.")
    return ImageOptions(
        args.normalize,
        args.resize,
        args.calibration_images,
        args.eval_images,
        args.split_seed,
        args.input_size[0] if args.input_size else None,
    )


def _raise_interrupt(signum, frame) -> None:
    raise KeyboardInterrupt


def _run(args: argparse.Namespace, arches: list[str], tune=None) -> int:
    """The run (``tune``: host tune's search options, its candidates measured instead)."""
    from rich.console import Console

    from harness.cli_args import parse_memory
    from harness.host.engine.fleet import fleet
    from harness.host.engine.targets import parse_host_options
    from harness.host.run import inputs, orchestrator
    from harness.host.run.profiles import (
        for_tune,
        for_user_model,
        get_profile,
        with_input_sizes,
        with_repeats,
        with_threads,
    )
    from harness.report.cli import show_report

    images = _image_options(args)
    profile = get_profile(args.profile)
    profile = for_user_model(profile) if images else with_input_sizes(profile, args.input_size)
    profile = for_tune(profile) if tune is not None else profile
    config = orchestrator.RunConfig(
        arches=tuple(arches),
        host_options=parse_host_options(args.host),
        machines=fleet(args.machine, args.fleet),
        skip_unreachable=args.skip_unreachable,
        profile=with_threads(with_repeats(profile, args.repeats), args.threads),
        model=args.model,
        data=args.data,
        images=images,
        epochs=args.epochs,
        qat_epochs=args.qat_epochs,
        artifacts_dir=(args.artifacts or inputs.default_artifacts(args.model, REPO_ROOT)).resolve(),
        results_dir=args.results.resolve(),
        timeout_s=args.timeout or DEFAULT_TIMEOUT_S,
        cpus=args.cpus,
        memory_bytes=parse_memory(args.memory) if args.memory else None,
        resume=args.resume,
        run_id=args.run_id,
        images_dir=args.images_dir.resolve(),
        rebuild=not args.no_build,
        local_engine=args.engine,
        verbose=args.verbose,
        reverify=args.reverify,
        tune=tune,
    )
    console = Console(stderr=True)
    signal.signal(signal.SIGTERM, _raise_interrupt)  # `kill` cleans up like Ctrl-C

    def on_native(run_id: str) -> None:
        if tune is None:
            _show_native_answer(config.results_dir, run_id, console)
        else:  # which file to ship is known natively: the emulated check of the candidates follows
            from harness.host.run.tune_step import tune_folder
            from harness.report.tune.show import show_tune

            console.rule("which int8 to ship (native); the emulated check of the candidates follows")
            show_tune([config.results_dir], run_id, tune_folder(config.model))

    summary = orchestrator.run(config, console, on_native=on_native)
    _print_summary(summary, console)
    if summary.interrupted:
        console.print(
            f"[yellow]interrupted:[/] no container is left running; finish with "
            f"`python -m harness host run --resume --run-id {summary.run_id}` (same options)."
        )
        raise KeyboardInterrupt
    if tune is None:
        show_report([config.results_dir], run_id=summary.run_id)  # what `harness report --run-id` prints
    else:
        from harness.host.run.tune_step import tune_folder
        from harness.report.tune.show import show_tune

        show_tune([config.results_dir], summary.run_id, tune_folder(config.model))
    if not summary.ok and tune is not None and _only_candidate_findings(summary, config.results_dir):
        console.print(
            "[yellow]tune:[/] every container finished; the results not ok are candidates whose emulated "
            "outputs differ from native (listed above): a finding of the search, not a failed run."
        )
    elif not summary.ok:
        console.print(
            f"[red]run {summary.run_id} is not clean:[/] see the failed containers above, their logs in "
            f"{config.results_dir / 'logs'}, and the failed results in the report."
        )
        return 1
    console.print(f"[green]run {summary.run_id} complete:[/] results in {config.results_dir}")
    return 0


def _only_candidate_findings(summary, results_dir: Path) -> bool:
    """Whether a tune run's only results not ok are tuning candidates that failed the emulated
    output check (every container ran to its end)."""
    from harness.host.run import collect
    from harness.runtime_registry import is_candidate

    if summary.interrupted or any(not r.outcome.ok for r in summary.records):
        return False
    failed = [r for r in collect.all_results(results_dir) if r.run_id == summary.run_id and r.status != "ok"]
    return bool(failed) and all(
        r.emulated and is_candidate(r.variant) and (r.error or "").startswith("emulated outputs differ")
        for r in failed
    )


def _show_native_answer(results_dir: Path, run_id: str, console) -> None:
    """This machine's table, headline and verdicts, before the emulated check (which is slow)."""
    from harness.errors import UserError
    from harness.report.cli import show_report

    console.rule("this machine's answer (native); the emulated check follows")
    try:
        show_report([results_dir], run_id=run_id, native_only=True)
    except UserError as error:  # e.g. every native result failed: the final report says so
        console.print(f"[yellow]no native answer to show yet:[/] {error}")


def _print_summary(summary, console) -> None:
    from rich.table import Table

    table = Table(title=f"containers of run {summary.run_id}")
    for column in ("step", "arch", "host", "mode", "outcome", "time", "results", "not ok"):
        table.add_column(column, justify="right" if column in ("time", "results", "not ok") else "left")
    for record in summary.records:
        style = "green" if record.finished else "red"
        table.add_row(
            record.step,
            record.arch,
            record.host,
            "emulated" if record.emulated else "native",
            f"[{style}]{record.reason}[/]",
            f"{record.outcome.duration_s:.0f} s",
            str(record.results),
            str(record.failed),
        )
    console.print(table)
    for line in summary.machine_lines():
        console.print(line, highlight=False)
    if summary.timeline is not None:
        console.print("steps of the run (the untimed ones overlap; no measure ran beside anything):")
        for line in summary.timeline.lines():
            console.print(f"  {line}", highlight=False)


SUBCOMMANDS = (
    Subcommand(
        "run",
        "prepare once, measure in every arch's (or machine's) container, verify, report",
        (RUN_ARCH, *RUN_OPTIONS),
        run_command,
    ),
    Subcommand(
        "all-arch",
        "set up the host (root: dockerd, QEMU), then run amd64 natively and arm64 emulated",
        RUN_OPTIONS,
        all_arch_command,
    ),
)
