"""Running a foreign architecture: binfmt/QEMU set-up and per-container settings.

Why each container setting exists (measured with QEMU 7.2, see the README):
- ``QEMU_CPU=neoverse-n1``: the default ``max`` CPU advertises SME and XNNPACK's
  int8 kernels then return wrong logits silently; N1 is also ~10x faster.
- an ARM ``/proc/cpuinfo`` bind-mounted read-only: QEMU 7.2 shows the x86 host's
  cpuinfo and LiteRT's CPU detection segfaults on it. It must not claim more
  than the emulated CPU has (an N1 cpuinfo on a Cortex-A72 model dies of SIGILL).
- ``init``: a PID 1 that dies of a signal under QEMU hangs the container forever.
- ``ulimit core=0``: QEMU writes core files into the container.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from harness.errors import UserError
from harness.host import ARCHES, CACHE_DIR, docker_platform

if TYPE_CHECKING:
    from harness.host.engine.connect import Engine

BINFMT_DIR = Path("/proc/sys/fs/binfmt_misc")
# binfmt entry name per foreign architecture (Debian's qemu-user-static names)
BINFMT_NAMES = {"arm64": "qemu-aarch64", "amd64": "qemu-x86_64"}

QEMU_CPU = "neoverse-n1"
# What Linux prints for an Arm Neoverse-N1 (e.g. AWS Graviton2): nothing more.
NEOVERSE_N1_FEATURES = [
    "fp",
    "asimd",
    "evtstrm",
    "aes",
    "pmull",
    "sha1",
    "sha2",
    "crc32",
    "atomics",
    "fphp",
    "asimdhp",
    "cpuid",
    "asimdrdm",
    "lrcpc",
    "dcpop",
    "asimddp",
    "ssbs",
]
NEOVERSE_N1_ID = {
    "CPU implementer": "0x41",  # Arm
    "CPU architecture": "8",
    "CPU variant": "0x3",
    "CPU part": "0xd0c",  # Neoverse-N1
    "CPU revision": "1",
}
CPUINFO_DIR = CACHE_DIR / "emulation"


@dataclass(frozen=True)
class BinfmtStatus:
    """One binfmt_misc entry as the kernel reports it."""

    name: str
    registered: bool
    enabled: bool = False
    interpreter: str = ""
    flags: str = ""

    @property
    def usable_in_containers(self) -> bool:
        # F: the kernel opens the interpreter at registration, so images need no qemu.
        return self.registered and self.enabled and "F" in self.flags


def parse_binfmt_entry(name: str, text: str) -> BinfmtStatus:
    """Parse /proc/sys/fs/binfmt_misc/<name> ("enabled", "interpreter ...", "flags: PF")."""
    enabled = False
    interpreter = flags = ""
    for line in text.splitlines():
        line = line.strip()
        if line in ("enabled", "disabled"):
            enabled = line == "enabled"
        elif line.startswith("interpreter "):
            interpreter = line.split(None, 1)[1]
        elif line.startswith("flags:"):
            flags = line.split(":", 1)[1].strip()
    return BinfmtStatus(name, True, enabled, interpreter, flags)


def binfmt_status(arch: str, binfmt_dir: Path | None = None) -> BinfmtStatus:
    """The binfmt_misc registration that would run arch binaries on this host."""
    name = BINFMT_NAMES[arch]
    try:
        return parse_binfmt_entry(name, ((binfmt_dir or BINFMT_DIR) / name).read_text())
    except OSError:
        return BinfmtStatus(name, registered=False)


def ensure_emulation(arch: str, engine: Engine, *, install: bool = True) -> bool:
    """Make sure arch containers can run on engine; return True when they are emulated.

    On an engine of this machine, QEMU is set up as ``ensure_binfmt`` says. The binfmt
    set-up of another machine's engine cannot be seen from here: its containers show it.
    """
    if not engine.emulates(arch):
        return False
    if not engine.on_this_machine:
        return True
    ensure_binfmt(arch, install=install)
    return True


def ensure_binfmt(arch: str, *, install: bool = True) -> None:
    """Make sure this machine runs arch binaries through QEMU (binfmt_misc, fixed binary).

    As root (and install=True) scripts/setup-host.sh installs and registers it; otherwise
    UserError says to run that script.
    """
    from harness.host.engine.connect import SETUP_SCRIPT, run_setup_script

    status = binfmt_status(arch)
    if status.usable_in_containers:
        return
    problem = "not fixed-binary (no F flag)" if status.registered else "not registered"
    if not (install and os.geteuid() == 0):
        raise UserError(
            f"{arch} containers need QEMU registered in binfmt_misc ({status.name} is {problem}); "
            f"run `sudo {SETUP_SCRIPT}` once (it installs qemu-user-static and binfmt-support)."
        )
    run_setup_script()
    status = binfmt_status(arch)
    if not status.usable_in_containers:
        raise UserError(f"{status.name} is still not usable after {SETUP_SCRIPT} ({status}); see its output.")


def neoverse_n1_cpuinfo(cpu_count: int) -> str:
    """An arm64 /proc/cpuinfo for cpu_count Neoverse-N1 cores, as Linux would print it."""
    blocks = []
    for index in range(cpu_count):
        lines = [
            f"processor\t: {index}",
            "BogoMIPS\t: 50.00",
            f"Features\t: {' '.join(NEOVERSE_N1_FEATURES)}",
        ]
        lines += [f"{key}\t: {value}" for key, value in NEOVERSE_N1_ID.items()]
        blocks.append("\n".join(lines) + "\n")
    return "\n".join(blocks) + "\n"


def write_cpuinfo(cpu_count: int, directory: Path = CPUINFO_DIR) -> Path:
    """Write (once) the fake cpuinfo for cpu_count cores; world-readable for any container user."""
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"cpuinfo-{QEMU_CPU}-{cpu_count}"
    text = neoverse_n1_cpuinfo(cpu_count)
    if not path.exists() or path.read_text() != text:
        temp = path.with_suffix(".tmp")
        temp.write_text(text)
        temp.chmod(0o644)
        temp.replace(path)
    return path


@dataclass(frozen=True)
class EmulationOptions:
    """Settings a container of one architecture needs on this host."""

    arch: str
    emulated: bool
    platform: str
    environment: dict[str, str] = field(default_factory=dict)
    volumes: dict[str, dict[str, str]] = field(default_factory=dict)  # host path -> bind spec
    init: bool = False
    ulimits: list[dict[str, Any]] = field(default_factory=list)

    def run_kwargs(self) -> dict[str, Any]:
        """Keyword arguments for ``client.containers.run``/``create`` (merge your own volumes)."""
        kwargs: dict[str, Any] = {"platform": self.platform}
        if self.environment:
            kwargs["environment"] = dict(self.environment)
        if self.volumes:
            kwargs["volumes"] = {path: dict(spec) for path, spec in self.volumes.items()}
        if self.init:
            kwargs["init"] = True
        if self.ulimits:
            kwargs["ulimits"] = [dict(limit) for limit in self.ulimits]
        return kwargs


def emulation_run_options(
    arch: str, engine: Engine, cpu_count: int | None = None, cpuinfo_dir: Path = CPUINFO_DIR
) -> EmulationOptions:
    """The container settings for arch on engine: none when native, the QEMU fixes when emulated.

    cpu_count is how many cores the fake cpuinfo lists (default: this host's). The fake
    cpuinfo is a file on this machine: an engine elsewhere gets every other setting.
    """
    if arch not in ARCHES:
        raise UserError(f"unknown architecture {arch!r}: use one of {', '.join(ARCHES)}.")
    if not engine.emulates(arch):
        return EmulationOptions(arch=arch, emulated=False, platform=docker_platform(arch))
    if arch != "arm64":
        # Only arm64-on-amd64 was measured; no fixes are known for other pairs.
        return EmulationOptions(arch=arch, emulated=True, platform=docker_platform(arch), init=True)
    volumes = {}
    if engine.on_this_machine:
        cpuinfo = write_cpuinfo(cpu_count or os.cpu_count() or 1, cpuinfo_dir)
        volumes = {str(cpuinfo): {"bind": "/proc/cpuinfo", "mode": "ro"}}
    return EmulationOptions(
        arch=arch,
        emulated=True,
        platform=docker_platform(arch),
        environment={"QEMU_CPU": QEMU_CPU},
        volumes=volumes,
        init=True,
        ulimits=[{"Name": "core", "Soft": 0, "Hard": 0}],
    )
