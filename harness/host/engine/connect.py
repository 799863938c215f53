"""The one way to reach a Docker engine: probe it, then hand back a client and what it is.

Every engine quantbench talks to (the local one, ``--engine URL``, ``--host ARCH=TARGET``)
goes through ``connect``, which also says which architecture the engine's machine runs:
whether an architecture is emulated is a question about the engine, not about this host.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
from dataclasses import dataclass
from typing import TYPE_CHECKING

from harness.arches import arch_of_machine
from harness.errors import UserError
from harness.host import REPO_ROOT

if TYPE_CHECKING:
    import docker

PROBE_TIMEOUT_S = 10
# Builds, saves and loads move gigabytes; a silent `pip install` under QEMU lasts minutes.
LONG_TIMEOUT_S = 3 * 3600
LOCAL_LABEL = "local"
SETUP_SCRIPT = REPO_ROOT / "scripts" / "setup-host.sh"


@dataclass
class Engine:
    """A connected engine: its client, the architecture its machine runs, and where it is."""

    client: docker.DockerClient
    arch: str  # the engine machine's own architecture (Docker names: amd64, arm64)
    url: str | None = None  # None: DOCKER_HOST or the local socket
    label: str = LOCAL_LABEL  # how results name it: "local" or the --host target

    def emulates(self, arch: str) -> bool:
        """True when containers of arch run under emulation on this engine."""
        return arch != self.arch

    @property
    def on_this_machine(self) -> bool:
        """Whether the engine runs here: then binfmt and bind-mounted files are this machine's."""
        url = self.url or os.environ.get("DOCKER_HOST") or "unix://"
        return url.startswith("unix://")

    def close(self) -> None:
        self.client.close()


def run_setup_script() -> None:
    """Run scripts/setup-host.sh (root only): it installs and starts dockerd and QEMU."""
    if os.geteuid() != 0:
        raise UserError(f"the host set-up installs packages and starts dockerd: run `sudo {SETUP_SCRIPT}`.")
    if subprocess.run(["sh", str(SETUP_SCRIPT)], check=False).returncode != 0:
        raise UserError(f"{SETUP_SCRIPT} failed (see its output above); fix that step and rerun.")


def engine_fix() -> str:
    """The exact command that gets an engine answering on this host."""
    if os.geteuid() == 0 and shutil.which("apt-get"):
        return (
            f"run `{SETUP_SCRIPT}` (it installs docker.io when missing and starts dockerd), "
            "or by hand: `apt-get install -y docker.io && (dockerd >/var/log/dockerd.log 2>&1 &)`"
        )
    if shutil.which("dockerd") or shutil.which("docker"):
        return "start the engine (`sudo systemctl start docker`, or `sudo dockerd &`) and check `docker info`"
    return "install Docker Engine (Debian/Ubuntu: `sudo apt-get install -y docker.io`) and start it"


def connect(url: str | None = None, *, host_option: str | None = None, label: str | None = None) -> Engine:
    """The engine at url (default: DOCKER_HOST or the local socket), probed first.

    host_option is the ``--host ARCH=TARGET`` (or ``--machine NAME=TARGET``) that named it, for
    the error message and the results' host label (label, when given, is that label instead).
    Raises UserError with the fix when no engine answers.
    """
    import requests

    import docker

    ssh = bool(url and url.startswith("ssh://"))
    # ssh: the SDK runs the ssh binary (use_ssh_client), but its transport module imports paramiko.
    options = {"use_ssh_client": True} if ssh else {}
    if ssh and importlib.util.find_spec("paramiko") is None:
        arch = (host_option or "ARCH=").partition("=")[0]
        raise UserError(
            f"{url} needs the paramiko package for ssh:// (`.venv/bin/pip install paramiko`), or forward "
            f"the socket yourself: `ssh -NL /tmp/{arch}.sock:/var/run/docker.sock {url[6:]}` and use "
            f"--host {arch}=unix:///tmp/{arch}.sock."
        )
    where = url or os.environ.get("DOCKER_HOST") or "unix:///var/run/docker.sock"
    try:
        probe = _client(url, PROBE_TIMEOUT_S, options)
        probe.ping()
        probe.close()
        client = _client(url, LONG_TIMEOUT_S, options)
        machine = str(client.version().get("Arch", ""))
    except (docker.errors.DockerException, requests.exceptions.RequestException, OSError) as error:
        reason = str(error).splitlines()[0][:200] if str(error) else type(error).__name__
        if host_option is None:
            raise UserError(f"no Docker engine answers at {where} ({reason}); {engine_fix()}.") from error
        flag = "--machine" if label else "--host"
        hint = (
            f"check that `ssh {url[6:]} docker info` works without a password prompt"
            if ssh
            else f"start dockerd there or fix the {flag} value"
        )
        raise UserError(
            f"no Docker engine answers at {where} ({flag} {host_option}): {reason}; {hint}."
        ) from error
    label = label or (host_option.partition("=")[2] if host_option else LOCAL_LABEL)
    return Engine(client, arch_of_machine(machine) or machine, url, label)


def engine_errors() -> tuple[type[BaseException], ...]:
    """What the Docker SDK raises when an engine refuses a request or stops answering."""
    import requests

    import docker

    return (docker.errors.DockerException, requests.exceptions.RequestException, OSError)


def _client(url: str | None, timeout: int, options: dict) -> docker.DockerClient:
    import docker

    if url:
        return docker.DockerClient(base_url=url, timeout=timeout, **options)
    return docker.from_env(timeout=timeout)
