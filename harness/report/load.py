"""Find, validate and merge result files from one or more directories.

Bad files never stop a report: each one becomes a warning that names the
file and the reason, and the rest still renders. Only "nothing to report"
is a user error.
"""

from __future__ import annotations

import json
import shlex
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from harness.errors import UserError
from harness.report.model_choice import UnknownModel, choose_model
from harness.schema import STATUS_OK, VARIANTS, Result, SchemaError, find_result_files, is_known_variant

# The report's own --json output may sit in the results folder: skip it quietly.
REPORT_KIND = "quantbench.report"

MERGE_RULE = (
    "when the same (host, arch, variant, scenario, batch, threads) appears in several runs, "
    "the newest complete run is used (by finish time, then run id); older runs are set aside"
)
# The same rule, said when some result is off the seed's input shape (the shape is always part of
# the key; with every result at the seed's it changes nothing, and the report reads as before).
MERGE_RULE_SHAPES = MERGE_RULE.replace("scenario, batch", "scenario, input shape, batch")

ResultKey = tuple[str, str, bool, str, str, int, int, int]


@dataclass
class LoadedResults:
    """Valid results (one per key after merging) plus what was skipped and why."""

    results: list[Result]
    file_warnings: list[str] = field(default_factory=list)
    superseded: int = 0  # older runs of a key that the merge rule set aside
    files_read: int = 0
    merge_rule: str = MERGE_RULE
    # one line per model the results also hold that was left out (one model per report)
    model_notes: list[str] = field(default_factory=list)


def result_key(result: Result) -> ResultKey:
    """What one measurement is of; emulated is part of it so QEMU never replaces native, and the
    input shape so a 224×224 result never replaces a 32×32 one."""
    where = (result.host, result.arch, result.emulated)
    return (*where, result.variant, result.scenario, result.input_size, result.batch, result.threads)


def load_directories(
    directories: Sequence[Path],
    *,
    role: str = "results",
    run_id: str | None = None,
    model: str | None = None,
    command: str = "quantbench report",
) -> LoadedResults:
    """Load every result under the given directories (of run_id only, when given), keep one
    model's (``model``, else the newest run's: ``model_choice``), and merge them into one set.

    Raises UserError when a directory is missing, holds no JSON files, holds no valid result at
    all, or holds no result of ``model``. ``role`` names the directories in messages; ``command``
    is what a note about a model left out says to run (with the directories and --model) instead.
    """
    paths = _candidate_files(directories, role)
    loaded: list[Result] = []
    warnings: list[str] = []
    for path in paths:
        result = _read_one(path, warnings)
        if result is not None and run_id in (None, result.run_id):
            loaded.append(result)
    names = ", ".join(str(d) for d in directories)
    if not loaded:
        first = f" (first problem: {warnings[0]})" if warnings else ""
        if run_id is not None:
            first = f" of run {run_id}{first}"
        raise UserError(
            f"no valid quantbench result in {role} directory {names}{first}; "
            "point at the folder that `python -m harness host run` wrote."
        )
    try:
        choice = choose_model(loaded, model)
    except UnknownModel as error:
        raise UserError(error.sentence(role, names)) from None
    if role == "results":
        fix = " ".join([command, *(shlex.quote(str(d)) for d in directories)])
        fix += f" --run-id {shlex.quote(run_id)}" if run_id is not None else ""
        notes = choice.notes("the model of the newest run" if model is None else f"--model {model}", fix)
    else:
        notes = choice.notes("the new results' model", None)
    merged, superseded = merge_runs(choice.kept.results)  # the merge rule within one model
    return LoadedResults(
        results=merged,
        file_warnings=warnings,
        superseded=superseded,
        files_read=len(paths),
        model_notes=notes,
    )


def merge_runs(results: Sequence[Result]) -> tuple[list[Result], int]:
    """Apply MERGE_RULE; return the kept results and how many were set aside."""
    newest: dict[ResultKey, Result] = {}
    for result in results:
        key = result_key(result)
        if key not in newest or _recency(result) > _recency(newest[key]):
            newest[key] = result
    return list(newest.values()), len(results) - len(newest)


def _recency(result: Result) -> tuple[bool, str, str]:
    # A complete run beats an interrupted or failed one; then the latest timestamp wins.
    return (result.status == STATUS_OK, str(result.finished_at or result.started_at or ""), result.run_id)


def _candidate_files(directories: Sequence[Path], role: str) -> list[Path]:
    if not directories:
        raise UserError(f"no {role} directory given; pass at least one, e.g. results/.")
    seen: dict[Path, Path] = {}
    for directory in directories:
        if not directory.exists():
            raise UserError(f"{role} directory {directory} does not exist; check the path.")
        if not directory.is_dir():
            raise UserError(f"{directory} is not a directory; pass the folder that holds result JSON.")
        for path in find_result_files(directory):
            # Nested or repeated directories must not count the same file twice.
            seen.setdefault(path.resolve(), path)
    if not seen:
        names = ", ".join(str(d) for d in directories)
        raise UserError(
            f"{role} directory {names} holds no result files (*.json); "
            "run `python -m harness host run` first or point at the right folder."
        )
    return sorted(seen.values())


def _read_one(path: Path, warnings: list[str]) -> Result | None:
    try:
        raw = json.loads(path.read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        warnings.append(f"skipped {path}: cannot read JSON ({error})")
        return None
    if isinstance(raw, dict) and raw.get("kind") == REPORT_KIND:
        return None
    try:
        result = Result.from_dict(raw)
        _check_shapes(result)
        return result
    except (SchemaError, TypeError) as error:
        # TypeError: a field of the right name but a shape from_dict cannot take.
        warnings.append(f"skipped {path}: {error}")
        return None


def _check_shapes(result: Result) -> None:
    """Types the report relies on that the schema's own check leaves open."""
    expected = {
        "host": str,
        "arch": str,
        "runtime": str,
        "run_id": str,
        "batch": int,
        "threads": int,
        "input_size": int,
        "timings_s": list,
        "isa_flags": list,
        "warnings": list,
        "kernel_path": dict,
    }
    if result.emulated is not None and not isinstance(result.emulated, bool):
        raise SchemaError(f"emulated is {type(result.emulated).__name__}, not bool or null")
    for name, kind in expected.items():
        value = getattr(result, name)
        if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
            raise SchemaError(f"{name} is {type(value).__name__}, not {kind.__name__}")
    if not is_known_variant(result.variant):
        raise SchemaError(f"unknown variant {result.variant!r} (known: {', '.join(VARIANTS)})")
