"""Extra Docker engines on this machine: each a dockerd with its own socket, data root, exec
root, pidfile and bridge (never ``--bridge none``: that deletes docker0), for tests that need
"another machine". Needs root, dockerd and ip; ``unavailable`` otherwise.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import tempfile
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from harness.errors import UserError
from tests.helpers import unavailable

START_TIMEOUT_S = 60


@dataclass
class ExtraEngine:
    """A running extra dockerd: its URL, and how to stop and start it again (same data root)."""

    base: Path
    bridge: str
    cpus: str | None  # taskset CPU list: the engine (and what it runs) sees only these
    daemon: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"unix://{self.base / 'docker.sock'}"

    def start(self) -> None:
        from harness.host.engine.connect import connect

        command = [
            "dockerd",
            "--host",
            self.url,
            "--data-root",
            str(self.base / "root"),
            "--exec-root",
            str(self.base / "exec"),
            "--pidfile",
            str(self.base / "docker.pid"),
            f"--bridge={self.bridge}",
            "--iptables=false",
            "--ip-masq=false",
        ]
        if self.cpus:
            command = ["taskset", "-c", self.cpus, *command]
        log = (self.base / "dockerd.log").open("a")
        self.daemon = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
        log.close()
        deadline = time.monotonic() + START_TIMEOUT_S
        while True:
            try:
                connect(self.url).close()
                return
            except UserError:
                if self.daemon.poll() is not None or time.monotonic() > deadline:
                    raise AssertionError((self.base / "dockerd.log").read_text()[-3000:]) from None
                time.sleep(0.5)

    def stop(self, sig: int = signal.SIGTERM) -> None:
        if self.daemon is None:
            return
        self.daemon.send_signal(sig)
        try:
            self.daemon.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.daemon.kill()
            self.daemon.wait()
        self.daemon = None


@contextlib.contextmanager
def extra_engine(cpus: str | None = None) -> Iterator[ExtraEngine]:
    """An extra engine for the block; removed with its bridge and data root afterwards."""
    if os.geteuid() != 0 or not shutil.which("dockerd") or not shutil.which("ip"):
        unavailable("an extra dockerd needs root, dockerd and ip")
    if cpus and not shutil.which("taskset"):
        unavailable("limiting an extra dockerd's CPUs needs taskset")
    base = Path(tempfile.mkdtemp(prefix="qbd-", dir="/tmp"))  # short: socket paths max 107 bytes
    bridge = f"qbt{uuid.uuid4().hex[:6]}"
    subprocess.run(["ip", "link", "add", "name", bridge, "type", "bridge"], check=True)
    subnet = f"10.213.{uuid.uuid4().int % 250 + 1}.1/24"  # the engine needs an address on its bridge
    subprocess.run(["ip", "addr", "add", subnet, "dev", bridge], check=True)
    subprocess.run(["ip", "link", "set", bridge, "up"], check=True)
    engine = ExtraEngine(base, bridge, cpus)
    try:
        engine.start()
        yield engine
    finally:
        engine.stop()
        subprocess.run(["ip", "link", "delete", bridge], check=False)
        shutil.rmtree(base, ignore_errors=True)
        assert Path("/sys/class/net/docker0").exists(), "an extra engine removed the main engine's docker0"
