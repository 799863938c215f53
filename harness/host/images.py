"""The bench images ``quantbench:<arch>``: build context, build, save and load.

The context holds only what the build needs (Dockerfile, lock, the locked wheels
as hard links into the cache, the harness package), so the build runs with no
network. ``save`` writes ``images/quantbench-<arch>.tar`` and a manifest for
hosts with no registry; ``load`` checks an archive against it.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import time
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from harness.errors import UserError
from harness.host import CACHE_DIR, REPO_ROOT, docker_platform, image_tag
from harness.host.wheelhouse import LockedWheel, ensure_wheels, lock_path, read_lock, sha256_of

if TYPE_CHECKING:
    from rich.console import Console

    import docker
    from harness.host.engine import BuildOutcome

DOCKERFILE = REPO_ROOT / "docker" / "Dockerfile"
BUILD_TOOLS = (REPO_ROOT / "docker" / "strip_elf.py",)  # run inside the build, copied into the context
HARNESS_DIR = REPO_ROOT / "harness"
CONTEXT_DIR = CACHE_DIR / "context"
MANIFEST_NAME = "manifest.json"
MANIFEST_KIND = "quantbench.images"
MANIFEST_VERSION = 1
_IGNORED = shutil.ignore_patterns("__pycache__", "*.pyc", "*.pyo", ".*")


def assemble_context(
    arch: str,
    wheels: list[LockedWheel],
    wheel_dir: Path,
    destination: Path,
    *,
    lock_file: Path | None = None,
    dockerfile: Path = DOCKERFILE,
    harness_dir: Path = HARNESS_DIR,
    build_tools: tuple[Path, ...] = BUILD_TOOLS,
) -> Path:
    """Fill destination (emptied first) with exactly what the image build reads.

    Wheels are hard-linked from the cache (copied across file systems); only the
    locked ones go in, so a stale wheel in the cache cannot slip into the image.
    """
    if destination.exists():
        shutil.rmtree(destination)
    (destination / "wheels").mkdir(parents=True)
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
    shutil.copytree(harness_dir, destination / "harness", ignore=_IGNORED)
    return destination


def build_image(
    client: docker.DockerClient,
    arch: str,
    console: Console,
    *,
    base_kind: str = "auto",
    nocache: bool = False,
    tag: str | None = None,
    harness_dir: Path = HARNESS_DIR,
) -> BuildOutcome:
    """Build quantbench:<arch> (or tag): base image, wheels, context, then the Dockerfile."""
    from harness.host.base_image import ensure_base_image
    from harness.host.emulation import ensure_emulation
    from harness.host.engine import image_architecture, stream_build

    ensure_emulation(arch)  # RUN steps of a foreign arch need QEMU
    tag = tag or image_tag(arch)
    previous = image_id(client, tag)
    base = ensure_base_image(client, arch, console, kind=base_kind)
    wheels = read_lock(arch)
    wheel_dir = ensure_wheels(arch, console)
    slug = tag.replace(":", "-").replace("/", "-")  # one context per tag: builds may overlap
    context = assemble_context(arch, wheels, wheel_dir, CONTEXT_DIR / slug, harness_dir=harness_dir)
    outcome = stream_build(
        client,
        context,
        tag,
        docker_platform(arch),
        console,
        buildargs={"BASE_IMAGE": base, **import_check(arch)},
        labels={
            "org.opencontainers.image.title": "quantbench",
            "org.quantbench.arch": arch,
            "org.quantbench.base": base,
            "org.quantbench.lock-sha256": sha256_of(context / "lock.txt"),
        },
        nocache=nocache,
        log_path=CONTEXT_DIR / f"build-{slug}.log",
    )
    shutil.rmtree(context)
    built_arch = image_architecture(client, tag)
    if built_arch != arch:
        raise UserError(f"{tag} was built for {built_arch}, not {arch}; check `docker info` and rebuild.")
    removed = remove_stale_images(client, arch, previous, outcome)
    console.print(
        f"[green]✓[/] {tag} built in {outcome.seconds:.0f} s "
        f"({outcome.steps_cached}/{outcome.steps_total} steps from the cache"
        + (f"; removed {removed} stale image(s))" if removed else ")")
    )
    return outcome


# Imported at the end of the image build; onnxruntime crashes on the build host's x86
# /proc/cpuinfo when the RUN step is emulated (docker build cannot mount an ARM one).
IMPORT_CHECK = ("tensorflow", "ai_edge_litert.interpreter", "onnxruntime", "openvino")
CRASHES_UNDER_BUILD_EMULATION = ("onnxruntime",)


def import_check(arch: str) -> dict[str, str]:
    """The Dockerfile's IMPORT_CHECK build argument for building ``arch`` on this machine."""
    from harness.host.emulation import is_native

    modules = [m for m in IMPORT_CHECK if is_native(arch) or m not in CRASHES_UNDER_BUILD_EMULATION]
    return {"IMPORT_CHECK": " ".join(modules)}


def image_id(client: docker.DockerClient, tag: str) -> str | None:
    """The id of tag on that engine, or None when it has no such image."""
    import docker

    try:
        return client.images.get(tag).id
    except docker.errors.ImageNotFound:
        return None


def remove_stale_images(
    client: docker.DockerClient, arch: str, previous: str | None, outcome: BuildOutcome
) -> int:
    """Delete what this build made obsolete: untagged quantbench images of arch (the ones
    the tag named before) and old venv stages of arch (the build-cache copies of an older lock).

    Only quantbench's own images are touched; one still in use is left alone.
    """
    import docker

    stale = []
    if previous and previous != outcome.image_id:
        stale.append(previous)
    # Untagged finals of arch (one a container still used when it was replaced) and venv stages.
    for label in (f"org.quantbench.arch={arch}", "org.quantbench.stage=venv"):
        for image in client.images.list(filters={"dangling": True, "label": label}):
            short = image.id.removeprefix("sha256:")[:12]
            if image.attrs.get("Architecture") == arch and short not in outcome.layer_ids:
                stale.append(image.id)
    removed = 0
    for stale_id in stale:
        try:
            if client.images.get(stale_id).tags:
                continue  # someone tagged it: keep
            client.images.remove(stale_id)
            removed += 1
        except docker.errors.APIError:
            pass  # in use by a container, or already gone
    return removed


def print_build_summary(client: docker.DockerClient, outcomes: list[BuildOutcome], console: Console) -> None:
    """A table of what was built: tag, architecture, size, time, cached steps, slowest step."""
    from rich.table import Table

    table = Table(title="images")
    for column in ("tag", "arch", "size", "build", "cached", "slowest step"):
        table.add_column(column, justify="left" if column in ("tag", "arch") else "right", no_wrap=True)
    for outcome in outcomes:
        attrs = client.images.get(outcome.tag).attrs
        label, seconds = max(outcome.step_seconds.items(), key=lambda item: item[1], default=("-", 0.0))
        table.add_row(
            outcome.tag,
            attrs.get("Architecture", "?"),
            f"{attrs.get('Size', 0) / 1e9:.2f} GB",
            f"{outcome.seconds:.0f} s",
            f"{outcome.steps_cached}/{outcome.steps_total}",
            f"{seconds:.0f} s: " + (f"step {label.split()[0]}" if label[:1].isdigit() else "context"),
        )
    console.print(table)


@dataclass
class ManifestEntry:
    """One saved image: what it is and the archive that holds it."""

    tag: str
    architecture: str
    image_id: str
    size_bytes: int  # the image, as the engine reports it
    created: str  # when the image was built (engine time)
    archive: str  # file name next to the manifest
    archive_bytes: int
    archive_sha256: str
    repo_digests: list[str]  # empty with no registry
    saved_at: str


def read_manifest(directory: Path) -> dict[str, ManifestEntry]:
    """The manifest's entries by architecture ({} when there is no manifest yet)."""
    path = directory / MANIFEST_NAME
    if not path.exists():
        return {}
    try:
        raw = json.loads(path.read_text())
        if raw.get("kind") != MANIFEST_KIND or raw.get("version") != MANIFEST_VERSION:
            raise ValueError(f"kind/version {raw.get('kind')}/{raw.get('version')}")
        return {arch: ManifestEntry(**entry) for arch, entry in raw["images"].items()}
    except (ValueError, KeyError, TypeError) as error:
        raise UserError(
            f"{path} is not a quantbench image manifest ({error}); save the images again."
        ) from error


def write_manifest(directory: Path, entries: dict[str, ManifestEntry]) -> Path:
    """Write the manifest atomically."""
    path = directory / MANIFEST_NAME
    payload: dict[str, Any] = {
        "kind": MANIFEST_KIND,
        "version": MANIFEST_VERSION,
        "images": {arch: asdict(entry) for arch, entry in sorted(entries.items())},
    }
    temp = path.with_suffix(".json.tmp")
    temp.write_text(json.dumps(payload, indent=1, sort_keys=True) + "\n")
    temp.replace(path)
    return path


def archive_name(arch: str) -> str:
    return f"quantbench-{arch}.tar"


def save_image(
    client: docker.DockerClient, tag: str, arch: str, archive: Path, console: Console
) -> ManifestEntry:
    """docker save tag into archive (streamed, hashed on the way); return its manifest entry."""
    from rich.progress import BarColumn, DownloadColumn, Progress, TransferSpeedColumn

    import docker

    try:
        image = client.images.get(tag)
    except docker.errors.ImageNotFound as error:
        raise UserError(
            f"there is no image {tag}: run `python -m harness host build --arch {arch}`."
        ) from error
    if image.attrs.get("Architecture") != arch:
        raise UserError(f"{tag} is {image.attrs.get('Architecture')}, not {arch}; rebuild it.")
    archive.parent.mkdir(parents=True, exist_ok=True)
    temp = archive.with_suffix(".tar.tmp")
    digest = hashlib.sha256()
    size = image.attrs.get("Size", 0)
    progress = Progress(
        "[bold]{task.description}", BarColumn(), DownloadColumn(), TransferSpeedColumn(), console=console
    )
    with progress, temp.open("wb") as handle:
        task = progress.add_task(f"save {tag}", total=size or None)
        for chunk in image.save(chunk_size=1 << 20, named=tag):  # keep this tag in the archive
            handle.write(chunk)
            digest.update(chunk)
            progress.advance(task, len(chunk))
    temp.replace(archive)
    return ManifestEntry(
        tag=tag,
        architecture=arch,
        image_id=image.id,
        size_bytes=size,
        created=image.attrs.get("Created", ""),
        archive=archive.name,
        archive_bytes=archive.stat().st_size,
        archive_sha256=digest.hexdigest(),
        repo_digests=list(image.attrs.get("RepoDigests") or []),
        saved_at=datetime.now(UTC).isoformat(timespec="seconds"),
    )


def save_images(
    client: docker.DockerClient,
    arches: list[str],
    directory: Path,
    console: Console,
    tags: dict[str, str] | None = None,
) -> dict[str, ManifestEntry]:
    """Save each arch's image next to a manifest (entries of other arches are kept)."""
    entries = read_manifest(directory)
    for arch in arches:
        started = time.monotonic()
        tag = (tags or {}).get(arch, image_tag(arch))
        entries[arch] = save_image(client, tag, arch, directory / archive_name(arch), console)
        write_manifest(directory, entries)
        console.print(
            f"[green]✓[/] {tag} -> {directory / entries[arch].archive} "
            f"({entries[arch].archive_bytes / 1e9:.2f} GB, {time.monotonic() - started:.0f} s)"
        )
    return entries


def check_archive(directory: Path, entry: ManifestEntry) -> Path:
    """The archive of entry, after checking its size and sha256 against the manifest."""
    archive = directory / entry.archive
    if not archive.exists():
        raise UserError(f"{archive} is missing: copy it next to {MANIFEST_NAME} or save it again.")
    if archive.stat().st_size != entry.archive_bytes or sha256_of(archive) != entry.archive_sha256:
        raise UserError(f"{archive} does not match {MANIFEST_NAME} (truncated or replaced): copy it again.")
    return archive


def load_images(
    client: docker.DockerClient, arches: list[str], directory: Path, console: Console
) -> dict[str, ManifestEntry]:
    """docker load each arch's archive; check the image id and architecture the manifest names."""
    import docker

    entries = read_manifest(directory)
    if not entries:
        raise UserError(f"no {MANIFEST_NAME} in {directory}: save the images there first (host save).")
    loaded = {}
    for arch in arches:
        if arch not in entries:
            raise UserError(
                f"{directory / MANIFEST_NAME} has no {arch} image; save it with `host save --arch {arch}`."
            )
        entry = entries[arch]
        with console.status(f"checking {entry.archive}"):
            archive = check_archive(directory, entry)
        started = time.monotonic()
        with console.status(f"docker load {archive.name}"), archive.open("rb") as handle:
            try:
                client.images.load(handle)
            except docker.errors.APIError as error:
                raise UserError(f"docker load {archive} failed: {error.explanation or error}") from error
        image = client.images.get(entry.tag)
        if image.id != entry.image_id or image.attrs.get("Architecture") != entry.architecture:
            raise UserError(
                f"{entry.tag} loaded as {image.id[:19]} ({image.attrs.get('Architecture')}), but the "
                f"manifest says {entry.image_id[:19]} ({entry.architecture}): save the images again."
            )
        console.print(f"[green]✓[/] loaded {entry.tag} ({arch}) in {time.monotonic() - started:.0f} s")
        loaded[arch] = entry
    return loaded
