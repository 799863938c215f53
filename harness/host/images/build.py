"""The bench images ``quantbench:<arch>``, in two builds that leave no untagged image behind.

1. ``quantbench-deps:<arch>`` (``docker/Dockerfile.deps``): the base image, the bench
   user and the virtualenv installed from the locked wheels, with no network. Its
   first stage holds the wheels; that stage is deleted once the build is done, so
   the wheels are not kept twice. Made again only when its inputs change (the
   lock, the base image, the Dockerfile, the build tools), which its labels record.
2. ``quantbench:<arch>`` (``docker/Dockerfile``): the deps image plus ``harness/``,
   built on every run in seconds, so an image always runs this checkout's code. It
   shares every layer of the deps image: keeping both costs no disk.
"""

from __future__ import annotations

import hashlib
import os
import shutil
from pathlib import Path
from typing import TYPE_CHECKING

from harness.errors import UserError
from harness.host import CACHE_DIR, REPO_ROOT, docker_platform, image_tag
from harness.host.images.wheelhouse import LockedWheel, ensure_wheels, lock_path, read_lock, sha256_of

if TYPE_CHECKING:
    from rich.console import Console

    import docker
    from harness.host.engine.builder import BuildOutcome
    from harness.host.engine.connect import Engine

DOCKERFILE = REPO_ROOT / "docker" / "Dockerfile"
DEPS_DOCKERFILE = REPO_ROOT / "docker" / "Dockerfile.deps"
BUILD_TOOLS = (REPO_ROOT / "docker" / "strip_elf.py",)  # run inside the build, copied into the context
HARNESS_DIR = REPO_ROOT / "harness"
CONTEXT_DIR = CACHE_DIR / "context"
DEPS_REPOSITORY = "quantbench-deps"
DEPS_KEY_LABEL = "org.quantbench.deps-key"
STAGE_LABEL = "org.quantbench.stage"
_IGNORED = shutil.ignore_patterns("__pycache__", "*.pyc", "*.pyo", ".*")

# Imported at the end of the deps build; onnxruntime crashes on the build host's x86
# /proc/cpuinfo when the RUN step is emulated (docker build cannot mount an ARM one).
IMPORT_CHECK = ("tensorflow", "ai_edge_litert.interpreter", "onnxruntime", "openvino")
CRASHES_UNDER_BUILD_EMULATION = ("onnxruntime",)


def deps_tag(arch: str) -> str:
    """The tag of the dependency image of arch, e.g. ``quantbench-deps:arm64``."""
    return f"{DEPS_REPOSITORY}:{arch}"


def assemble_deps_context(
    arch: str,
    wheels: list[LockedWheel],
    wheel_dir: Path,
    destination: Path,
    *,
    lock_file: Path | None = None,
    dockerfile: Path = DEPS_DOCKERFILE,
    build_tools: tuple[Path, ...] = BUILD_TOOLS,
) -> Path:
    """Fill destination (emptied first) with exactly what the deps build reads.

    Wheels are hard-linked from the cache (copied across file systems); only the
    locked ones go in, so a stale wheel in the cache cannot slip into the image.
    """
    _fresh(destination)
    (destination / "wheels").mkdir()
    shutil.copy2(dockerfile, destination / "Dockerfile")
    shutil.copy2(lock_file or lock_path(arch), destination / "lock.txt")
    for tool in build_tools:
        shutil.copy2(tool, destination / tool.name)
    for wheel in wheels:
        source = wheel_dir / wheel.filename
        try:
            os.link(source, destination / "wheels" / wheel.filename)
        except OSError:
            shutil.copy2(source, destination / "wheels" / wheel.filename)
    return destination


def assemble_harness_context(
    destination: Path, *, harness_dir: Path = HARNESS_DIR, dockerfile: Path = DOCKERFILE
) -> Path:
    """Fill destination (emptied first) with the final build's Dockerfile and harness/."""
    _fresh(destination)
    shutil.copy2(dockerfile, destination / "Dockerfile")
    shutil.copytree(harness_dir, destination / "harness", ignore=_IGNORED)
    return destination


def _fresh(directory: Path) -> None:
    if directory.exists():
        shutil.rmtree(directory)
    directory.mkdir(parents=True)


def deps_key(arch: str, base_id: str, import_modules: str, lock_file: Path | None = None) -> str:
    """What the deps image of arch is made from, as one hash: when it changes, build again."""
    digest = hashlib.sha256()
    for part in (arch, base_id, import_modules):
        digest.update(part.encode() + b"\0")
    for path in (lock_file or lock_path(arch), DEPS_DOCKERFILE, *BUILD_TOOLS):
        digest.update(sha256_of(path).encode() + b"\0")
    return digest.hexdigest()[:16]


def build_image(
    engine: Engine,
    arch: str,
    console: Console,
    *,
    base_kind: str = "auto",
    nocache: bool = False,
    tag: str | None = None,
    harness_dir: Path = HARNESS_DIR,
) -> BuildOutcome:
    """Build quantbench:<arch> (or tag): the deps image when its inputs changed, then harness/."""
    from harness.host.engine.builder import image_architecture, image_id, stream_build
    from harness.host.engine.emulation import ensure_emulation

    ensure_emulation(arch, engine)  # RUN steps of a foreign arch need QEMU
    client = engine.client
    tag = tag or image_tag(arch)
    previous = image_id(client, tag)
    deps = ensure_deps_image(engine, arch, console, base_kind=base_kind, rebuild=nocache)
    slug = tag.replace(":", "-").replace("/", "-")  # one context per tag: builds may overlap
    context = assemble_harness_context(CONTEXT_DIR / slug, harness_dir=harness_dir)
    outcome = stream_build(
        client,
        context,
        tag,
        docker_platform(arch),
        console,
        buildargs={"DEPS_IMAGE": deps},
        labels={"org.opencontainers.image.title": "quantbench", "org.quantbench.arch": arch},
        nocache=nocache,
        log_path=CONTEXT_DIR / f"build-{slug}.log",
    )
    shutil.rmtree(context)
    built_arch = image_architecture(client, tag)
    if built_arch != arch:
        raise UserError(f"{tag} was built for {built_arch}, not {arch}; check `docker info` and rebuild.")
    removed = remove_stale_images(client, arch, [previous] if previous != outcome.image_id else [])
    size = client.images.get(tag).attrs.get("Size", 0) / 1e9
    console.print(
        f"[green]✓[/] {tag} ({arch}, {size:.2f} GB) built in {outcome.seconds:.0f} s "
        f"({outcome.steps_cached}/{outcome.steps_total} steps from the cache"
        + (f"; removed {removed} stale image(s))" if removed else ")")
    )
    return outcome


def ensure_deps_image(
    engine: Engine, arch: str, console: Console, *, base_kind: str = "auto", rebuild: bool = False
) -> str:
    """The tag of arch's deps image, built when missing or made from other inputs."""
    import docker
    from harness.host.engine.builder import image_id, stream_build
    from harness.host.images.base_image import ensure_base_image

    client = engine.client
    tag = deps_tag(arch)
    base = ensure_base_image(engine, arch, console, kind=base_kind)
    modules = import_check(arch, engine)
    key = deps_key(arch, str(image_id(client, base)), modules["IMPORT_CHECK"])
    try:
        built_from = client.images.get(tag).labels.get(DEPS_KEY_LABEL)
    except docker.errors.ImageNotFound:
        built_from = None
    if built_from == key and not rebuild:
        return tag
    wheels = read_lock(arch)
    wheel_dir = ensure_wheels(arch, console)
    context = assemble_deps_context(arch, wheels, wheel_dir, CONTEXT_DIR / f"deps-{arch}")
    try:
        stream_build(
            client,
            context,
            tag,
            docker_platform(arch),
            console,
            buildargs={"BASE_IMAGE": base, **modules},
            labels={
                "org.quantbench.arch": arch,
                "org.quantbench.base": base,
                "org.quantbench.lock-sha256": sha256_of(context / "lock.txt"),
                DEPS_KEY_LABEL: key,
            },
            nocache=rebuild,
            log_path=CONTEXT_DIR / f"build-deps-{arch}.log",
        )
    finally:
        shutil.rmtree(context, ignore_errors=True)
        # The wheel stage is the build's cache only: the deps image's labels are the cache now.
        remove_stale_images(client, arch, [], stages=True)
    return tag


def import_check(arch: str, engine: Engine) -> dict[str, str]:
    """The Dockerfile's IMPORT_CHECK build argument for building ``arch`` on engine."""
    emulated = engine.emulates(arch)
    modules = [m for m in IMPORT_CHECK if not emulated or m not in CRASHES_UNDER_BUILD_EMULATION]
    return {"IMPORT_CHECK": " ".join(modules)}


def remove_stale_images(
    client: docker.DockerClient, arch: str, previous: list[str | None], *, stages: bool = False
) -> int:
    """Delete untagged quantbench images of arch: the ones the tags named before a build
    (``previous``) and every other untagged one of arch; with stages, the wheel stages too.

    Only quantbench's own images are touched; a tagged one or one still in use is left alone.
    """
    import docker

    stale = [image for image in previous if image]
    filters = [f"org.quantbench.arch={arch}"] + ([f"{STAGE_LABEL}=venv"] if stages else [])
    for label in filters:
        for image in client.images.list(filters={"dangling": True, "label": label}):
            if image.attrs.get("Architecture") == arch:
                stale.append(image.id)
    removed = 0
    for stale_id in dict.fromkeys(stale):
        try:
            if client.images.get(stale_id).tags:
                continue  # someone tagged it: keep
            client.images.remove(stale_id)
            removed += 1
        except docker.errors.APIError:
            pass  # in use by a container, or already gone
    return removed
