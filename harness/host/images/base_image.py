"""Base images with Python 3.11, one per architecture, tagged ``quantbench-base:bookworm-<arch>``.

With a registry the base is the official ``python:3.11-slim-bookworm``. Without
one, a Debian bookworm rootfs is bootstrapped per architecture (the arm64 second
stage runs under QEMU) and built ``FROM scratch`` with the SDK's platform, which
labels the architecture correctly (``docker import --platform`` on engine 20.10
keeps amd64).
"""

from __future__ import annotations

import os
import platform
import shutil
import subprocess
import time
from collections import deque
from pathlib import Path
from typing import TYPE_CHECKING

from harness.errors import UserError
from harness.host import CACHE_DIR, arch_of_machine, docker_platform
from harness.host.engine.builder import image_architecture, stream_build
from harness.host.engine.emulation import ensure_binfmt
from harness.host.images import priority

if TYPE_CHECKING:
    from rich.console import Console

    import docker
    from harness.host.engine.connect import Engine

OFFICIAL_REPOSITORY = "python"
OFFICIAL_TAG = "3.11-slim-bookworm"
BASE_REPOSITORY = "quantbench-base"
SUITE = "bookworm"
MIRROR = "http://deb.debian.org/debian"
# python3 is 3.11 in bookworm; python3-venv brings ensurepip's wheels for `python3 -m venv`.
PACKAGES = ("python3", "python3-venv", "ca-certificates")
BASE_CACHE = CACHE_DIR / "base"
# auto: pull the official image when a registry answers, else bootstrap Debian
KINDS = ("auto", "official", "debootstrap")

ROOTFS_DOCKERFILE = """\
FROM scratch
ADD rootfs.tar /
ENV LANG=C.UTF-8 PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
CMD ["/bin/bash"]
"""


def base_tag(arch: str) -> str:
    """The local tag of the base image for arch."""
    return f"{BASE_REPOSITORY}:{SUITE}-{arch}"


def debootstrap_command(arch: str, target: Path, mirror: str = MIRROR) -> list[str]:
    """The debootstrap call for a minimal bookworm rootfs with Python 3.11."""
    return [
        "debootstrap",
        "--variant=minbase",
        f"--arch={arch}",
        f"--include={','.join(PACKAGES)}",
        SUITE,
        str(target),
        mirror,
    ]


def tar_command(rootfs: Path, tarball: Path) -> list[str]:
    """Tar a rootfs with numeric owners; /dev, /proc, /sys contents are the engine's job."""
    return [
        "tar",
        "--numeric-owner",
        "--xattrs",
        "-C",
        str(rootfs),
        "--exclude=./dev/*",
        "--exclude=./proc/*",
        "--exclude=./sys/*",
        "-cf",
        str(tarball),
        ".",
    ]


def ensure_base_image(
    engine: Engine,
    arch: str,
    console: Console,
    *,
    kind: str = "auto",
    rebuild: bool = False,
    background: bool = False,
) -> str:
    """Return the tag of arch's base image, making it when missing (see the module doc);
    ``background``: debootstrap at the lowest CPU priority."""
    client = engine.client
    tag = base_tag(arch)
    present = image_architecture(client, tag)
    if present == arch and not rebuild:
        console.print(f"[green]✓[/] base {tag} present (reused)")
        return tag
    if present and present != arch:
        console.print(f"[yellow]![/] {tag} says architecture {present}, not {arch}: rebuilding it")
    if kind in ("auto", "official") and _pull_official(client, arch, tag, console):
        return tag
    if kind == "official":
        raise UserError(
            f"cannot pull {OFFICIAL_REPOSITORY}:{OFFICIAL_TAG} for {arch} (no registry reachable); "
            "use --kind debootstrap (or auto) to bootstrap Debian instead."
        )
    tarball = BASE_CACHE / f"{SUITE}-{arch}-rootfs.tar"
    if rebuild or not tarball.exists():
        bootstrap_rootfs(arch, tarball, console, background=background)
    else:
        console.print(f"[green]✓[/] rootfs {tarball.name} present (reused)")
    build_from_rootfs(client, arch, tarball, console)
    return tag


def _pull_official(client: docker.DockerClient, arch: str, tag: str, console: Console) -> bool:
    import docker

    name = f"{OFFICIAL_REPOSITORY}:{OFFICIAL_TAG}"
    with console.status(f"pulling {name} for {arch}"):
        try:
            image = client.images.pull(OFFICIAL_REPOSITORY, tag=OFFICIAL_TAG, platform=docker_platform(arch))
        except docker.errors.APIError as error:
            reason = str(error.explanation or error).splitlines()[0][:120]
            console.print(f"[yellow]![/] no registry: cannot pull {name} ({reason}); bootstrapping Debian")
            return False
    if image.attrs.get("Architecture") != arch:
        console.print(f"[yellow]![/] {name} pulled as {image.attrs.get('Architecture')}; bootstrapping")
        return False
    repository, _, suffix = tag.partition(":")
    image.tag(repository, suffix)
    console.print(f"[green]✓[/] base {tag} = {name} ({arch})")
    return True


def bootstrap_rootfs(arch: str, tarball: Path, console: Console, background: bool = False) -> float:
    """debootstrap a bookworm rootfs for arch and tar it to tarball; return the seconds spent."""
    if os.geteuid() != 0:
        raise UserError("debootstrap needs root: rerun as root (sudo), or make a registry reachable.")
    if not shutil.which("debootstrap"):
        raise UserError("debootstrap is not installed: run `apt-get install -y debootstrap` (as root).")
    if arch_of_machine(platform.machine()) != arch:
        ensure_binfmt(arch)  # debootstrap's second stage runs arch binaries on this machine
    rootfs = BASE_CACHE / f"{SUITE}-{arch}-rootfs"
    log_path = BASE_CACHE / f"debootstrap-{arch}.log"
    if rootfs.exists():
        shutil.rmtree(rootfs)
    BASE_CACHE.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    tail: deque[str] = deque(maxlen=20)
    with (
        log_path.open("w") as log_file,
        console.status(f"debootstrap {SUITE} {arch}") as status,
    ):
        lowest = priority.lowest() if background else None
        if lowest is not None and lowest.why_not:
            console.print(f"[yellow]![/] {lowest.why_not}")
        process = subprocess.Popen(
            lowest.command(debootstrap_command(arch, rootfs)) if lowest else debootstrap_command(arch, rootfs),
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        assert process.stdout is not None
        for line in process.stdout:
            log_file.write(line)
            tail.append(line.rstrip())
            if line.startswith(("I:", "W:", "E:")):
                elapsed = time.monotonic() - started
                status.update(f"debootstrap {SUITE} {arch} [{elapsed:4.0f} s] {line.strip()[:80]}")
        returncode = process.wait()
    if returncode != 0:
        console.print("\n".join(tail))
        raise UserError(f"debootstrap for {arch} failed (exit {returncode}); see {log_path}")
    # Package caches are dead weight in an image.
    for leftover in ("var/cache/apt/archives", "var/lib/apt/lists"):
        for path in (rootfs / leftover).glob("*"):
            if path.is_file():
                path.unlink()
    temp = tarball.with_suffix(".tar.tmp")
    with console.status(f"tar {rootfs.name}"):
        subprocess.run(tar_command(rootfs, temp), check=True)
    temp.replace(tarball)
    shutil.rmtree(rootfs)
    seconds = time.monotonic() - started
    console.print(
        f"[green]✓[/] debootstrap {arch}: {seconds:.0f} s, {tarball.stat().st_size / 1e6:.0f} MB tar"
    )
    return seconds


def build_from_rootfs(client: docker.DockerClient, arch: str, tarball: Path, console: Console) -> None:
    """Build base_tag(arch) FROM scratch + the rootfs tar, labelled for arch."""
    context = BASE_CACHE / f"context-{arch}"
    if context.exists():
        shutil.rmtree(context)
    context.mkdir(parents=True)
    (context / "Dockerfile").write_text(ROOTFS_DOCKERFILE)
    os.link(tarball, context / "rootfs.tar")
    labels = {
        "org.quantbench.base-kind": "debootstrap",
        "org.quantbench.suite": SUITE,
        "org.quantbench.packages": ",".join(PACKAGES),
    }
    outcome = stream_build(client, context, base_tag(arch), docker_platform(arch), console, labels=labels)
    shutil.rmtree(context)
    built_arch = image_architecture(client, base_tag(arch))
    if built_arch != arch:
        raise UserError(
            f"{base_tag(arch)} was built as {built_arch}, not {arch}: this engine ignores the build "
            "platform; upgrade Docker Engine (20.10 or later)."
        )
    console.print(f"[green]✓[/] base {base_tag(arch)} built in {outcome.seconds:.0f} s")
