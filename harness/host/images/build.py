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
from concurrent.futures import ThreadPoolExecutor
import os
import shutil
from pathlib import Path
from typing import TYPE_CHECKING

from harness.errors import UserError
from harness.host import CACHE_DIR, REPO_ROOT, docker_platform, image_tag
from harness.host.images.host_venv import can_compile_here
from harness.host.images.priority import BACKGROUND_CPU_SHARES
from harness.host.images.wheelhouse import LockedWheel, ensure_wheels, lock_path, read_lock, sha256_of

if TYPE_CHECKING:
    from rich.console import Console

    import docker
    from harness.host.engine.builder import BuildOutcome
    from harness.host.engine.connect import Engine

DOCKERFILE = REPO_ROOT / "docker" / "Dockerfile"
DEPS_DOCKERFILE = REPO_ROOT / "docker" / "Dockerfile.deps"
# run on the host while the deps context is made (host_venv.py); part of the deps image's key
BUILD_TOOLS = (REPO_ROOT / "docker" / "strip_elf.py", REPO_ROOT / "harness" / "host" / "images" / "host_venv.py")
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
    background: bool = False,
) -> Path:
    """Fill destination (emptied first) with exactly what the deps build reads: the Dockerfile and
    the venv's site-packages made on the host from the locked wheels only (``host_venv``), so a
    stale wheel in the cache cannot slip into the image."""
    from harness.host.images.host_venv import build_site_packages

    del wheels  # the lock names them; pip takes exactly those, hash-checked, from wheel_dir
    _fresh(destination)
    shutil.copy2(dockerfile, destination / "Dockerfile")
    strip_tool = next(tool for tool in build_tools if tool.name == "strip_elf.py")
    build_site_packages(arch, lock_file or lock_path(arch), wheel_dir, destination, strip_tool, background)
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
    background: bool = False,
) -> BuildOutcome:
    """Build quantbench:<arch> (or tag): the deps image when its inputs changed, then harness/;
    ``background``: at the lowest CPU priority, beside work on the way to the first answer."""
    from harness.host.engine.builder import image_architecture, image_id, stream_build
    from harness.host.engine.emulation import ensure_emulation

    ensure_emulation(arch, engine)  # RUN steps of a foreign arch need QEMU
    client = engine.client
    tag = tag or image_tag(arch)
    previous = image_id(client, tag)
    deps = ensure_deps_image(engine, arch, console, base_kind=base_kind, rebuild=nocache, background=background)
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
        cpu_shares=BACKGROUND_CPU_SHARES if background else None,
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
    engine: Engine,
    arch: str,
    console: Console,
    *,
    base_kind: str = "auto",
    rebuild: bool = False,
    background: bool = False,
) -> str:
    """The tag of arch's deps image, built when missing or made from other inputs.

    When the base image must be made first (debootstrap: a minute natively, minutes under
    QEMU), the packages are unpacked on the host meanwhile, in a thread: their image is
    certainly out of date then, since its base is new.
    """
    import docker
    from harness.host.engine.builder import image_architecture, image_id, stream_build
    from harness.host.images.base_image import base_tag, ensure_base_image

    client = engine.client
    tag = deps_tag(arch)
    folder = CONTEXT_DIR / f"deps-{arch}"
    context = None
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="deps-context") as pool:
        early = None
        if image_architecture(client, base_tag(arch)) != arch:
            early = pool.submit(_deps_context, arch, console, folder, background)
        base = ensure_base_image(engine, arch, console, kind=base_kind, background=background)
        if early is not None:
            context = early.result()
    modules = {**import_check(arch, engine), "COMPILE": "0" if can_compile_here() else "1"}
    key = deps_key(arch, str(image_id(client, base)), modules["IMPORT_CHECK"] + modules["COMPILE"])
    try:
        built_from = client.images.get(tag).labels.get(DEPS_KEY_LABEL)
    except docker.errors.ImageNotFound:
        built_from = None
    if built_from == key and not rebuild:
        shutil.rmtree(folder, ignore_errors=True)
        return tag
    context = context or _deps_context(arch, console, folder, background)
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
                "org.quantbench.lock-sha256": sha256_of(lock_path(arch)),
                DEPS_KEY_LABEL: key,
            },
            nocache=rebuild,
            log_path=CONTEXT_DIR / f"build-deps-{arch}.log",
            cpu_shares=BACKGROUND_CPU_SHARES if background else None,
        )
    finally:
        shutil.rmtree(context, ignore_errors=True)
        # The wheel stage is the build's cache only: the deps image's labels are the cache now.
        remove_stale_images(client, arch, [], stages=True)
    return tag


def _deps_context(arch: str, console: Console, folder: Path, background: bool) -> Path:
    wheel_dir = ensure_wheels(arch, console)
    return assemble_deps_context(arch, read_lock(arch), wheel_dir, folder, background=background)


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
