"""Host half: builds images and runs containers; never imports TensorFlow or LiteRT.

Only the standard library here: the bench image imports ``harness.host.cli`` to
build its parser, and it has no docker or rich installed.
"""

from __future__ import annotations

from pathlib import Path

# Docker architecture name -> the machine name used in wheel tags and by uname -m
ARCHES: dict[str, str] = {"amd64": "x86_64", "arm64": "aarch64"}

REPO_ROOT = Path(__file__).resolve().parents[2]
CACHE_DIR = REPO_ROOT / ".cache"
IMAGES_DIR = REPO_ROOT / "images"
REQUIREMENTS_DIR = REPO_ROOT / "requirements"

IMAGE_REPOSITORY = "quantbench"


def image_tag(arch: str) -> str:
    """The tag of the bench image for one architecture, e.g. ``quantbench:arm64``."""
    return f"{IMAGE_REPOSITORY}:{arch}"


def docker_platform(arch: str) -> str:
    """The Docker platform string, e.g. ``linux/arm64``."""
    return f"linux/{arch}"


def arch_of_machine(machine: str) -> str | None:
    """Docker's name (amd64, arm64) for a machine name such as uname's x86_64; None if unknown."""
    machine = machine.lower()
    return next((arch for arch, uname in ARCHES.items() if machine in (arch, uname)), None)
