"""The plan of a run: what was asked, where each arch runs, and what each container did.

Plain data shared by the orchestrator and its steps, plus the few rules that
derive a container's limits, labels and log file from it.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from harness.host import DEFAULT_TIMEOUT_S, IMAGES_DIR, LABEL, REPO_ROOT
from harness.host.engine import runner
from harness.host.run.profiles import QUICK, ImageOptions, Profile
from harness.schema import slug

if TYPE_CHECKING:
    import docker
    from harness.host.engine.connect import Engine
    from harness.host.engine.emulation import EmulationOptions
    from harness.host.engine.fleet import Machine
    from harness.host.run.overlap import Timeline

MEMORY_SHARE = 0.75  # of the engine's RAM, when --memory is not given


@dataclass(frozen=True)
class TuneOptions:
    """The search's bounds and gate (``quantbench tune``'s options of the same names)."""

    runtimes: tuple[str, ...] = ("litert", "ort", "openvino")
    max_candidates: int = 8
    budget_s: float = 900.0
    max_drop: float | None = None

    def arguments(self) -> list[str]:
        command = ["--runtimes", ",".join(self.runtimes), "--max-candidates", str(self.max_candidates)]
        command += ["--budget", f"{self.budget_s:g}"]
        return command + (["--max-drop", f"{self.max_drop:g}"] if self.max_drop is not None else [])

    def key(self, artifacts_key: str) -> str:
        facts = json.dumps({"artifacts": artifacts_key, **asdict(self)}, sort_keys=True)
        return hashlib.sha256(facts.encode()).hexdigest()[:16]


@dataclass(frozen=True)
class RunConfig:
    """Everything ``host run`` was asked to do."""

    arches: tuple[str, ...]
    host_options: dict[str, str] = field(default_factory=dict)
    machines: tuple[Machine, ...] = ()  # --machine/--fleet: then the run is these, each native
    skip_unreachable: bool = False  # a machine that does not answer is left out, not fatal
    profile: Profile = QUICK
    model: str = "resnet50"  # or the path of a user's model file
    data: str = "digits"
    images: ImageOptions | None = None  # a user's model: how prepare makes its inputs
    tune: TuneOptions | None = None  # host tune: search int8 recipes, measure the candidates
    epochs: int | None = None  # None: the bench's default schedule (12 epochs)
    qat_epochs: int | None = None  # None: the bench's default
    artifacts_dir: Path = REPO_ROOT / "artifacts"
    results_dir: Path = REPO_ROOT / "results"
    timeout_s: float = DEFAULT_TIMEOUT_S
    cpus: float | None = None
    memory_bytes: int | None = None
    resume: bool = False
    run_id: str | None = None
    images_dir: Path = IMAGES_DIR
    rebuild: bool = False
    local_engine: str | None = None
    verbose: bool = False  # every container line on the console, TensorFlow's C++ log on
    reverify: bool = False  # run an emulated check again though the same image and files passed it


@dataclass
class Target:
    """One architecture on one engine, with what running there needs."""

    arch: str
    engine: Engine
    emulation: EmulationOptions
    limits: runner.Limits
    label: str = ""  # how its results name the machine ("": the engine's label)
    box: str = ""  # the physical machine: targets on one box never measure at the same time

    @property
    def host(self) -> str:
        """The host label of its results: the machine's name, or the engine's label."""
        return self.label or self.engine.label

    @property
    def emulated(self) -> bool:
        return self.engine.emulates(self.arch)

    @property
    def client(self) -> docker.DockerClient:
        return self.engine.client


@dataclass
class ContainerRecord:
    """One container of the run and how it ended."""

    step: str
    arch: str
    host: str
    emulated: bool
    outcome: runner.RunOutcome
    results: int = 0  # result files written for it (delivered or recorded as failed)
    failed: int = 0  # of those, not ok
    delivered_all: bool = False  # every result it owed came back from it, each one ok

    @property
    def finished(self) -> bool:
        """Whether this container's work is done and sound.

        The rule for a container killed (timeout, OOM, signal) *after* it delivered every
        result it owed, each ``ok``: the measurement was complete when the kill came (each
        result is written whole and verified on arrival), so the results stay ``ok``, the
        container counts as finished and the run can exit 0; ``reason`` says what happened.
        A container that delivered less leaves ``failed`` results and fails the run.
        """
        return self.failed == 0 and (self.outcome.ok or self.delivered_all)

    @property
    def reason(self) -> str:
        """How it ended, in one line that agrees with ``finished`` and the results' status."""
        if self.delivered_all and not self.outcome.ok:
            return f"{self.outcome.reason}, after delivering all {self.results} results (kept)"
        return self.outcome.reason


@dataclass
class RunSummary:
    """What the run did."""

    run_id: str
    records: list[ContainerRecord] = field(default_factory=list)
    interrupted: bool = False
    timeline: Timeline | None = None  # when each step ran, and what overlapped

    @property
    def ok(self) -> bool:
        return not self.interrupted and all(r.finished for r in self.records)

    def machine_lines(self) -> list[str]:
        """One line per machine measured (when there are several): done, or failed and why."""
        machines: dict[str, list[ContainerRecord]] = {}
        for record in self.records:
            if record.step != "prepare":
                machines.setdefault(record.host, []).append(record)
        if len(machines) < 2:
            return []
        lines = []
        for name, records in machines.items():
            failed = [r for r in records if not r.finished]
            if not failed:
                lines.append(f"machine {name}: ok ({sum(r.results for r in records)} results written)")
            else:
                lines.append(f"machine {name}: FAILED ({failed[0].reason})")
        return lines


def limits_for(
    client: docker.DockerClient,
    config: RunConfig,
    *,
    cpus: float | None = None,
    memory_bytes: int | None = None,
) -> runner.Limits:
    """A container's limits on this engine: cpus/memory_bytes (a machine's own), else the run's,
    else every CPU and 75 % of the engine's RAM."""
    info = client.info()
    machine_cpus = int(info.get("NCPU") or 1)
    cpus = cpus or config.cpus or float(machine_cpus)
    memory = memory_bytes or config.memory_bytes or int(MEMORY_SHARE * int(info.get("MemTotal") or 4 * 2**30))
    cpuset = pinned_cpuset(machine_cpus, cpus)
    return runner.Limits(cpus, memory, cpuset, whole_machine=cpuset is None and cpus >= machine_cpus)


def pinned_cpuset(machine_cpus: int, cpus: float) -> str | None:
    """The last ``int(cpus)`` CPUs when the machine has more (the bench runs that many threads):
    a cpuset never throttles a spinning thread pool the way a CFS quota does. CPU 0, which
    serves most interrupts, is the last one given."""
    threads = max(1, int(cpus))
    if machine_cpus <= threads:
        return None
    first = machine_cpus - threads
    return f"{first}-{machine_cpus - 1}" if threads > 1 else str(first)


def labels(run_id: str, arch: str, role: str, host: str) -> dict[str, str]:
    return {f"{LABEL}.run": run_id, f"{LABEL}.arch": arch, f"{LABEL}.role": role, f"{LABEL}.host": host}


def log_path(config: RunConfig, run_id: str, host: str, arch: str, step: str) -> Path:
    """A new log file per container (a resumed run keeps the logs of the first attempt)."""
    folder = config.results_dir / "logs" / slug(run_id)
    stem = f"{slug(host)}_{arch}_{step}"
    path, attempt = folder / f"{stem}.log", 1
    while path.exists():
        attempt += 1
        path = folder / f"{stem}.attempt{attempt}.log"
    return path
