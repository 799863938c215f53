"""Work on the host that nobody waits for, at the lowest CPU priority that holds.

``nice 19`` alone does not hold on Linux with autogroups (on by default on Debian): nice
orders tasks only within one session's group, and that group competes with each container's
cgroup at full weight. Measured on a 2-core Xeon (AVX-512 VNNI): prepare's training epochs
took 25–44 s while the arm64 debootstrap ran beside it at nice 19, and 16–22 s after it. So a
background command first moves itself into a cgroup of the lowest CPU weight (``cpu.shares``
2 under cgroup v1, ``cpu.weight`` 1 under v2), made once per host, when the host lets us
(root, a ``cpu`` controller); its children inherit it. Where it cannot, the command runs at
nice 19 only, and ``why_not`` says why.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

CGROUP_ROOT = Path("/sys/fs/cgroup")
GROUP = "quantbench-background"
NICE = ("nice", "-n", "19")
BACKGROUND_CPU_SHARES = 64  # docker build steps in the background, of the default 1024


@dataclass(frozen=True)
class Lowest:
    """How background commands are started here: the cgroup they join (or None, and why)."""

    procs_file: Path | None
    why_not: str = ""

    def command(self, command: list[str]) -> list[str]:
        """``command`` at nice 19, inside the low-weight cgroup when there is one."""
        if self.procs_file is None:
            return [*NICE, *command]
        join = f'echo $$ > "{self.procs_file}" && exec "$@"'
        return ["sh", "-c", join, "sh", *NICE, *command]


def lowest(root: Path = CGROUP_ROOT) -> Lowest:
    """The low-weight cgroup for background work, made if missing."""
    attempts = (
        (root / "cpu" / GROUP, "cpu.shares", "2", "cpu.shares"),  # cgroup v1
        (root / GROUP, "cpu.weight", "1", "cgroup.subtree_control"),  # cgroup v2, unified at the root
    )
    reasons = []
    for folder, knob, value, marker in attempts:
        if not (folder.parent / marker).exists():
            continue
        if marker == "cgroup.subtree_control" and "cpu" not in _read(folder.parent / marker).split():
            reasons.append(f"{folder.parent} has no cpu controller for its children")
            continue
        try:
            folder.mkdir(exist_ok=True)
            (folder / knob).write_text(value)
        except OSError as error:
            reasons.append(f"cannot make {folder} ({error.strerror})")
            continue
        return Lowest(folder / "cgroup.procs")
    why = "; ".join(reasons) or f"no cpu cgroup controller under {root}"
    return Lowest(None, f"background builds run at nice 19 only: {why}")


def _read(path: Path) -> str:
    try:
        return path.read_text()
    except OSError:
        return ""
