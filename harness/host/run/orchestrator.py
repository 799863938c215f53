"""The whole job: engines, images, prepare once, measure on every arch, verify, report.

1. connect to each engine and check emulation (binfmt/QEMU) for a foreign arch;
2. build the native image, then prepare the artifacts once in its container;
   meanwhile, in the background, build the other arches' images (arm64 under
   QEMU) and ship images to other engines: nothing of that is timed;
3. wait for that background work: no measure container runs beside anything;
4. measure in each target container, native first, under one run id; once the
   native ones are done, ``on_native`` shows their answer;
5. copy the results into the results folder, record what a container did not
   deliver as failed, and fail emulated results that disagree with native;
6. the caller renders the report of this run.
"""

from __future__ import annotations

import secrets
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from harness.errors import UserError
from harness.host import image_tag
from harness.host.engine import runner
from harness.host.engine.connect import Engine, connect
from harness.host.engine.targets import EngineTarget, engine_targets
from harness.host.run import collect, steps
from harness.host.run.overlap import Background, Timeline
from harness.host.run.plan import RunConfig, RunSummary, Target, limits_for

if TYPE_CHECKING:
    from rich.console import Console

__all__ = ["RunConfig", "RunSummary", "new_run_id", "run"]


def new_run_id() -> str:
    return datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ-") + secrets.token_hex(3)


def run(config: RunConfig, console: Console, on_native: Callable[[str], None] | None = None) -> RunSummary:
    """Do the whole job; the summary says what each container did and when each step ran.

    ``on_native(run_id)`` is called once every native measure pass is done, before the
    emulated ones: this machine's answer need not wait for QEMU.
    """
    run_id = _run_id(config)
    timeline = Timeline()
    local = connect(config.local_engine)
    targets = []
    try:
        for placement in engine_targets(list(config.arches), config.host_options):
            targets.append(_target(placement, local, config, console))
        summary = RunSummary(run_id, timeline=timeline)
        native_ready = threading.Event()
        background = Background(lambda: _untimed(local, targets, native_ready, config, timeline, console))
        try:
            with timeline.span(f"image {local.arch}"):
                _ensure_image(local, local.arch, config.rebuild, console)
        finally:
            native_ready.set()
        console.rule(f"run {run_id}")
        with timeline.span(f"prepare {local.arch}"):
            prepare_record, artifacts_volume = steps.prepare(local, local.arch, config, run_id, console)
        summary.records.append(prepare_record)
        with timeline.span("waiting for the images"):
            background.wait()  # nothing of ours may run beside a measure container
        artifacts = collect.read_artifacts(config.artifacts_dir)
        shown = all(t.emulated for t in targets)  # no native answer to show first
        for target in sorted(targets, key=lambda t: t.emulated):  # native first: it is the reference
            if target.emulated and not shown and on_native is not None:
                on_native(run_id)
                shown = True
            volume = artifacts_volume if target.engine is local else None
            for index, measure_pass in enumerate(config.profile.passes(target.emulated)):
                with timeline.span(f"measure {target.arch} {'emulated' if target.emulated else 'native'}"):
                    record = steps.measure(
                        target, measure_pass, index, volume, artifacts, config, run_id, console
                    )
                summary.records.append(record)
                if record.outcome.kind == runner.INTERRUPTED:
                    summary.interrupted = True
                    return summary
    finally:
        for engine in {id(t.engine): t.engine for t in targets if t.engine is not local}.values():
            engine.close()
        local.close()
    if config.profile.note and any(t.emulated for t in targets):
        console.print(f"[yellow]note:[/] {config.profile.note}")
    return summary


def _untimed(
    local: Engine,
    targets: list[Target],
    native_ready: threading.Event,
    config: RunConfig,
    timeline: Timeline,
    console: Console,
) -> None:
    """The background work: every other arch's image on the local engine, then shipping images
    to other engines (one of the native arch waits for the main line's build)."""
    from harness.host.images.archive import ship_image

    for arch in sorted({t.arch for t in targets if t.engine is local} - {local.arch}):
        with timeline.span(f"image {arch}", background=True):
            _ensure_image(local, arch, config.rebuild, console)
    for target in targets:
        if target.engine is local:
            continue
        if target.arch == local.arch:
            native_ready.wait()
        with timeline.span(f"ship {target.arch} to {target.engine.label}", background=True):
            ship_image(local.client, target.client, target.arch, config.images_dir, console)


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


def _target(placement: EngineTarget, local: Engine, config: RunConfig, console: Console) -> Target:
    from harness.host.engine.emulation import emulation_run_options, ensure_emulation

    engine = local if placement.is_local else connect(placement.base_url, host_option=placement.option)
    ensure_emulation(placement.arch, engine)
    if engine.emulates(placement.arch) and not engine.on_this_machine:
        console.print(
            f"[yellow]warning:[/] {engine.label} runs {placement.arch} under emulation ({engine.arch} "
            "engine); without the fake cpuinfo LiteRT may crash under QEMU < 8.1. The outputs are still "
            "checked."
        )
    options = emulation_run_options(placement.arch, engine)
    return Target(placement.arch, engine, options, limits_for(engine.client, config))


def _ensure_image(engine: Engine, arch: str, rebuild: bool, console: Console) -> None:
    from harness.host.engine.builder import image_architecture
    from harness.host.images.build import build_image

    present = image_architecture(engine.client, image_tag(arch))
    # The cached build takes seconds and guarantees the image runs this checkout's
    # harness code: an image left from an older checkout would measure old code.
    if present == arch and not rebuild:
        return
    if present not in (None, arch):
        console.print(f"[yellow]{image_tag(arch)} is a {present} image: building the {arch} one[/]")
    build_image(engine, arch, console)
