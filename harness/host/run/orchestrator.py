"""The whole job: engines, images, prepare once, measure on every machine, verify, report.

1. connect to every engine (``machines.place``; each ``--arch`` or ``--machine``) and check
   emulation (binfmt/QEMU) for a foreign arch;
2. build the native image, then prepare the artifacts once in its container;
   meanwhile, in the background, build the other arches' images (arm64 under
   QEMU) and ship images to other engines: nothing of that is timed;
3. wait for that background work, then upload the artifacts to every other engine:
   no measure container runs beside anything of ours;
4. measure every native target, then every emulated one, under one run id: boxes
   (physical machines) in parallel, one container at a time on each (``boxes``); once
   the native ones are done, ``on_native`` shows their answer. A machine lost mid-run
   fails only its own passes left;
5. copy the results into the results folder, record what a container did not
   deliver as failed, and fail emulated results that disagree with native;
6. the caller renders the report of this run.
"""

from __future__ import annotations

import secrets
import threading
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from harness.errors import UserError
from harness.host import image_tag
from harness.host.engine import runner
from harness.host.engine.connect import Engine, connect, engine_errors
from harness.host.run import artifact_store as store
from harness.host.run import boxes, collect, machines, steps, tune_step
from harness.host.run.machines import Placement
from harness.host.run.overlap import Background, Timeline
from harness.host.run.plan import ContainerRecord, RunConfig, RunSummary, Target

if TYPE_CHECKING:
    from rich.console import Console
    from rich.progress import Progress

__all__ = ["RunConfig", "RunSummary", "new_run_id", "run"]


def new_run_id() -> str:
    return datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ-") + secrets.token_hex(3)


def run(config: RunConfig, console: Console, on_native: Callable[[str], None] | None = None) -> RunSummary:
    """Do the whole job; the summary says what each container did and when each step ran.

    ``on_native(run_id)`` is called once every native measure pass is done, before the
    emulated ones: the native answer need not wait for QEMU.
    """
    run_id = _run_id(config)
    timeline = Timeline()
    local = connect(config.local_engine)
    placement = Placement()
    try:
        placement = machines.place(config, local, console)
        targets = placement.targets
        summary = RunSummary(run_id, timeline=timeline)
        summary.records += [_left_out(name, why) for name, why in placement.unreachable.items()]
        native_ready = threading.Event()
        shipped: dict[int, str] = {}  # id(target) -> why its image could not be shipped
        background = Background(
            lambda: _untimed(local, targets, native_ready, config, timeline, console, shipped)
        )
        try:
            with timeline.span(f"image {local.arch}"):
                _ensure_image(local, local.arch, config.rebuild, console)
        finally:
            native_ready.set()
        console.rule(f"run {run_id}")
        with timeline.span(f"prepare {local.arch}"):
            prepare_record, artifacts_volume = steps.prepare(local, local.arch, config, run_id, console)
        summary.records.append(prepare_record)
        if config.tune is not None:  # host tune: the candidates' set is what every machine measures
            with timeline.span(f"tune search {local.arch}"):
                record, folder = tune_step.search(
                    local, local.arch, config, config.tune, artifacts_volume, run_id, console
                )
            summary.records.append(record)
            config = replace(config, artifacts_dir=folder / tune_step.SET_FOLDER)
            artifacts_volume = store.ensure_volume(
                local.client, image_tag(local.arch), config.artifacts_dir, console
            )
        with timeline.span("waiting for the images"):
            background.wait()  # nothing of ours may run beside a measure container
        artifacts = collect.read_artifact_sets(config.artifacts_dir, config.profile.input_sizes())
        volumes = _artifact_volumes(local, artifacts_volume, placement.engines(local), config, console)
        lost: dict[int, str] = {}  # id(engine) -> why its machine is lost

        def passes(target: Target, stop: threading.Event | None, bars: Progress | None) -> list:
            volume, why = volumes.get(id(target.engine)), shipped.get(id(target))
            work = (artifacts, config, run_id, console, timeline)
            return _measure_target(target, volume, why, *work, stop, bars, lost)

        native = [t for t in targets if not t.emulated]
        summary.records += boxes.measure_boxes(native, passes, console)
        if _stopped(summary):
            return summary
        emulated = [t for t in targets if t.emulated]
        if emulated and native and on_native is not None:
            on_native(run_id)
        summary.records += boxes.measure_boxes(emulated, passes, console)
        if _stopped(summary):
            return summary
    finally:
        for engine in placement.engines(local):
            engine.close()
        local.close()
    if config.profile.note and any(t.emulated for t in targets):
        console.print(f"[yellow]note:[/] {config.profile.note}")
    return summary


def _measure_target(
    target: Target,
    volume: str | Exception | None,
    reason: str | None,
    artifacts: dict[int, collect.Artifacts],
    config: RunConfig,
    run_id: str,
    console: Console,
    timeline: Timeline,
    stop: threading.Event | None,
    bars: Progress | None,
    lost: dict[int, str],
) -> list[ContainerRecord]:
    """Every pass of one target, in order; a lost engine fails the passes left, and only those."""
    records = []
    mode = "emulated" if target.emulated else "native"
    for index, measure_pass in enumerate(config.profile.passes(target.emulated)):
        reason = reason or lost.get(id(target.engine))
        if reason is not None or not isinstance(volume, str):
            reason = reason or f"its artifacts could not be uploaded ({volume})"
            records.append(steps.unmeasured(target, measure_pass, index, artifacts, config, run_id, reason))
            continue
        try:
            with timeline.span(f"measure {target.arch} {mode} on {target.host}"):
                record = steps.measure(
                    target,
                    measure_pass,
                    index,
                    volume,
                    artifacts,
                    config,
                    run_id,
                    console,
                    stop=stop,
                    bars=bars,
                )
        except engine_errors() as error:
            if _answers(target.engine):
                raise  # the engine is there: the error is ours (a full disk, a bug), not a lost machine
            reason = f"machine {target.host} was lost mid-run ({_first_line(error)})"
            lost[id(target.engine)] = reason
            console.print(
                f"[red]{reason}:[/] its finished results are kept; the rest are failed. When it is back, "
                f"finish it with `--resume --run-id {run_id}` (same options)."
            )
            record = steps.unmeasured(target, measure_pass, index, artifacts, config, run_id, reason)
        records.append(record)
        if record.outcome.kind == runner.INTERRUPTED:
            break
    return records


def _artifact_volumes(
    local: Engine, local_volume: str, engines: list[Engine], config: RunConfig, console: Console
) -> dict[int, str | Exception]:
    """The artifacts volume on every engine, uploaded once each before anything measures (an
    upload beside a measure would disturb it); an engine that fails keeps the error."""
    from harness.host.run import artifact_store as store

    volumes: dict[int, str | Exception] = {id(local): local_volume}
    for engine in engines:
        image = image_tag(engine.arch)
        try:
            volumes[id(engine)] = store.ensure_volume(engine.client, image, config.artifacts_dir, console)
        except engine_errors() as error:
            volumes[id(engine)] = error
            why = _first_line(error)
            console.print(f"[red]machine {engine.label}: could not upload the artifacts:[/] {why}")
    return volumes


def _answers(engine: Engine) -> bool:
    """Whether the engine still answers a probe (a fresh client, with the probe's short timeout)."""
    try:
        connect(engine.url).close()
    except UserError:
        return False
    return True


def _left_out(name: str, why: str) -> ContainerRecord:
    outcome = runner.RunOutcome("connect", runner.NOT_STARTED, f"left out: {why}", None, 0.0, [why])
    return ContainerRecord("connect", "?", name, False, outcome)


def _stopped(summary: RunSummary) -> bool:
    summary.interrupted = any(r.outcome.kind == runner.INTERRUPTED for r in summary.records)
    return summary.interrupted


def _first_line(error: BaseException) -> str:
    text = str(error).strip()
    return text.splitlines()[0][:200] if text else type(error).__name__


def _untimed(
    local: Engine,
    targets: list[Target],
    native_ready: threading.Event,
    config: RunConfig,
    timeline: Timeline,
    console: Console,
    shipped: dict[int, str],
) -> None:
    """The background work: every other arch's image on the local engine, then shipping images
    to other engines (one of the native arch waits for the main line's build). A machine whose
    image cannot be shipped is left to fail alone (``shipped`` says why)."""
    from harness.host.images.archive import ship_image

    for arch in sorted({t.arch for t in targets} - {local.arch}):  # built here, under QEMU if foreign
        with timeline.span(f"image {arch}", background=True):
            _ensure_image(local, arch, config.rebuild, console, background=True)
    for target in targets:
        if target.engine is local:
            continue
        if target.arch == local.arch:
            native_ready.wait()
        try:
            with timeline.span(f"ship {target.arch} to {target.host}", background=True):
                ship_image(local.client, target.client, target.arch, config.images_dir, console)
        except engine_errors() as error:
            shipped[id(target)] = f"machine {target.host} did not take the image ({_first_line(error)})"
            console.print(f"[red]{shipped[id(target)]}[/]")


def _run_id(config: RunConfig) -> str:
    if config.run_id and not config.resume:
        taken = [r for r in collect.all_results(config.results_dir) if r.run_id == config.run_id]
        if taken:
            raise UserError(
                f"{config.results_dir} already holds {len(taken)} results of run {config.run_id}; "
                "add --resume to finish that run, or choose a new --run-id."
            )
    if config.run_id:
        return config.run_id
    if config.resume:
        latest = collect.latest_run_id(config.results_dir)
        if latest is None:
            raise UserError(f"--resume found no run in {config.results_dir}; start one without --resume.")
        return latest
    return new_run_id()


def _ensure_image(
    engine: Engine, arch: str, rebuild: bool, console: Console, background: bool = False
) -> None:
    """The image of arch on engine, built (``background``: at the lowest CPU priority, beside the
    native image and prepare, which lead to the first answer)."""
    from harness.host.engine.builder import image_architecture
    from harness.host.images.build import build_image

    present = image_architecture(engine.client, image_tag(arch))
    # The cached build takes seconds and guarantees the image runs this checkout's
    # harness code: an image left from an older checkout would measure old code.
    if present == arch and not rebuild:
        return
    if present not in (None, arch):
        console.print(f"[yellow]{image_tag(arch)} is a {present} image: building the {arch} one[/]")
    build_image(engine, arch, console, background=background)
