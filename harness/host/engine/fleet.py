"""The machines of a run: ``--machine NAME=TARGET`` and the fleet file, checked before anything runs.

A machine is a Docker engine that runs its own architecture natively; its NAME labels its
results. TARGET is ``local`` (the engine quantbench talks to by default), an engine URL
(``unix://``, ``tcp://``, ``ssh://``) or a Docker context name. A fleet file (TOML) lists
machines with optional limits and a ``box``: machines on one box never measure at the same
time (engines that report the same machine are put on one box without being told).

    [[machine]]
    name = "graviton3"
    target = "ssh://me@graviton3"
    threads = 2        # CPU limit: threads per call (default: every CPU of its engine)
    memory = "8g"      # memory limit (default: 75 % of its RAM)
    box = "rack-a"     # machines on one box measure one after another

Standard library only (``host run`` parses its options before importing docker).
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from pathlib import Path

from harness.cli_args import parse_memory
from harness.errors import UserError
from harness.host.engine.targets import check_target

LOCAL_TARGET = "local"
KEYS = ("name", "target", "threads", "memory", "box")
EXAMPLE = "--machine zen5=ssh://me@zen5 (TARGET: local, unix:///x.sock, tcp://box:2375, a docker context)"
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$")


@dataclass(frozen=True)
class Machine:
    """One machine of the fleet: where its engine is, its limits, and the box it shares."""

    name: str
    target: str  # LOCAL_TARGET, an engine URL or a Docker context name
    threads: int | None = None  # CPU limit, and threads per call (None: its engine's CPUs)
    memory_bytes: int | None = None  # None: 75 % of its engine's RAM
    box: str | None = None  # None: found from what its engine reports

    @property
    def is_local(self) -> bool:
        return self.target == LOCAL_TARGET


def parse_machine_option(text: str) -> Machine:
    """One ``--machine NAME=TARGET``; UserError with an example when malformed."""
    name, sep, target = (part.strip() for part in text.partition("="))
    if not sep or not name or not target:
        raise UserError(f"--machine {text!r} is not NAME=TARGET; for example {EXAMPLE}.")
    return _machine(name, target, where=f"--machine {text!r}")


def read_fleet_file(path: Path) -> list[Machine]:
    """The machines a fleet file lists, each entry checked; one sentence per mistake."""
    try:
        raw = tomllib.loads(path.read_text())
    except OSError as error:
        raise UserError(f"cannot read the fleet file {path} ({error.strerror}); check the path.") from None
    except tomllib.TOMLDecodeError as error:
        raise UserError(f"fleet file {path} is not valid TOML ({error}); fix that line.") from None
    extra = sorted(set(raw) - {"machine"})
    if extra:
        raise UserError(
            f"fleet file {path} has {', '.join(map(repr, extra))} at the top; list machines as "
            "[[machine]] tables only."
        )
    entries = raw.get("machine")
    if not isinstance(entries, list) or not entries or not all(isinstance(e, dict) for e in entries):
        raise UserError(
            f"fleet file {path} lists no [[machine]] table; add one per machine (docs/many-machines.md)."
        )
    return [_entry(entry, f"fleet file {path}, machine {index}") for index, entry in enumerate(entries, 1)]


def fleet(options: list[str] | None, fleet_file: Path | None) -> tuple[Machine, ...]:
    """Every machine the command line names (--fleet first, then each --machine), checked as a whole."""
    machines = read_fleet_file(fleet_file) if fleet_file else []
    machines += [parse_machine_option(text) for text in options or []]
    names: dict[str, Machine] = {}
    targets: dict[str, str] = {}
    for machine in machines:
        if machine.name in names:
            raise UserError(f"two machines are named {machine.name!r}; give each machine its own name.")
        if machine.target in targets:
            raise UserError(
                f"machines {targets[machine.target]!r} and {machine.name!r} are the same engine "
                f"({machine.target}); name each engine once."
            )
        names[machine.name] = machine
        targets[machine.target] = machine.name
    return tuple(machines)


def _entry(entry: dict, where: str) -> Machine:
    unknown = sorted(set(entry) - set(KEYS))
    if unknown:
        raise UserError(
            f"{where} has unknown key {', '.join(map(repr, unknown))}; the keys are {', '.join(KEYS)}."
        )
    for key in ("name", "target"):
        if not isinstance(entry.get(key), str) or not entry[key].strip():
            raise UserError(f'{where} needs {key} = "..." (a non-empty string).')
    threads = entry.get("threads")
    if threads is not None and (isinstance(threads, bool) or not isinstance(threads, int) or threads < 1):
        raise UserError(f"{where}: threads = {threads!r} is not a whole number of at least 1.")
    memory = entry.get("memory")
    if memory is not None and not isinstance(memory, str):
        raise UserError(f'{where}: memory = {memory!r} is not a size in quotes, like "8g".')
    box = entry.get("box")
    if box is not None and (not isinstance(box, str) or not box.strip()):
        raise UserError(f"{where}: box = {box!r} is not a non-empty string.")
    machine = _machine(entry["name"].strip(), entry["target"].strip(), where=where)
    memory_bytes = _memory(memory, where) if memory is not None else None
    return Machine(machine.name, machine.target, threads, memory_bytes, box.strip() if box else None)


def _machine(name: str, target: str, *, where: str) -> Machine:
    if not _NAME.match(name):
        raise UserError(
            f"{where}: machine name {name!r} must start with a letter or digit and hold only letters, "
            "digits, '.', '_' and '-' (it names result files)."
        )
    if target != LOCAL_TARGET:
        try:
            check_target(target)
        except UserError as error:
            raise UserError(f"{where}: {error}") from None
    return Machine(name, target)


def _memory(text: str, where: str) -> int:
    try:
        return parse_memory(text)
    except UserError:
        raise UserError(f'{where}: memory = {text!r} is not a size of at least 64m, like "8g".') from None
