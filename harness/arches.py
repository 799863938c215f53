"""The architectures quantbench knows: Docker's names and the machine names uname prints.

Standard library only: the bench (``sysinfo``) and the host both read it.
"""

from __future__ import annotations

# Docker architecture name -> the machine name used in wheel tags and by uname -m
ARCHES: dict[str, str] = {"amd64": "x86_64", "arm64": "aarch64"}


def arch_of_machine(machine: str) -> str | None:
    """Docker's name (amd64, arm64) for a machine name such as uname's x86_64; None if unknown."""
    machine = machine.lower()
    return next((arch for arch, uname in ARCHES.items() if machine in (arch, uname)), None)
