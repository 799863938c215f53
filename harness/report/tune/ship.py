"""The recommended files, written where a user finds them, each with the recipe that made it."""

from __future__ import annotations

import json
import shutil
from collections.abc import Sequence
from pathlib import Path

from harness.report import fmt
from harness.report.tune.model import CandidateLine, TuneTable
from harness.schema import slug

RECIPE_FILE = "recipe.json"


def ship(tables: Sequence[TuneTable], tune_set: Path, out: Path) -> list[Path]:
    """Copy each table's recommended files from the tune set into
    ``out/<host>_<arch>_b<batch>/<runtime>/`` beside a recipe.json; the folders written."""
    written = []
    for table in tables:
        for runtime, line in table.picks.items():
            source = tune_set / line.file
            if not line.file or not source.exists():
                continue
            folder = out / slug(f"{table.host}_{table.arch}_b{table.batch}") / slug(runtime)
            shutil.rmtree(folder, ignore_errors=True)
            folder.mkdir(parents=True)
            target = folder / line.file
            shutil.copytree(source, target) if source.is_dir() else shutil.copyfile(source, target)
            (folder / RECIPE_FILE).write_text(json.dumps(_facts(table, line), indent=1) + "\n")
            written.append(folder)
    return written


def _facts(table: TuneTable, line: CandidateLine) -> dict:
    return {
        "file": line.file,
        "candidate": line.name,
        "runtime": line.runtime,
        "recipe": line.recipe,
        "machine": table.machine,
        "batch": table.batch,
        "threads": table.threads,
        "speedup_vs_its_float32": fmt.ratio(line.speedup),
        "accuracy_change": f"{line.accuracy_label} {fmt.points(line.accuracy_pt)} pt",
        "gate": f"{line.gate} ({table.gate_rule})",
        "overall_pick": table.overall is line,
    }
