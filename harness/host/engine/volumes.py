"""Docker named volumes filled and drained through the engine's archive API.

Files go in with ``put_archive`` and come out with ``get_archive`` on a helper
container that is created but never started. Unlike a bind mount this names no
path on the engine's machine, so it works the same on a remote engine.
"""

from __future__ import annotations

import contextlib
import io
import shutil
import tarfile
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from harness.errors import UserError
from harness.host import BENCH_UID, LABEL

if TYPE_CHECKING:
    import docker

HELPER_ROOT = "/mnt/volume"
SPOOL_BYTES = 64 << 20  # tar archives below this stay in memory


def create_volume(client: docker.DockerClient, name: str, labels: dict[str, str] | None = None) -> str:
    """Create (or reuse) a named volume labelled as quantbench's; return its name."""
    import docker

    try:
        return client.volumes.get(name).name
    except docker.errors.NotFound:
        return client.volumes.create(name, labels={LABEL: "1", **(labels or {})}).name


def remove_volume(client: docker.DockerClient, name: str) -> None:
    """Remove a volume; a missing one is fine, one still in use is left alone."""
    import docker

    with contextlib.suppress(docker.errors.NotFound, docker.errors.APIError):
        client.api.remove_volume(name, force=True)


def volume_exists(client: docker.DockerClient, name: str) -> bool:
    import docker

    try:
        client.volumes.get(name)
        return True
    except docker.errors.NotFound:
        return False


@contextlib.contextmanager
def helper(
    client: docker.DockerClient, image: str, volume: str
) -> Iterator[docker.models.containers.Container]:
    """A created, never started container with volume at HELPER_ROOT, removed afterwards."""
    container = client.containers.create(
        image,
        ["true"],
        name=f"quantbench-helper-{uuid.uuid4().hex[:12]}",
        volumes={volume: {"bind": HELPER_ROOT, "mode": "rw"}},
        network_disabled=True,
        labels={LABEL: "1", f"{LABEL}.role": "helper"},
    )
    try:
        yield container
    finally:
        with contextlib.suppress(Exception):
            container.remove(force=True)


def _owned(info: tarfile.TarInfo, mode: int | None = None) -> tarfile.TarInfo:
    info.uid = info.gid = BENCH_UID
    info.uname = info.gname = ""
    if mode is not None:
        info.mode = mode
        info.mtime = int(time.time())
    return info


def make_dirs(client: docker.DockerClient, image: str, volume: str, *directories: str) -> None:
    """Create directories inside a volume, owned by the bench user."""
    with tempfile.SpooledTemporaryFile(SPOOL_BYTES) as spool:
        with tarfile.open(fileobj=spool, mode="w") as archive:
            for directory in directories:
                info = tarfile.TarInfo(directory.strip("/"))
                info.type = tarfile.DIRTYPE
                archive.addfile(_owned(info, 0o755))
        spool.seek(0)
        with helper(client, image, volume) as container:
            container.put_archive(HELPER_ROOT, spool)


def upload(
    client: docker.DockerClient,
    image: str,
    volume: str,
    sources: dict[str, Path],
    *,
    extra: dict[str, bytes] | None = None,
) -> None:
    """Copy local files or directories into a volume: {name inside the volume: local path}.

    Everything is owned by the bench user; extra adds small files by content
    (written last, so they can mark the upload as complete).
    """
    with tempfile.SpooledTemporaryFile(SPOOL_BYTES) as spool:
        with tarfile.open(fileobj=spool, mode="w") as archive:
            for name, path in sources.items():
                archive.add(str(path), arcname=name.strip("/"), filter=_owned)
            for name, content in (extra or {}).items():
                info = _owned(tarfile.TarInfo(name.strip("/")), 0o644)
                info.size = len(content)
                archive.addfile(info, io.BytesIO(content))
        spool.seek(0)
        with helper(client, image, volume) as container:
            container.put_archive(HELPER_ROOT, spool)


def read_file(client: docker.DockerClient, image: str, volume: str, name: str) -> bytes | None:
    """One small file from a volume, or None when it is not there."""
    import docker

    with helper(client, image, volume) as container:
        try:
            stream, _ = container.get_archive(f"{HELPER_ROOT}/{name.strip('/')}")
        except docker.errors.NotFound:
            return None
        with tempfile.SpooledTemporaryFile(SPOOL_BYTES) as spool:
            for chunk in stream:
                spool.write(chunk)
            spool.seek(0)
            with tarfile.open(fileobj=spool) as archive:
                member = archive.next()
                handle = archive.extractfile(member) if member is not None else None
                return handle.read() if handle is not None else None


def download(client: docker.DockerClient, image: str, volume: str, name: str, destination: Path) -> bool:
    """Copy directory name of a volume into destination (created; contents merged).

    Returns False when the volume has no such directory.
    """
    import docker

    destination.mkdir(parents=True, exist_ok=True)
    with helper(client, image, volume) as container:
        try:
            stream, _ = container.get_archive(f"{HELPER_ROOT}/{name.strip('/')}/.")
        except docker.errors.NotFound:
            return False
        with tempfile.TemporaryFile() as spool:
            for chunk in stream:
                spool.write(chunk)
            spool.seek(0)
            with tarfile.open(fileobj=spool) as archive:
                try:
                    archive.extractall(destination, filter="data")
                except (tarfile.TarError, OSError) as error:
                    raise UserError(f"cannot unpack {name} from volume {volume} ({error}).") from error
    return True


def replace_directory(source: Path, target: Path) -> None:
    """Put source at target with two renames, so target is never half-written."""
    old = target.with_name(f".{target.name}.old-{uuid.uuid4().hex[:8]}")
    if target.exists():
        target.rename(old)
    source.rename(target)
    shutil.rmtree(old, ignore_errors=True)
