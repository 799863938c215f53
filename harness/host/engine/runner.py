"""Run one bench command in one container on one engine, the hygienic way.

No network, a non-root user, no privilege escalation, CPU and memory limits,
labels that name the run; the emulation settings for a foreign architecture.
Logs stream to a callback and a file; a timeout kills the container; the
container is always removed, also on Ctrl-C (which is passed on as SIGINT so
the bench can write its partial results first).
"""

from __future__ import annotations

import contextlib
import signal
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from harness.host import BENCH_UID, DEFAULT_TIMEOUT_S, LABEL

if TYPE_CHECKING:
    import docker
    from harness.host.engine.emulation import EmulationOptions

BENCH_USER = f"{BENCH_UID}:{BENCH_UID}"
POLL_S = 0.5
INTERRUPT_GRACE_S = 15  # time for the bench to write `incomplete` results after SIGINT
LOG_TAIL_LINES = 30

OK = "ok"
EXITED = "exit"
SIGNALLED = "signal"
OOM_KILLED = "oom"
TIMED_OUT = "timeout"
INTERRUPTED = "interrupted"
NOT_STARTED = "not-started"


@dataclass(frozen=True)
class VolumeMount:
    """A named volume mounted into the container."""

    volume: str
    target: str
    read_only: bool = True


@dataclass(frozen=True)
class Limits:
    """How much of the machine one container may use."""

    cpus: float
    memory_bytes: int
    cpuset: str | None = None  # e.g. "2-3": pinned instead of a CFS quota (which throttles)
    whole_machine: bool = False  # every CPU of the engine: no CPU limit at all


@dataclass
class ContainerSpec:
    """Everything one bench container needs."""

    image: str
    command: list[str]
    name: str
    limits: Limits
    labels: dict[str, str] = field(default_factory=dict)
    mounts: list[VolumeMount] = field(default_factory=list)
    emulation: EmulationOptions | None = None
    environment: dict[str, str] = field(default_factory=dict)
    timeout_s: float = DEFAULT_TIMEOUT_S


@dataclass
class RunOutcome:
    """How one container ended."""

    name: str
    kind: str  # OK, EXITED, SIGNALLED, OOM_KILLED, TIMED_OUT, INTERRUPTED, NOT_STARTED
    reason: str  # one line for people and for the `error` of failed results
    exit_code: int | None
    duration_s: float
    log_tail: list[str] = field(default_factory=list)
    log_path: Path | None = None

    @property
    def ok(self) -> bool:
        return self.kind == OK


def container_kwargs(spec: ContainerSpec) -> dict[str, Any]:
    """Keyword arguments of ``client.containers.create`` for spec (pure: no engine needed)."""
    kwargs: dict[str, Any] = spec.emulation.run_kwargs() if spec.emulation else {}
    volumes = dict(kwargs.pop("volumes", {}))
    for mount in spec.mounts:
        volumes[mount.volume] = {"bind": mount.target, "mode": "ro" if mount.read_only else "rw"}
    environment = {**kwargs.pop("environment", {}), **spec.environment}
    ulimits = [limit for limit in kwargs.pop("ulimits", []) if limit.get("Name") != "core"]
    kwargs.update(
        name=spec.name,
        command=list(spec.command),
        labels={LABEL: "1", **spec.labels},
        volumes=volumes,
        environment=environment,
        network_mode="none",
        user=BENCH_USER,
        security_opt=["no-new-privileges"],
        cap_drop=["ALL"],
        **cpu_limit_kwargs(spec.limits),
        mem_limit=spec.limits.memory_bytes,
        memswap_limit=spec.limits.memory_bytes,  # no swap: an OOM shows as an OOM, not as slowness
        init=True,  # a PID 1 that forwards signals and reaps; under QEMU a must
        ulimits=[*ulimits, {"Name": "core", "Soft": 0, "Hard": 0}],
    )
    return kwargs


def cpu_limit_kwargs(limits: Limits) -> dict[str, Any]:
    """A cpuset when the container is pinned, nothing when it has the whole machine (a quota of
    every CPU limits nothing but still throttles a busy period), else a CFS quota of ``cpus``."""
    if limits.cpuset:
        return {"cpuset_cpus": limits.cpuset}
    return {} if limits.whole_machine else {"nano_cpus": int(limits.cpus * 1e9)}


def signal_name(number: int) -> str:
    try:
        return signal.Signals(number).name
    except ValueError:
        return f"signal {number}"


def classify(
    exit_code: int | None,
    *,
    oom_killed: bool = False,
    timed_out: bool = False,
    interrupted: bool = False,
    timeout_s: float = 0,
    memory_bytes: int = 0,
) -> tuple[str, str]:
    """(kind, reason) of a finished container, from its state and what we did to it."""
    if interrupted:
        return INTERRUPTED, "interrupted (Ctrl-C)"
    if timed_out:
        return TIMED_OUT, f"timed out after {timeout_s:.0f} s and was killed (raise --timeout)"
    if oom_killed:
        return OOM_KILLED, f"OOM-killed at the {memory_bytes / 2**30:.1f} GiB memory limit (raise --memory)"
    if exit_code == 0:
        return OK, "ok"
    if exit_code is not None and exit_code > 128:
        return SIGNALLED, f"killed by signal {signal_name(exit_code - 128)} (exit {exit_code})"
    return EXITED, f"exit {exit_code}"


class _LogPump(threading.Thread):
    """Follows a container's output: whole lines to a callback, a file and a tail."""

    def __init__(self, client, container_id: str, on_line: Callable[[str], None], log_path: Path | None):
        super().__init__(daemon=True)
        self.client, self.container_id, self.on_line, self.log_path = client, container_id, on_line, log_path
        self.tail: deque[str] = deque(maxlen=LOG_TAIL_LINES)

    def run(self) -> None:
        handle = self.log_path.open("a") if self.log_path else None
        pending = ""
        try:
            for chunk in self.client.api.logs(self.container_id, stream=True, follow=True):
                pending += chunk.decode(errors="replace").replace("\r", "\n")
                *lines, pending = pending.split("\n")
                for line in lines:
                    self._emit(line, handle)
            if pending:
                self._emit(pending, handle)
        except Exception as error:  # the container vanished under us: stop following
            self.tail.append(f"(log stream ended: {type(error).__name__})")
        finally:
            if handle:
                handle.close()

    def _emit(self, line: str, handle) -> None:
        if handle:
            handle.write(line + "\n")
            handle.flush()
        if line.strip():
            self.tail.append(line)
            self.on_line(line)


@contextlib.contextmanager
def sigint_ignored() -> Iterator[None]:
    """Let clean-up finish even when Ctrl-C is pressed again (main thread only)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


def run_container(
    client: docker.DockerClient,
    spec: ContainerSpec,
    on_line: Callable[[str], None] = lambda line: None,
    log_path: Path | None = None,
    stop: threading.Event | None = None,
) -> RunOutcome:
    """Create, start, follow and remove one container; never raises on how it ended.

    Ctrl-C during the run (or ``stop`` set, from another thread) sends SIGINT into the
    container, waits briefly for it to finish writing, and returns an INTERRUPTED outcome:
    the caller decides to stop. A lost engine raises the Docker SDK's or requests' error.
    """
    import docker

    started = time.monotonic()
    if log_path:
        log_path.parent.mkdir(parents=True, exist_ok=True)
        log_path.write_text(f"$ {' '.join(spec.command)}\n")
    pump: _LogPump | None = None
    timed_out = interrupted = False
    stale = _state(client, spec.name)
    if stale.get("Running"):  # not ours to remove
        reason = (
            f"could not start: a container named {spec.name} is still running (another attempt "
            f"of this run?); stop it with `docker rm -f {spec.name}` and rerun"
        )
        return RunOutcome(
            spec.name, NOT_STARTED, reason, None, time.monotonic() - started, [reason], log_path
        )
    if stale:  # left by an engine that went down mid-run: the name holds this run's id, so it is ours
        remove_container(client, spec.name)
    try:
        try:
            container = client.containers.create(spec.image, **container_kwargs(spec))
            container.start()
        except docker.errors.APIError as error:
            reason = f"could not start: {str(error.explanation or error).strip()[:300]}"
            return RunOutcome(
                spec.name, NOT_STARTED, reason, None, time.monotonic() - started, [reason], log_path
            )
        pump = _LogPump(client, container.id, on_line, log_path)
        pump.start()
        deadline = started + spec.timeout_s
        try:
            while _running(client, container.id):
                if stop is not None and stop.is_set():
                    raise KeyboardInterrupt  # handled below, as a Ctrl-C in this thread
                if time.monotonic() > deadline:
                    timed_out = True
                    _kill(client, container.id, "SIGKILL")
                    break
                time.sleep(POLL_S)
        except KeyboardInterrupt:
            interrupted = True
            _interrupt(client, container.id)
        state = _state(client, container.id)
        pump.join(timeout=10)
        exit_code = state.get("ExitCode") if not state.get("Running") else None
        kind, reason = classify(
            exit_code,
            oom_killed=bool(state.get("OOMKilled")),
            timed_out=timed_out,
            interrupted=interrupted,
            timeout_s=spec.timeout_s,
            memory_bytes=spec.limits.memory_bytes,
        )
        return RunOutcome(
            spec.name, kind, reason, exit_code, time.monotonic() - started, list(pump.tail), log_path
        )
    except KeyboardInterrupt:
        # Ctrl-C outside the wait loop (e.g. while creating): still clean up, then report it.
        tail = list(pump.tail) if pump else []
        return RunOutcome(
            spec.name, INTERRUPTED, "interrupted (Ctrl-C)", None, time.monotonic() - started, tail
        )
    finally:
        with sigint_ignored():
            remove_container(client, spec.name)


def _running(client, container_id: str) -> bool:
    return bool(_state(client, container_id).get("Running"))


def _state(client, container_id: str) -> dict[str, Any]:
    import docker

    try:
        return client.api.inspect_container(container_id).get("State", {})
    except docker.errors.NotFound:
        return {}


def _kill(client, container_id: str, signal_text: str) -> None:
    import docker

    with contextlib.suppress(docker.errors.APIError):
        client.api.kill(container_id, signal=signal_text)


def _interrupt(client, container_id: str) -> None:
    """SIGINT into the container, then wait up to INTERRUPT_GRACE_S (a second Ctrl-C stops waiting)."""
    _kill(client, container_id, "SIGINT")
    deadline = time.monotonic() + INTERRUPT_GRACE_S
    try:
        while _running(client, container_id) and time.monotonic() < deadline:
            time.sleep(POLL_S)
    except KeyboardInterrupt:
        pass
    if _running(client, container_id):
        _kill(client, container_id, "SIGKILL")


def remove_container(client: docker.DockerClient, name_or_id: str) -> None:
    """Force-remove a container (running or not); a missing one is fine."""
    import docker

    with contextlib.suppress(docker.errors.NotFound):
        try:
            client.api.remove_container(name_or_id, force=True, v=False)
        except docker.errors.APIError as error:
            if "already in progress" not in str(error):
                raise
