"""``--host ARCH=TARGET``: which Docker engine runs each architecture.

TARGET is ``unix:///path.sock``, ``tcp://host:port``, ``ssh://user@box`` or the
name of a Docker context. An architecture without ``--host`` runs on the local
engine, natively or under QEMU (``images.archive.ship_image`` gets the image there).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from harness.errors import UserError
from harness.host import ARCHES
from harness.host.engine.connect import LOCAL_LABEL

EXAMPLE = "--host arm64=ssh://me@armbox (or unix:///run/other.sock, tcp://box:2375, a docker context name)"
URL_SCHEMES = ("unix", "tcp", "ssh")
# Docker's own rule for context names.
_CONTEXT_NAME = re.compile(r"^[a-zA-Z0-9][a-zA-Z0-9_.+-]*$")


@dataclass(frozen=True)
class EngineTarget:
    """Where one architecture runs: the local engine, or the engine TARGET names."""

    arch: str
    target: str | None = None  # as the user wrote it; None: the local engine
    base_url: str | None = None  # the resolved engine URL; None: DOCKER_HOST or the local socket

    @property
    def is_local(self) -> bool:
        return self.target is None

    @property
    def option(self) -> str | None:
        """The ``--host`` value that named this engine (None: the local engine)."""
        return None if self.target is None else f"{self.arch}={self.target}"

    @property
    def label(self) -> str:
        """The host label written into every result (``--host`` of measure)."""
        return LOCAL_LABEL if self.target is None else self.target


def parse_host_option(text: str) -> tuple[str, str]:
    """Split one ``ARCH=TARGET`` into (arch, target); UserError with an example when malformed."""
    arch, sep, target = text.partition("=")
    arch, target = arch.strip(), target.strip()
    if not sep or not arch or not target:
        raise UserError(f"--host {text!r} is not ARCH=TARGET; for example {EXAMPLE}.")
    if arch not in ARCHES:
        raise UserError(f"--host {text!r} names architecture {arch!r}; use one of {', '.join(ARCHES)}.")
    check_target(target)
    return arch, target


def check_target(target: str) -> None:
    """Reject a TARGET that is neither an engine URL of a known form nor a context name."""
    if "://" not in target:
        if not _CONTEXT_NAME.match(target):
            raise UserError(
                f"--host target {target!r} is neither an engine URL nor a Docker context name; "
                f"for example {EXAMPLE}."
            )
        return
    parts = urlsplit(target)
    if parts.scheme not in URL_SCHEMES:
        raise UserError(
            f"--host target {target!r} has scheme {parts.scheme!r}; use unix://, tcp:// or ssh:// "
            f"(for example {EXAMPLE})."
        )
    if parts.scheme == "unix" and (parts.netloc or not parts.path or parts.path == "/"):
        raise UserError(f"--host target {target!r} needs an absolute socket path, e.g. unix:///run/x.sock.")
    try:
        port = parts.port
    except ValueError:
        port = -1
    if parts.scheme == "tcp" and (not parts.hostname or port is None or port < 0):
        raise UserError(f"--host target {target!r} needs a host and a port, e.g. tcp://box:2375.")
    if parts.scheme == "ssh" and (not parts.hostname or port == -1):
        raise UserError(f"--host target {target!r} needs a host, e.g. ssh://me@armbox.")


def parse_host_options(values: list[str] | None) -> dict[str, str]:
    """Every ``--host`` value as {arch: target}; one target per architecture."""
    targets: dict[str, str] = {}
    for text in values or []:
        arch, target = parse_host_option(text)
        if arch in targets and targets[arch] != target:
            raise UserError(f"--host gives two engines for {arch} ({targets[arch]}, {target}); keep one.")
        targets[arch] = target
    return targets


def docker_config_dir() -> Path:
    """The Docker CLI's configuration directory (DOCKER_CONFIG or ~/.docker)."""
    return Path(os.environ.get("DOCKER_CONFIG") or Path.home() / ".docker")


def resolve_context(name: str, config_dir: Path | None = None) -> str | None:
    """The engine URL of a Docker context (None for ``default``: the local engine).

    Reads the CLI's context store (``contexts/meta/<sha256(name)>/meta.json``), where
    ``docker context create`` writes it.
    """
    if name == "default":
        return None
    meta = (config_dir or docker_config_dir()) / "contexts" / "meta"
    meta = meta / hashlib.sha256(name.encode()).hexdigest() / "meta.json"
    if meta.is_file():
        try:
            host = json.loads(meta.read_text())["Endpoints"]["docker"]["Host"]
        except (OSError, ValueError, KeyError, TypeError) as error:
            raise UserError(
                f"Docker context {name!r} has an unreadable {meta} ({error}); recreate it."
            ) from None
        if host:
            return str(host)
    raise UserError(
        f"there is no Docker context {name!r} (see `docker context ls`); create it with "
        f"`docker context create {name} --docker host=ssh://user@box` or pass the URL instead."
    )


def engine_targets(arches: list[str], host_options: dict[str, str]) -> list[EngineTarget]:
    """One target per architecture; context names resolved to engine URLs."""
    targets = []
    for arch in arches:
        target = host_options.get(arch)
        if target is None:
            targets.append(EngineTarget(arch))
        elif "://" in target:
            targets.append(EngineTarget(arch, target, target))
        else:
            targets.append(EngineTarget(arch, target, resolve_context(target)))
    unused = sorted(set(host_options) - set(arches))
    if unused:
        raise UserError(
            f"--host names {', '.join(unused)}, which --arch does not run; drop it or add the arch."
        )
    return targets
