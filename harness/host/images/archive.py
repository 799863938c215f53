"""Saved image archives for hosts with no registry: ``images/quantbench-<arch>.tar`` and
``images/manifest.json``; ``docker load`` checked against it; shipping an image to
another engine the same way.
"""

from __future__ import annotations

import hashlib
import json
import time
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from harness.errors import UserError
from harness.host import image_tag
from harness.host.engine.builder import image_id
from harness.host.images.wheelhouse import sha256_of

if TYPE_CHECKING:
    from rich.console import Console

    import docker

MANIFEST_NAME = "manifest.json"
MANIFEST_KIND = "quantbench.images"
MANIFEST_VERSION = 1


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


def ship_image(
    local: docker.DockerClient,
    remote: docker.DockerClient,
    arch: str,
    images_dir: Path,
    console: Console,
) -> str:
    """Make the remote engine hold the same quantbench:<arch> as the local one; return its id.

    No registry: docker save (reused when images_dir already holds this image id),
    then docker load on the remote engine, checked by image id.
    """
    tag = image_tag(arch)
    wanted = image_id(local, tag)
    if wanted is None:
        raise UserError(f"there is no local {tag} to send: run `python -m harness host build --arch {arch}`.")
    if image_id(remote, tag) == wanted:
        console.print(f"[green]✓[/] {tag} is already on the target engine ({wanted[7:19]})")
        return wanted
    entry = read_manifest(images_dir).get(arch)
    if entry is None or entry.image_id != wanted or not (images_dir / entry.archive).exists():
        save_images(local, [arch], images_dir, console)
    load_images(remote, [arch], images_dir, console)
    loaded = image_id(remote, tag)
    if loaded != wanted:
        raise UserError(
            f"{tag} on the target engine is {str(loaded)[:19]}, not the local {wanted[:19]}; "
            f"delete {images_dir / MANIFEST_NAME} and rerun."
        )
    return wanted
