"""Facts about the CPU this process runs on, and whether QEMU is emulating it.

Inside an emulated arm64 container ``uname -m`` says aarch64 and
``/proc/cpuinfo`` may be faked (by QEMU itself or a bind mount), so emulation
is detected from the ELF machine of a child process's ``/proc/<pid>/exe``:
under QEMU user emulation it is the host's qemu binary, not an arm64 program.
"""

from __future__ import annotations

import os
import platform
import subprocess
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path

from harness.arches import arch_of_machine
from harness.runtime_registry import runtimes

# int8-relevant ISA features we report (names as /proc/cpuinfo spells them)
INT8_ISA_FLAGS = {
    "amd64": ("avx2", "fma", "avx512f", "avx512_vnni", "avx512vnni", "avx_vnni", "amx_int8"),
    "arm64": ("asimd", "asimddp", "i8mm", "sve", "sve2", "bf16"),
}
ELF_MACHINES = {0x3E: "amd64", 0xB7: "arm64", 0x03: "386", 0x28: "arm"}
# package -> distributions that provide it; each runtime declares its own (the amd64 image
# installs tensorflow-cpu for tensorflow)
COMMON_PACKAGES = {"numpy": ("numpy",)}


def versioned_packages() -> dict[str, tuple[str, ...]]:
    packages = dict(COMMON_PACKAGES)
    for runtime in runtimes():
        packages.update(runtime.packages)
    return packages


@dataclass
class SystemInfo:
    """What a result needs to say about where it ran."""

    arch: str
    emulated: bool | None  # None: the probe failed
    emulator_arch: str | None
    cpu_model: str
    cpu_count: int
    isa_flags: list[str] = field(default_factory=list)
    versions: dict[str, str] = field(default_factory=dict)


def collect_system_info() -> SystemInfo:
    """Read the CPU, ISA flags, emulation state and package versions once."""
    machine = platform.machine()
    arch = arch_of_machine(machine) or machine
    cpuinfo = _read_cpuinfo()
    executing_arch = child_executable_arch()
    # A failed probe is "unknown", never "native": an emulated timing must not pass as real.
    emulated = None if executing_arch is None else executing_arch != arch
    return SystemInfo(
        arch=arch,
        emulated=emulated,
        emulator_arch=executing_arch if emulated else None,
        cpu_model=_cpu_model(cpuinfo, arch),
        cpu_count=len(os.sched_getaffinity(0)),
        isa_flags=int8_isa_flags(cpuinfo, arch),
        versions=package_versions(),
    )


def child_executable_arch() -> str | None:
    """Architecture of the binary really running a child process (None if unreadable)."""
    try:
        child = subprocess.Popen(["sleep", "5"])
    except OSError:
        return None
    try:
        with open(f"/proc/{child.pid}/exe", "rb") as handle:
            header = handle.read(20)
    except OSError:
        return None
    finally:
        child.kill()
        child.wait()
    if len(header) < 20 or header[:4] != b"\x7fELF":
        return None
    return ELF_MACHINES.get(int.from_bytes(header[18:20], "little"), f"elf-{header[18]:#x}")


def int8_isa_flags(cpuinfo: str, arch: str) -> list[str]:
    """The int8-relevant flags this CPU advertises, in a fixed order."""
    present: set[str] = set()
    for line in cpuinfo.splitlines():
        key, _, value = line.partition(":")
        if key.strip() in ("flags", "Features"):
            present.update(value.split())
    wanted = INT8_ISA_FLAGS.get(arch, ())
    return [flag for flag in wanted if flag in present]


def _read_cpuinfo() -> str:
    try:
        return Path("/proc/cpuinfo").read_text(errors="replace")
    except OSError:
        return ""


def _cpu_model(cpuinfo: str, arch: str) -> str:
    fields: dict[str, str] = {}
    for line in cpuinfo.splitlines():
        key, _, value = line.partition(":")
        fields.setdefault(key.strip(), value.strip())
    if fields.get("model name"):
        return fields["model name"]
    if arch == "arm64" and fields.get("CPU part"):
        return f"ARM implementer {fields.get('CPU implementer', '?')} part {fields['CPU part']}"
    return platform.processor() or arch


def package_versions() -> dict[str, str]:
    """Versions of Python and the packages that decide the numbers."""
    versions = {"python": platform.python_version()}
    for name, distributions in versioned_packages().items():
        versions[name] = "not installed"
        for distribution in distributions:
            try:
                versions[name] = metadata.version(distribution)
                break
            except metadata.PackageNotFoundError:
                continue
    from harness import __version__

    versions["quantbench"] = __version__
    return versions
