"""Results that come back from a container, and the ones that did not.

Every delivered result is validated and written into the results folder with
``schema.write_result`` (temp file + link: nothing half-written, nothing
overwritten). Every (variant, batch) a container owed but did not deliver gets
a ``failed`` (or ``incomplete``, when interrupted) result that says why.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from harness import runtime_registry as registry
from harness import schema
from harness.bench import manifest as artifact_manifest  # plain JSON + hashlib: no TensorFlow
from harness.errors import UserError

WRITTEN = "written"
UNCHANGED = "unchanged"  # the same result is there already (e.g. a resumed run)
KEPT_EXISTING = "kept-existing"  # another result holds that name: it was not overwritten


@dataclass(frozen=True)
class Artifact:
    """One variant of the prepared artifacts, as a failed result must name it."""

    variant: str
    runtime: str  # e.g. "ai-edge-litert 2.3.0"
    sha256: str
    size_bytes: int


@dataclass(frozen=True)
class Artifacts:
    """What prepare made: the model, the data and every variant."""

    model: str
    data: str
    variants: tuple[Artifact, ...]
    input_size: int = schema.SEED_INPUT_SIZE  # the side this set's network takes


@dataclass(frozen=True)
class Expected:
    """What one measure container owes: every variant at every batch of its pass."""

    run_id: str
    host: str
    arch: str
    emulated: bool
    threads: int
    batches: tuple[int, ...]
    artifacts: Artifacts
    scenario: str = ""  # an MLPerf LoadGen scenario pass ("SingleStream", "Offline"), else ""
    input_size: int = schema.SEED_INPUT_SIZE  # the image side of its artifact set

    def pairs(self) -> list[tuple[str, int]]:
        return [(a.variant, batch) for batch in self.batches for a in self.artifacts.variants]

    def file_name(self, variant: str, batch: int) -> str:
        probe = schema.Result(variant, "", batch, self.threads, self.run_id, host=self.host, arch=self.arch)
        probe.scenario = self.scenario
        probe.input_size = self.input_size
        return probe.file_name()


def read_artifact_sets(directory: Path, input_sizes: tuple[int, ...]) -> dict[int, Artifacts]:
    """The artifacts of each image side (the seed's in directory, others in its subfolders)."""
    return {size: read_artifacts(artifact_manifest.set_directory(directory, size)) for size in input_sizes}


def read_artifacts(directory: Path) -> Artifacts:
    """The artifacts' manifest, reduced to what the host needs."""
    manifest = artifact_manifest.read_manifest(directory)
    runtimes = {
        runtime.name: f"{runtime.distribution} {manifest.versions.get(runtime.distribution, '?')}"
        for runtime in registry.runtimes()
    }
    entries = {e.name: e for e in manifest.variants}
    variants = tuple(
        Artifact(
            name,
            runtimes.get(entries[name].runtime, entries[name].runtime),
            entries[name].sha256,
            entries[name].size_bytes,
        )
        for name in schema.in_table_order(entries)
    )
    if not variants:
        raise UserError(
            f"{directory / artifact_manifest.MANIFEST_NAME} lists no known variant; rerun prepare."
        )
    return Artifacts(manifest.model, manifest.data, variants, manifest.input_size)


def load_delivered(directory: Path) -> tuple[list[schema.Result], list[str]]:
    """Valid results in a drained results folder, and a warning per file that is not one."""
    results, warnings = [], []
    if not directory.is_dir():
        return results, warnings
    for path in schema.find_result_files(directory):
        try:
            results.append(schema.load_result(path))
        except schema.SchemaError as error:
            warnings.append(f"{path.name} from the container is not a valid result ({error}): skipped")
    return results, warnings


def missing_result(
    expected: Expected, variant: str, batch: int, reason: str, *, status: str = schema.STATUS_FAILED
) -> schema.Result:
    """A result that records why (variant, batch) was not measured."""
    artifact = next(a for a in expected.artifacts.variants if a.variant == variant)
    family, precision, baseline = schema.variant_info(variant)
    now = datetime.now(UTC).isoformat(timespec="seconds")
    return schema.Result(
        variant=variant,
        runtime=artifact.runtime,
        batch=batch,
        threads=expected.threads,
        run_id=expected.run_id,
        status=status,
        error=reason,
        family=family,
        precision=precision,
        baseline_variant=baseline,
        data=expected.artifacts.data,
        model=expected.artifacts.model,
        model_bytes=artifact.size_bytes,
        artifact_sha256=artifact.sha256,
        host=expected.host,
        arch=expected.arch,
        emulated=expected.emulated,
        versions={"model": expected.artifacts.model},
        scenario=expected.scenario,
        input_size=expected.input_size,
        started_at=now,
        finished_at=now,
        warnings=[f"no measurement: the {expected.arch} container {reason}"],
    )


def undelivered(expected: Expected, delivered: list[schema.Result], done: set[tuple[str, int]]) -> list:
    """(variant, batch) pairs owed by the container that neither it nor an earlier run delivered."""
    got = {
        (r.variant, r.batch)
        for r in delivered
        if r.run_id == expected.run_id
        and r.arch == expected.arch
        and r.scenario == expected.scenario
        and r.input_size == expected.input_size
    }
    return [pair for pair in expected.pairs() if pair not in got and pair not in done]


def delivered_everything(
    delivered: list[schema.Result], missing: list[schema.Result], interrupted: bool
) -> bool:
    """Whether a container delivered every result it owed, each ``ok`` (see ContainerRecord.finished)."""
    return (
        not interrupted
        and bool(delivered)
        and not missing
        and all(r.status == schema.STATUS_OK for r in delivered)
    )


def finished_pairs(results_dir: Path, expected: Expected) -> set[tuple[str, int]]:
    """Pairs of this run, host and arch that already have an ``ok`` result (for --resume)."""
    done = set()
    for variant, batch in expected.pairs():
        path = results_dir / expected.file_name(variant, batch)
        try:
            if path.exists() and schema.load_result(path).status == schema.STATUS_OK:
                done.add((variant, batch))
        except schema.SchemaError:
            continue
    return done


def store(result: schema.Result, results_dir: Path, *, replace_unfinished: bool = False) -> str:
    """Write result into results_dir without ever overwriting a file.

    An identical result already there is UNCHANGED. With replace_unfinished (a
    resumed run), a failed or incomplete result of the same name is set aside first
    (``schema.set_aside``); any other existing file is KEPT_EXISTING.
    """
    try:
        schema.write_result(result, results_dir)
        return WRITTEN
    except FileExistsError:
        pass
    target = results_dir / result.file_name()
    try:
        existing = schema.load_result(target)
    except schema.SchemaError:
        existing = None
    if existing is not None and existing.to_json() == result.to_json():
        return UNCHANGED
    if replace_unfinished and (existing is None or existing.status != schema.STATUS_OK):
        schema.set_aside(target)
        try:
            schema.write_result(result, results_dir)
            return WRITTEN
        except FileExistsError:
            pass
    return KEPT_EXISTING


def all_results(results_dir: Path) -> list[schema.Result]:
    """Every valid result below results_dir (invalid files are the report's business)."""
    return load_delivered(results_dir)[0]


def latest_run_id(results_dir: Path) -> str | None:
    """The run id of the newest result file in results_dir (for --resume without --run-id)."""
    newest: tuple[float, str] | None = None
    if not results_dir.is_dir():
        return None
    for path in schema.find_result_files(results_dir):
        try:
            run_id = schema.load_result(path).run_id
        except schema.SchemaError:
            continue
        stamp = (path.stat().st_mtime, run_id)
        if newest is None or stamp > newest:
            newest = stamp
    return newest[1] if newest else None
