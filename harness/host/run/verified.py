"""Verify once: an emulated check of the same image and the same files is not run again.

An emulated pass proves the foreign arch's image runs every file and computes what native
does (``verify.py``); it measures nothing a later run needs again. So when a pass of the
same image (by id), the same artifacts (by their manifests' key) and the same pass
settings finished with every result ok, that is recorded under ``results/.verified/`` (a
hidden folder: no reader of results takes it for one);
the next run with all three unchanged takes those results into its own run (its run id,
a warning naming the run and date they come from) instead of running QEMU again.
``--reverify`` runs the check anyway. Any change of the image (a code change rebuilds it)
or of the files runs it again.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
from datetime import UTC, datetime
from pathlib import Path

from harness import schema

FOLDER = ".verified"


def check_key(arch: str, image_id: str, artifacts_key: str, pass_command: list[str]) -> str:
    """What makes two emulated checks the same check: the image, the files, the pass's settings
    (its command without the run's own id, host label and output path)."""
    kept = _settings(pass_command)
    facts = json.dumps({"arch": arch, "image": image_id, "artifacts": artifacts_key, "pass": kept})
    return hashlib.sha256(facts.encode()).hexdigest()[:20]


def _settings(command: list[str]) -> list[str]:
    dropped = {"--run-id", "--host", "--out"}
    kept, skip = [], False
    for part in command:
        if skip:
            skip = False
            continue
        if part in dropped:
            skip = True
            continue
        if part != "--resume":
            kept.append(part)
    return kept


def record_path(results_dir: Path, key: str) -> Path:
    return results_dir / FOLDER / f"{key}.json"


def remember(results_dir: Path, key: str, image_id: str, results: list[schema.Result]) -> None:
    """Record a finished check (every result ok): which run, when, and its result files."""
    path = record_path(results_dir, key)
    path.parent.mkdir(parents=True, exist_ok=True)
    record = {
        "image": image_id,
        "run_id": results[0].run_id,
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "files": sorted(result.file_name() for result in results),
    }
    temp = path.with_name(f".{path.name}.tmp")
    temp.write_text(json.dumps(record, indent=1))
    os.replace(temp, path)


def earlier(results_dir: Path, key: str) -> tuple[dict, list[schema.Result]] | None:
    """The recorded check and its results, when every one is still there and ok; else None."""
    path = record_path(results_dir, key)
    try:
        record = json.loads(path.read_text())
        results = [schema.load_result(results_dir / name) for name in record["files"]]
    except (OSError, ValueError, KeyError, schema.SchemaError):
        return None
    if not results or any(result.status != schema.STATUS_OK for result in results):
        return None
    return record, results


def carried_over(result: schema.Result, run_id: str, record: dict) -> schema.Result:
    """An earlier run's verified result as a result of this run, saying where it comes from."""
    note = (
        f"outputs verified in run {record['run_id']} on {record['date'][:10]} with image "
        f"{record['image'][:19]} and the same files; not run again (--reverify runs the check again)"
    )
    return dataclasses.replace(result, run_id=run_id, warnings=[*result.warnings, note])
