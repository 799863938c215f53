"""Where a run measures: every engine connected and probed before anything runs.

Without ``--machine`` the run is as it always was: each ``--arch`` on the local engine
(emulated when foreign) or on its ``--host`` engine. With ``--machine``/``--fleet`` the run is
those machines, each measuring its own architecture natively under its own name.

Each target gets a *box*: the physical machine its engine runs on. Two targets on one box
never measure at the same time. A box is what the fleet file declares, or else what the
engine reports of its machine (host name, kernel, memory): two daemons on one computer
report the same.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from harness.errors import UserError
from harness.host.engine.connect import Engine, connect
from harness.host.engine.fleet import Machine
from harness.host.engine.targets import EngineTarget, engine_targets, resolve_context
from harness.host.run.plan import RunConfig, Target, limits_for

if TYPE_CHECKING:
    from rich.console import Console


@dataclass
class Placement:
    """The targets of a run, and the machines that did not answer (when told to go on)."""

    targets: list[Target] = field(default_factory=list)
    unreachable: dict[str, str] = field(default_factory=dict)  # machine name -> why

    def engines(self, local: Engine) -> list[Engine]:
        """Every engine other than local, once."""
        return list({id(t.engine): t.engine for t in self.targets if t.engine is not local}.values())


def place(config: RunConfig, local: Engine, console: Console) -> Placement:
    """Connect every engine the run names; UserError when one does not answer, unless the
    run goes on without it (``--skip-unreachable``), which is said in one sentence each."""
    placement = Placement()
    if not config.machines:
        for where in engine_targets(list(config.arches), config.host_options):
            placement.targets.append(_arch_target(where, local, config, console))
        return placement
    problems: list[str] = []
    for machine in config.machines:
        try:
            placement.targets.append(_machine_target(machine, local, config))
        except UserError as error:
            problems.append(str(error))
            placement.unreachable[machine.name] = str(error)
    if problems and not config.skip_unreachable:
        for engine in placement.engines(local):
            engine.close()
        names = ", ".join(placement.unreachable)
        raise UserError(
            f"{' '.join(problems)} Nothing ran: bring {names} back, drop it from the fleet, or add "
            "--skip-unreachable to measure the others."
        )
    for name, why in placement.unreachable.items():
        console.print(f"[red]machine {name} is left out:[/] {why}")
    return placement


def box_of(engine: Engine) -> str:
    """The machine an engine reports it runs on: host name, kernel and memory."""
    info = engine.client.info()
    return f"{info.get('Name', '?')}/{info.get('KernelVersion', '?')}/{info.get('MemTotal', '?')}"


def _machine_target(machine: Machine, local: Engine, config: RunConfig) -> Target:
    from harness.host.engine.emulation import emulation_run_options

    if machine.is_local:
        engine = local
    else:
        url = machine.target if "://" in machine.target else resolve_context(machine.target)
        engine = connect(url, host_option=f"{machine.name}={machine.target}", label=machine.name)
    limits = limits_for(engine.client, config, cpus=machine.threads, memory_bytes=machine.memory_bytes)
    return Target(
        engine.arch,
        engine,
        emulation_run_options(engine.arch, engine),
        limits,
        label=machine.name,
        box=machine.box or box_of(engine),
    )


def _arch_target(where: EngineTarget, local: Engine, config: RunConfig, console: Console) -> Target:
    from harness.host.engine.emulation import emulation_run_options, ensure_emulation

    engine = local if where.is_local else connect(where.base_url, host_option=where.option)
    ensure_emulation(where.arch, engine)
    if engine.emulates(where.arch) and not engine.on_this_machine:
        console.print(
            f"[yellow]warning:[/] {engine.label} runs {where.arch} under emulation ({engine.arch} "
            "engine); without the fake cpuinfo LiteRT may crash under QEMU < 8.1. The outputs are still "
            "checked."
        )
    options = emulation_run_options(where.arch, engine)
    return Target(where.arch, engine, options, limits_for(engine.client, config), box=box_of(engine))
