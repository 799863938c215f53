"""The prepared artifacts on each engine: one named volume per artifact set.

The host's ``artifacts/`` folder is the source of truth. On an engine the same
set lives in a volume named after the sha256 of its manifest, uploaded once and
reused by every later run (and by both architectures); a marker written last
says the upload finished. Measure containers mount it read-only.
"""

from __future__ import annotations

import hashlib
import shutil
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

from harness.bench.manifest import folder_input_size, shape_folder  # plain JSON + hashlib: no TensorFlow
from harness.host.engine import volumes

if TYPE_CHECKING:
    from rich.console import Console

    import docker

STORE_MOUNT = "/mnt/store"  # where the artifacts volume appears in a container
ARTIFACTS_SUBDIR = "artifacts"
CONTAINER_ARTIFACTS = f"{STORE_MOUNT}/{ARTIFACTS_SUBDIR}"
COMPLETE_MARKER = ".quantbench-complete"
MANIFEST = "manifest.json"


def manifest_key(manifest_bytes: bytes, shapes: dict[str, bytes] | None = None) -> str:
    """Short content key of the artifacts: their manifests name every file's sha256 (the seed
    set's, and each other image side's in its subfolder)."""
    digest = hashlib.sha256(manifest_bytes)
    for folder, content in sorted((shapes or {}).items()):
        digest.update(b"\0" + folder.encode() + b"\0" + content)
    return digest.hexdigest()[:16]


def local_key(directory: Path) -> str | None:
    """The key of the artifacts in a host folder, or None when it holds no manifest."""
    path = directory / MANIFEST
    if not path.is_file():
        return None
    shapes = {
        folder.name: (folder / MANIFEST).read_bytes()
        for folder in directory.iterdir()
        if folder_input_size(folder.name) and (folder / MANIFEST).is_file()
    }
    return manifest_key(path.read_bytes(), shapes)


def volume_name(key: str) -> str:
    return f"quantbench-artifacts-{key}"


def ensure_volume(client: docker.DockerClient, image: str, directory: Path, console: Console) -> str:
    """The engine's volume holding exactly the artifacts of directory (uploaded when missing)."""
    key = local_key(directory)
    if key is None:
        raise ValueError(f"{directory} has no {MANIFEST}")
    name = volume_name(key)
    if volumes.volume_exists(client, name) and volumes.read_file(client, image, name, COMPLETE_MARKER) == (
        key.encode()
    ):
        return name
    volumes.create_volume(client, name, {"quantbench.artifacts": key})
    size = sum(p.stat().st_size for p in directory.rglob("*") if p.is_file())
    with console.status(f"copying the artifacts ({size / 1e6:.0f} MB) into volume {name}"):
        volumes.upload(
            client, image, name, {ARTIFACTS_SUBDIR: directory}, extra={COMPLETE_MARKER: key.encode()}
        )
    console.print(f"[green]✓[/] artifacts {key} in volume {name} ({size / 1e6:.0f} MB)")
    return name


def local_input_sizes(directory: Path) -> tuple[int, ...]:
    """The other image sides whose sets the host folder holds (subfolders SIDExSIDE)."""
    if not directory.is_dir():
        return ()
    sizes = (folder_input_size(folder.name) for folder in directory.iterdir())
    return tuple(sorted(size for size in sizes if size))


def prepared_key(
    client: docker.DockerClient, image: str, volume: str, input_sizes: tuple[int, ...] = ()
) -> str | None:
    """The key of the artifacts a prepare container left in volume (None: no manifest); the
    other sides' sets it holds are those of ``input_sizes`` (prepare removes stale ones)."""
    content = volumes.read_file(client, image, volume, f"{ARTIFACTS_SUBDIR}/{MANIFEST}")
    if content is None:
        return None
    shapes = {}
    for size in input_sizes:
        folder = shape_folder(size)
        if not folder:
            continue
        shape = volumes.read_file(client, image, volume, f"{ARTIFACTS_SUBDIR}/{folder}/{MANIFEST}")
        if shape is not None:
            shapes[folder] = shape
    return manifest_key(content, shapes)


def fetch(client: docker.DockerClient, image: str, volume: str, directory: Path, console: Console) -> None:
    """Replace the host folder with the volume's artifacts (downloaded aside, then two renames)."""
    directory.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(dir=directory.parent, prefix=f".{directory.name}.new-"))
    staging.chmod(0o755)
    try:
        with console.status(f"copying the new artifacts into {directory}"):
            volumes.download(client, image, volume, ARTIFACTS_SUBDIR, staging)
        volumes.replace_directory(staging, directory)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
