"""``python -m harness host`` sub-commands that make the host and its images ready: setup,
lock, base, build, save, load.

Only the standard library at module level (see ``harness.host.subcommand``).
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from harness.host import ARCHES, IMAGES_DIR
from harness.host.images.base_image import KINDS as BASE_KINDS
from harness.host.subcommand import ARCH, Subcommand, arches_of, arg


def _console():
    from rich.console import Console

    return Console(stderr=True)


def _connect(args: argparse.Namespace):
    from harness.host.engine.connect import connect

    return connect(args.engine)


def setup(args: argparse.Namespace) -> int:
    """scripts/setup-host.sh (it reports each step), then the engine as quantbench sees it."""
    from harness.host.engine.connect import run_setup_script

    run_setup_script()
    engine = _connect(args)
    foreign = ", ".join(arch for arch in ARCHES if engine.emulates(arch))
    version = engine.client.version().get("Version")
    _console().print(f"[green]✓[/] Docker {version} on a {engine.arch} machine; {foreign} emulated")
    return 0


def lock(args: argparse.Namespace) -> int:
    from harness.host.images.wheelhouse import write_lock

    console = _console()
    for arch in arches_of(args):
        started = time.monotonic()
        path = write_lock(arch, console, index_url=args.index_url)
        console.print(
            f"[green]✓[/] {path.relative_to(path.parents[1])} in {time.monotonic() - started:.0f} s"
        )
    return 0


def base(args: argparse.Namespace) -> int:
    from harness.host.images.base_image import ensure_base_image

    engine, console = _connect(args), _console()
    for arch in arches_of(args):
        ensure_base_image(engine, arch, console, kind=args.kind, rebuild=args.rebuild)
    return 0


def build(args: argparse.Namespace) -> int:
    from harness.host.images.build import build_image

    engine, console = _connect(args), _console()
    for arch in arches_of(args):
        build_image(engine, arch, console, base_kind=args.kind, nocache=args.no_cache)
    return 0


def save(args: argparse.Namespace) -> int:
    from harness.host.images.archive import save_images

    save_images(_connect(args).client, arches_of(args), args.dir, _console())
    return 0


def load(args: argparse.Namespace) -> int:
    from harness.host.images.archive import load_images

    load_images(_connect(args).client, arches_of(args), args.dir, _console())
    return 0


SUBCOMMANDS = (
    Subcommand(
        "setup", "install and start what the host needs (root): docker.io, debootstrap, QEMU", (), setup
    ),
    Subcommand(
        "lock",
        "resolve requirements/bench.txt into requirements/lock-<arch>.txt (needs PyPI)",
        (
            ARCH,
            arg("--index-url", default="https://pypi.org/simple", help="package index to resolve against"),
        ),
        lock,
    ),
    Subcommand(
        "base",
        "make the Python 3.11 base images (pull, or debootstrap when no registry answers)",
        (
            ARCH,
            arg("--kind", choices=BASE_KINDS, default="auto", help="base image kind"),
            arg("--rebuild", action="store_true", help="make it again even when present"),
        ),
        base,
    ),
    Subcommand(
        "build",
        "build quantbench:<arch> from the lock, the wheel cache and harness/ (no network in the build)",
        (
            ARCH,
            arg("--kind", choices=BASE_KINDS, default="auto", help="base image kind"),
            arg("--no-cache", action="store_true", help="rebuild every layer"),
        ),
        build,
    ),
    Subcommand(
        "save",
        "docker save quantbench:<arch> to images/quantbench-<arch>.tar and record images/manifest.json",
        (ARCH, arg("--dir", type=Path, default=IMAGES_DIR, help="where the archives go (default: images/)")),
        save,
    ),
    Subcommand(
        "load",
        "docker load images/quantbench-<arch>.tar, checked against images/manifest.json",
        (ARCH, arg("--dir", type=Path, default=IMAGES_DIR, help="where the archives are (default: images/)")),
        load,
    ),
)
