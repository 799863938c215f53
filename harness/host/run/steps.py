"""The two kinds of container in a run: prepare (once) and measure (per arch and pass).

prepare trains and converts in the native container and leaves the artifacts in
a volume (reused when unchanged); measure mounts them read-only, writes results
into a scratch volume, and its results are drained, verified and stored here.
"""

from __future__ import annotations

import dataclasses
import shutil
import tempfile
import threading
from pathlib import Path
from typing import TYPE_CHECKING

from harness import schema
from harness.errors import UserError
from harness.host import image_tag
from harness.host.engine import runner, volumes
from harness.host.run import artifact_store as store
from harness.host.run import collect, inputs, verified, verify
from harness.host.run.plan import ContainerRecord, RunConfig, Target, labels, limits_for, log_path
from harness.host.run.profiles import MeasurePass, measure_command, prepare_command
from harness.schema import SEED_INPUT_SIZE

if TYPE_CHECKING:
    from rich.console import Console
    from rich.progress import Progress

    from harness.host.engine.connect import Engine

RESULTS_MOUNT = "/mnt/results"


def prepare(
    engine: Engine, arch: str, config: RunConfig, run_id: str, console: Console
) -> tuple[ContainerRecord, str]:
    """Prepare the artifacts in the native container (reused when unchanged); return the volume."""
    from harness.host.engine.emulation import emulation_run_options
    from harness.host.run.progress import ContainerProgress

    client = engine.client
    image = image_tag(arch)
    key = store.local_key(config.artifacts_dir)
    if key:
        volume = store.ensure_volume(client, image, config.artifacts_dir, console)
    else:
        volume = volumes.create_volume(client, f"quantbench-prepare-{run_id}")
        volumes.make_dirs(client, image, volume, store.ARTIFACTS_SUBDIR)
    mounts = [runner.VolumeMount(volume, store.STORE_MOUNT, read_only=False)]
    staged = inputs.stage(client, image, config.model, config.data, run_id)
    if staged.volume:
        mounts.append(runner.VolumeMount(staged.volume, inputs.MOUNT, read_only=True))
    spec = runner.ContainerSpec(
        image=image,
        command=prepare_command(
            staged.model,
            staged.data,
            config.epochs,
            config.qat_epochs,
            store.CONTAINER_ARTIFACTS,
            config.profile.input_sizes(),
            config.images,
        ),
        name=f"quantbench-{run_id}-prepare",
        limits=limits_for(client, config),
        labels=labels(run_id, arch, "prepare", engine.label),
        mounts=mounts,
        emulation=emulation_run_options(arch, engine),
        environment=container_environment(config),
        timeout_s=config.timeout_s,
    )
    log_file = log_path(config, run_id, engine.label, arch, "prepare")
    try:
        with ContainerProgress(console, f"prepare {arch}", verbose=config.verbose) as progress:
            outcome = runner.run_container(client, spec, progress.line, log_file)
            progress.finish(outcome.reason)
    finally:
        if staged.volume:
            volumes.remove_volume(client, staged.volume)
    record = ContainerRecord("prepare", arch, engine.label, False, outcome)
    if outcome.kind == runner.INTERRUPTED:
        volumes.remove_volume(client, volume)
        raise KeyboardInterrupt
    if not outcome.ok:
        volumes.remove_volume(client, volume)  # may be half rewritten: upload again next time
        tail = "\n".join(outcome.log_tail[-12:])
        console.print(f"[red]prepare output (last lines):[/]\n{tail}")
        raise UserError(f"prepare failed ({outcome.reason}); fix the cause shown in {log_file} and rerun.")
    sizes = tuple(sorted({*config.profile.input_sizes(), *store.local_input_sizes(config.artifacts_dir)}))
    if key is not None and store.prepared_key(client, image, volume, sizes) == key:
        console.print(f"[green]✓[/] artifacts in {config.artifacts_dir} are up to date: reused")
        return record, volume
    store.fetch(client, image, volume, config.artifacts_dir, console)
    volumes.remove_volume(client, volume)  # its name says the old content (or it was scratch)
    return record, store.ensure_volume(client, image, config.artifacts_dir, console)


def container_environment(config: RunConfig) -> dict[str, str]:
    """TensorFlow's C++ log is off in the image (TF_CPP_MIN_LOG_LEVEL=3); --verbose turns it on."""
    return {"TF_CPP_MIN_LOG_LEVEL": "0"} if config.verbose else {}


def measure(
    target: Target,
    measure_pass: MeasurePass,
    index: int,
    artifacts_volume: str | None,
    artifacts: dict[int, collect.Artifacts],
    config: RunConfig,
    run_id: str,
    console: Console,
    *,
    stop: threading.Event | None = None,
    bars: Progress | None = None,
) -> ContainerRecord:
    """One measure container on target: run it, collect and check what it wrote, record the rest.

    ``stop`` (set from another thread) interrupts it like Ctrl-C; ``bars`` is a progress display
    shared with containers of other machines that run at the same time.
    """
    from harness.host.run.progress import ContainerProgress

    image, label = image_tag(target.arch), target.host
    expected = _expected(target, measure_pass, artifacts, run_id)
    threads = expected.threads
    step = f"measure{index + 1}"
    done = collect.finished_pairs(config.results_dir, expected) if config.resume else set()
    if done and len(done) == len(expected.pairs()):
        console.print(f"[green]✓[/] {target.arch} on {label}: {step} already complete in run {run_id}")
        skipped = runner.RunOutcome(step, runner.OK, "ok (already complete)", 0, 0.0)
        return ContainerRecord(step, target.arch, label, target.emulated, skipped)
    check = _check_key(target, measure_pass, config, label) if target.emulated else None
    if check is not None and not config.reverify and not done:
        reused = _reuse_verification(check, expected, config, step, console)
        if reused is not None:
            return reused
    volume = artifacts_volume or store.ensure_volume(target.client, image, config.artifacts_dir, console)
    results_volume = f"quantbench-results-{run_id}-{target.arch}-{index}"
    volumes.remove_volume(target.client, results_volume)  # one left by a lost engine holds stale files
    volumes.create_volume(target.client, results_volume)
    mode = "emulated" if target.emulated else "native"
    title = f"{target.arch} {mode} on {label} b{','.join(map(str, measure_pass.batches))}"
    title += f" t{threads}" if measure_pass.threads else ""
    title += f" {measure_pass.scenario}" if measure_pass.scenario else ""
    size = expected.input_size
    title += f" @{size}×{size}" if size != SEED_INPUT_SIZE else ""
    try:
        volumes.make_dirs(target.client, image, results_volume, "out")
        if done:  # the bench's --resume skips what is already there
            finished = {
                f"out/{expected.file_name(v, b)}": config.results_dir / expected.file_name(v, b)
                for v, b in done
            }
            volumes.upload(target.client, image, results_volume, finished)
        spec = runner.ContainerSpec(
            image=image,
            command=measure_command(
                measure_pass,
                artifacts=store.CONTAINER_ARTIFACTS,
                out=f"{RESULTS_MOUNT}/out",
                threads=threads,
                host_label=label,
                run_id=run_id,
                resume=bool(done),
            ),
            name=f"quantbench-{run_id}-{target.arch}-{step}",
            limits=target.limits,
            labels=labels(run_id, target.arch, "measure", label),
            mounts=[
                runner.VolumeMount(volume, store.STORE_MOUNT, read_only=True),
                runner.VolumeMount(results_volume, RESULTS_MOUNT, read_only=False),
            ],
            emulation=target.emulation,
            environment=container_environment(config),
            timeout_s=config.timeout_s,
        )
        with ContainerProgress(console, title, verbose=config.verbose, bars=bars) as progress:
            outcome = runner.run_container(
                target.client,
                spec,
                progress.line,
                log_path(config, run_id, label, target.arch, step),
                stop=stop,
            )
            progress.finish(outcome.reason)
        with runner.sigint_ignored():  # results of an interrupted run are still saved
            record = _collect(target, expected, outcome, results_volume, done, config, step, console)
            if check is not None and record.finished and record.delivered_all:
                verified.remember(config.results_dir, check[0], check[1], _stored(config, expected))
    finally:
        volumes.remove_volume(target.client, results_volume)
    style = "green" if record.finished else "red"
    console.print(
        f"[{style}]{'✓' if style == 'green' else '✗'}[/] {title}: {record.reason} in "
        f"{outcome.duration_s:.0f} s, {record.results} results ({record.failed} not ok)"
    )
    return record


def _check_key(target: Target, measure_pass: MeasurePass, config: RunConfig, label: str) -> tuple[str, str]:
    """(the key of an emulated pass's check, the image id it runs): ``verified.check_key``."""
    image_id = target.client.images.get(image_tag(target.arch)).id
    command = measure_command(measure_pass, artifacts="", out="", threads=0, host_label=label, run_id="")
    key = verified.check_key(target.arch, image_id, store.local_key(config.artifacts_dir) or "", command)
    return key, image_id


def _reuse_verification(
    check: tuple[str, str], expected: collect.Expected, config: RunConfig, step: str, console: Console
) -> ContainerRecord | None:
    """This run's results of an emulated pass checked before with the same image and files."""
    found = verified.earlier(config.results_dir, check[0])
    if found is None:
        return None
    record, earlier = found
    if {(r.variant, r.batch) for r in earlier} != set(expected.pairs()):
        return None
    config.results_dir.mkdir(parents=True, exist_ok=True)
    for result in earlier:
        carried = verified.carried_over(result, expected.run_id, record)
        collect.store(dataclasses.replace(carried, host=expected.host), config.results_dir)
    console.print(
        f"[green]✓[/] {expected.arch} outputs verified on {record['date'][:10]} with image "
        f"{check[1][:19]} (run {record['run_id']}): not run again; --reverify to run again"
    )
    outcome = runner.RunOutcome(step, runner.OK, f"ok (verified in run {record['run_id']})", 0, 0.0)
    reused = ContainerRecord(step, expected.arch, expected.host, True, outcome, results=len(earlier))
    reused.delivered_all = True
    return reused


def _stored(config: RunConfig, expected: collect.Expected) -> list[schema.Result]:
    return [
        schema.load_result(config.results_dir / expected.file_name(variant, batch))
        for variant, batch in expected.pairs()
        if (config.results_dir / expected.file_name(variant, batch)).is_file()
    ]


def unmeasured(
    target: Target,
    measure_pass: MeasurePass,
    index: int,
    artifacts: dict[int, collect.Artifacts],
    config: RunConfig,
    run_id: str,
    reason: str,
) -> ContainerRecord:
    """Record a pass that could not run (its machine was lost): every result it owed and no
    earlier attempt delivered is stored ``failed`` with reason, for ``--resume`` to redo."""
    expected = _expected(target, measure_pass, artifacts, run_id)
    step = f"measure{index + 1}"
    done = collect.finished_pairs(config.results_dir, expected)
    outcome = runner.RunOutcome(step, runner.NOT_STARTED, reason, None, 0.0, [reason])
    record = ContainerRecord(step, target.arch, target.host, target.emulated, outcome)
    config.results_dir.mkdir(parents=True, exist_ok=True)
    for variant, batch in collect.undelivered(expected, [], done):
        result = collect.missing_result(expected, variant, batch, reason)
        if collect.store(result, config.results_dir, replace_unfinished=True) != collect.KEPT_EXISTING:
            record.results += 1
            record.failed += 1
    return record


def _expected(
    target: Target, measure_pass: MeasurePass, artifacts: dict[int, collect.Artifacts], run_id: str
) -> collect.Expected:
    """What one pass on target owes: every (variant, batch) of the run at its thread count and
    of the artifact set of its image side."""
    return collect.Expected(
        run_id,
        target.host,
        target.arch,
        target.emulated,
        measure_pass.threads or max(1, int(target.limits.cpus)),
        measure_pass.batches,
        artifacts[measure_pass.input_size],
        measure_pass.scenario,
        artifacts[measure_pass.input_size].input_size,  # a user's model: the root set at its own side
    )


def _collect(
    target: Target,
    expected: collect.Expected,
    outcome: runner.RunOutcome,
    results_volume: str,
    done: set[tuple[str, int]],
    config: RunConfig,
    step: str,
    console: Console,
) -> ContainerRecord:
    """Drain the results volume into the results folder, verified; record what is missing."""
    record = ContainerRecord(step, target.arch, target.host, target.emulated, outcome)
    config.results_dir.mkdir(parents=True, exist_ok=True)
    drained = Path(tempfile.mkdtemp(prefix="quantbench-drain-"))  # outside results/: reports never see it
    try:
        volumes.download(target.client, image_tag(target.arch), results_volume, "out", drained)
        delivered, warnings = collect.load_delivered(drained)
    finally:
        shutil.rmtree(drained, ignore_errors=True)
    for warning in warnings:
        console.print(f"[yellow]warning:[/] {warning}")
    delivered = [r for r in delivered if (r.variant, r.batch) not in done]
    if target.emulated:
        references = verify.native_references(collect.all_results(config.results_dir))
        delivered = [verify.check_emulated(result, references) for result in delivered]
    interrupted = outcome.kind == runner.INTERRUPTED
    reason = outcome.reason if not outcome.ok else "exited 0 without writing this result"
    status = schema.STATUS_INCOMPLETE if interrupted else schema.STATUS_FAILED
    missing = [
        collect.missing_result(expected, variant, batch, reason, status=status)
        for variant, batch in collect.undelivered(expected, delivered, done)
    ]
    for result in delivered + missing:
        if (
            collect.store(result, config.results_dir, replace_unfinished=config.resume)
            != collect.KEPT_EXISTING
        ):
            record.results += 1
            record.failed += result.status != schema.STATUS_OK
    record.delivered_all = collect.delivered_everything(delivered, missing, interrupted)
    return record
