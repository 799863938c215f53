"""``host tune``'s own step: the search in the native container, its set brought to the host.

The search (``quantbench tune --no-timing``) runs once, natively, beside nothing
timed: it reads the prepared artifacts (read-only) and writes the tune folder
into a volume named after the artifacts and the search's options, kept between
runs, so a stopped search resumes where it stopped. The folder is then copied to
the host (``tune/<model>/``); its ``set/`` is an artifact set like any other,
which every machine measures as ``host run`` measures the prepared one.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

from harness.errors import UserError
from harness.host import REPO_ROOT, image_tag
from harness.host.engine import runner, volumes
from harness.host.run import artifact_store as store
from harness.host.run.plan import ContainerRecord, RunConfig, TuneOptions, labels, limits_for, log_path
from harness.schema import TUNE_SET_FOLDER as SET_FOLDER

if TYPE_CHECKING:
    from rich.console import Console

    from harness.host.engine.connect import Engine

TUNE_MOUNT = "/mnt/tune"


def tune_folder(model: str) -> Path:
    """Where a model's tune folder lives on the host: tune/<model name>/ (its candidates' set, its
    results, tune.md, tune.png, ship/)."""
    name = "".join(c if c.isalnum() or c in "-_." else "-" for c in Path(model).name)
    return REPO_ROOT / "tune" / name


def search(
    engine: Engine,
    arch: str,
    config: RunConfig,
    options: TuneOptions,
    artifacts_volume: str,
    run_id: str,
    console: Console,
) -> tuple[ContainerRecord, Path]:
    """Run the search natively; return its record and the host's copy of the tune folder."""
    from harness.host.engine.emulation import emulation_run_options
    from harness.host.run.progress import ContainerProgress

    client, image = engine.client, image_tag(arch)
    key = options.key(store.local_key(config.artifacts_dir) or "")
    volume = f"quantbench-tune-{key}"
    if not volumes.volume_exists(client, volume):
        volumes.create_volume(client, volume, {"quantbench.tune": key})
        volumes.make_dirs(client, image, volume, "tune")
    spec = runner.ContainerSpec(
        image=image,
        command=[
            "tune",
            "--artifacts",
            store.CONTAINER_ARTIFACTS,
            "--out",
            f"{TUNE_MOUNT}/tune",
            "--results",
            f"{TUNE_MOUNT}/unused",
            "--no-timing",
            "--events",
            *options.arguments(),
        ],
        name=f"quantbench-{run_id}-tune",
        limits=limits_for(client, config),
        labels=labels(run_id, arch, "tune", engine.label),
        mounts=[
            runner.VolumeMount(artifacts_volume, store.STORE_MOUNT, read_only=True),
            runner.VolumeMount(volume, TUNE_MOUNT, read_only=False),
        ],
        emulation=emulation_run_options(arch, engine),
        environment={},
        timeout_s=config.timeout_s,
    )
    log_file = log_path(config, run_id, engine.label, arch, "tune")
    with ContainerProgress(console, f"tune search {arch}", verbose=config.verbose) as progress:
        outcome = runner.run_container(client, spec, progress.line, log_file)
        progress.finish(outcome.reason)
    record = ContainerRecord("tune", arch, engine.label, False, outcome)
    if outcome.kind == runner.INTERRUPTED:
        raise KeyboardInterrupt  # the volume stays: --resume finishes the search
    if not outcome.ok:
        tail = "\n".join(outcome.log_tail[-12:])
        console.print(f"[red]tune search output (last lines):[/]\n{tail}")
        raise UserError(
            f"the tune search failed ({outcome.reason}); see {log_file}, fix the cause and rerun."
        )
    target = tune_folder(config.model)
    staging = Path(tempfile.mkdtemp(dir=_parent(target), prefix=f".{target.name}.new-"))
    try:
        volumes.download(client, image, volume, "tune", staging)
        if (target / "results").is_dir():  # the tune runs' results stay where they are
            (target / "results").rename(staging / "results")
        volumes.replace_directory(staging, target)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    if not (target / SET_FOLDER / store.MANIFEST).is_file():
        raise UserError(f"the tune search wrote no candidate set into {target}; see {log_file}.")
    console.print(f"[green]✓[/] tune search: candidates and their set in {target}")
    return record, target


def _parent(target: Path) -> Path:
    target.parent.mkdir(parents=True, exist_ok=True)
    return target.parent
