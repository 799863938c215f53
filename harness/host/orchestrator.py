"""The whole job: engines, images, prepare once, measure on every arch, verify, report.

1. connect to each engine and check emulation (binfmt/QEMU) for a foreign arch;
2. make sure the images are there (build locally, ship to other engines);
3. prepare the artifacts once, in the native container of the local engine;
4. measure in each target container, native first, under one run id;
5. copy the results into the results folder, record what a container did not
   deliver as failed, and fail emulated results that disagree with native;
6. render the report of this run.
"""

from __future__ import annotations

import secrets
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from harness.errors import UserError
from harness.host import collect, docker_platform, hosts, image_tag, runner, steps
from harness.host.plan import DEFAULT_TIMEOUT_S, RunConfig, RunSummary, Target, limits_for

if TYPE_CHECKING:
    from rich.console import Console

    import docker

__all__ = ["DEFAULT_TIMEOUT_S", "RunConfig", "RunSummary", "new_run_id", "render_run_report", "run"]


def new_run_id() -> str:
    return datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ-") + secrets.token_hex(3)


def run(config: RunConfig, console: Console) -> RunSummary:
    """Do the whole job; the summary says what each container did."""
    from harness.host.emulation import host_arch

    run_id = _run_id(config)
    local = hosts.connect_target(hosts.EngineTarget(host_arch()), config.local_engine)
    native_arch = hosts.engine_arch(local)
    targets = [_target(engine, local, native_arch, config, console) for engine in _engines(config)]
    for arch in sorted({native_arch} | {t.arch for t in targets if t.engine.is_local}):
        _ensure_image(local, arch, config.rebuild, console)
    for target in targets:
        if not target.engine.is_local:
            hosts.ship_image(local, target.client, target.arch, config.images_dir, console)
    summary = RunSummary(run_id)
    console.rule(f"run {run_id}")
    try:
        prepare_record, artifacts_volume = steps.prepare(local, native_arch, config, run_id, console)
        summary.records.append(prepare_record)
        artifacts = collect.read_artifacts(config.artifacts_dir)
        for target in sorted(targets, key=lambda t: t.emulated):  # native first: it is the reference
            volume = artifacts_volume if target.client is local else None
            for index, measure_pass in enumerate(config.profile.passes(target.emulated)):
                record = steps.measure(
                    target, measure_pass, index, volume, artifacts, config, run_id, console
                )
                summary.records.append(record)
                if record.outcome.kind == runner.INTERRUPTED:
                    summary.interrupted = True
                    return summary
    finally:
        for target in targets:
            if target.client is not local:
                target.client.close()
    if config.profile.note and any(t.emulated for t in targets):
        console.print(f"[yellow]note:[/] {config.profile.note}")
    return summary


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


def _engines(config: RunConfig) -> list[hosts.EngineTarget]:
    return hosts.engine_targets(list(config.arches), config.host_options)


def _target(
    engine: hosts.EngineTarget,
    local: docker.DockerClient,
    native_arch: str,
    config: RunConfig,
    console: Console,
) -> Target:
    from harness.host.emulation import EmulationOptions, emulation_run_options, ensure_emulation

    client = local if engine.is_local else hosts.connect_target(engine)
    machine = native_arch if engine.is_local else hosts.engine_arch(client)
    emulated = machine != engine.arch
    if emulated and engine.is_local:
        ensure_emulation(engine.arch)
    if engine.is_local:
        options = emulation_run_options(engine.arch)
    elif emulated:
        # The fake cpuinfo is a file on this machine: a bind mount would name the wrong one.
        options = replace(emulation_run_options(engine.arch), volumes={})
        console.print(
            f"[yellow]warning:[/] {engine.label} runs {engine.arch} under emulation ({machine} engine); "
            "without the fake cpuinfo LiteRT may crash under QEMU < 8.1. The outputs are still checked."
        )
    else:
        options = EmulationOptions(engine.arch, emulated=False, platform=docker_platform(engine.arch))
    return Target(engine, client, emulated, options, limits_for(client, config))


def _ensure_image(client: docker.DockerClient, arch: str, rebuild: bool, console: Console) -> None:
    from harness.host.engine import image_architecture
    from harness.host.images import build_image

    present = image_architecture(client, image_tag(arch))
    # The cached build takes seconds and guarantees the image runs this checkout's
    # harness code: an image left from an older checkout would measure old code.
    if present == arch and not rebuild:
        return
    if present not in (None, arch):
        console.print(f"[yellow]{image_tag(arch)} is a {present} image: building the {arch} one[/]")
    build_image(client, arch, console)


def render_run_report(results_dir: Path, run_id: str) -> None:
    """The report of this run's results only (the console report of ``python -m harness report``)."""
    from rich.console import Console

    from harness.report.cli import PIPE_WIDTH
    from harness.report.document import build_report
    from harness.report.load import LoadedResults, merge_runs
    from harness.report.render import render_report

    results = [r for r in collect.all_results(results_dir) if r.run_id == run_id]
    if not results:
        return
    merged, superseded = merge_runs(results)
    loaded = LoadedResults(results=merged, superseded=superseded, files_read=len(results))
    console = Console()
    if not console.is_terminal:
        console = Console(width=PIPE_WIDTH)
    render_report(build_report(loaded, [f"{results_dir} (run {run_id})"]), console)
