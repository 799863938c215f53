"""``python -m harness host <sub-command>``: a thin dispatcher over the host modules.

Adding a sub-command is adding one decorated function::

    @subcommand("run", "run the bench in a container", ARCH, arg("--batch", type=int))
    def run_bench(args): ...

Only the standard library is imported at module level: the bench image loads this
file to build its parser and has neither docker nor rich.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from harness.errors import UserError
from harness.host import ARCHES, IMAGES_DIR

Handler = Callable[[argparse.Namespace], int]


@dataclass(frozen=True)
class Subcommand:
    name: str
    help: str
    arguments: tuple[tuple[tuple[str, ...], dict[str, Any]], ...]
    handler: Handler


SUBCOMMANDS: dict[str, Subcommand] = {}


def arg(*flags: str, **options: Any) -> tuple[tuple[str, ...], dict[str, Any]]:
    """One argparse argument, as the flags and keyword options of add_argument."""
    return flags, options


def subcommand(name: str, help_text: str, *arguments: tuple[tuple[str, ...], dict[str, Any]]):
    """Register the decorated function as ``host <name>``."""

    def register(handler: Handler) -> Handler:
        SUBCOMMANDS[name] = Subcommand(name, help_text, arguments, handler)
        return handler

    return register


ARCH_CHOICES = (*ARCHES, "all")
ARCH = arg("--arch", choices=ARCH_CHOICES, default="all", help="architecture (default: all)")


def arches_of(args: argparse.Namespace) -> list[str]:
    """The architectures an --arch value names."""
    return list(ARCHES) if args.arch == "all" else [args.arch]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--engine",
        default=None,
        metavar="URL",
        help="Docker engine URL (default: DOCKER_HOST or the local socket)",
    )
    commands = parser.add_subparsers(dest="host_command", required=True, metavar="SUBCOMMAND")
    for command in SUBCOMMANDS.values():
        sub = commands.add_parser(command.name, help=command.help, description=command.help)
        for flags, options in command.arguments:
            sub.add_argument(*flags, **options)
        sub.set_defaults(_host_handler=command.handler)


def run(args: argparse.Namespace) -> int:
    return int(args._host_handler(args) or 0)


def _console():
    from rich.console import Console

    return Console(stderr=True)


def _connect(args: argparse.Namespace):
    from harness.host.engine import connect

    return connect(args.engine)


@subcommand("setup", "install and start what the host needs (root): docker.io, debootstrap, QEMU")
def setup(args: argparse.Namespace) -> int:
    from rich.table import Table

    from harness.host.emulation import binfmt_status, host_arch
    from harness.host.engine import SETUP_SCRIPT

    if os.geteuid() != 0:
        raise UserError(f"setup installs packages and starts dockerd: run it as root (sudo {SETUP_SCRIPT}).")
    if subprocess.run(["sh", str(SETUP_SCRIPT)], check=False).returncode != 0:
        raise UserError(f"{SETUP_SCRIPT} failed (see its output above); fix that step and rerun.")
    client = _connect(args)
    table = Table(title="host set-up")
    table.add_column("check")
    table.add_column("state")
    version = client.version()
    table.add_row("engine", f"Docker {version.get('Version')} (API {version.get('ApiVersion')})")
    table.add_row("host arch", host_arch())
    for arch in ARCHES:
        if arch != host_arch():
            status = binfmt_status(arch)
            table.add_row(
                f"{arch} emulation",
                f"{status.name}: flags {status.flags or '-'}, "
                f"{'usable' if status.usable_in_containers else 'NOT usable'}",
            )
    _console().print(table)
    return 0


@subcommand(
    "lock",
    "resolve requirements/bench.txt into requirements/lock-<arch>.txt (needs PyPI)",
    ARCH,
    arg("--index-url", default="https://pypi.org/simple", help="package index to resolve against"),
)
def lock(args: argparse.Namespace) -> int:
    from harness.host.wheelhouse import write_lock

    console = _console()
    for arch in arches_of(args):
        started = time.monotonic()
        path = write_lock(arch, console, index_url=args.index_url)
        console.print(
            f"[green]✓[/] {path.relative_to(path.parents[1])} in {time.monotonic() - started:.0f} s"
        )
    return 0


@subcommand(
    "base",
    "make the Python 3.11 base images (pull, or debootstrap when no registry answers)",
    ARCH,
    arg("--kind", choices=("auto", "official", "debootstrap"), default="auto"),
    arg("--rebuild", action="store_true", help="make it again even when present"),
)
def base(args: argparse.Namespace) -> int:
    from harness.host.base_image import ensure_base_image

    client, console = _connect(args), _console()
    for arch in arches_of(args):
        ensure_base_image(client, arch, console, kind=args.kind, rebuild=args.rebuild)
    return 0


@subcommand(
    "build",
    "build quantbench:<arch> from the lock, the wheel cache and harness/ (no network in the build)",
    ARCH,
    arg("--kind", choices=("auto", "official", "debootstrap"), default="auto", help="base image kind"),
    arg("--no-cache", action="store_true", help="rebuild every layer"),
)
def build(args: argparse.Namespace) -> int:
    from harness.host.images import build_image, print_build_summary

    client, console = _connect(args), _console()
    outcomes = [
        build_image(client, arch, console, base_kind=args.kind, nocache=args.no_cache)
        for arch in arches_of(args)
    ]
    print_build_summary(client, outcomes, console)
    return 0


@subcommand(
    "save",
    "docker save quantbench:<arch> to images/quantbench-<arch>.tar and record images/manifest.json",
    ARCH,
    arg("--dir", type=Path, default=IMAGES_DIR, help="where the archives go (default: images/)"),
)
def save(args: argparse.Namespace) -> int:
    from harness.host.images import save_images

    save_images(_connect(args), arches_of(args), args.dir, _console())
    return 0


@subcommand(
    "load",
    "docker load images/quantbench-<arch>.tar, checked against images/manifest.json",
    ARCH,
    arg("--dir", type=Path, default=IMAGES_DIR, help="where the archives are (default: images/)"),
)
def load(args: argparse.Namespace) -> int:
    from harness.host.images import load_images

    load_images(_connect(args), arches_of(args), args.dir, _console())
    return 0


from harness.host import cli_run  # noqa: E402,F401  (registers run, all-arch)
