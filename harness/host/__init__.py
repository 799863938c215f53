"""Host half: builds images and runs containers; never imports TensorFlow or LiteRT.

Three rooms, each a subpackage:
- ``engine``: Docker primitives (connect, build streams, containers, volumes, emulation);
- ``images``: image supply (base images, the wheelhouse, builds, saved archives);
- ``run``: the run pipeline (plan, profiles, steps, orchestrator, verify, collect).

Only the standard library here and in the ``cli*`` modules: the bench image loads the
command tree and has neither docker nor rich.
"""

from __future__ import annotations

from pathlib import Path

from harness.arches import ARCHES, arch_of_machine  # noqa: F401  (the host's names for them)

REPO_ROOT = Path(__file__).resolve().parents[2]
CACHE_DIR = REPO_ROOT / ".cache"
IMAGES_DIR = REPO_ROOT / "images"
REQUIREMENTS_DIR = REPO_ROOT / "requirements"

IMAGE_REPOSITORY = "quantbench"
LABEL = "quantbench"  # every container, volume and image quantbench makes carries it
BENCH_UID = 10001  # the image's non-root user (docker/Dockerfile's useradd)
DEFAULT_TIMEOUT_S = 4 * 3600  # per container


def image_tag(arch: str) -> str:
    """The tag of the bench image for one architecture, e.g. ``quantbench:arm64``."""
    return f"{IMAGE_REPOSITORY}:{arch}"


def docker_platform(arch: str) -> str:
    """The Docker platform string, e.g. ``linux/arm64``."""
    return f"linux/{arch}"
