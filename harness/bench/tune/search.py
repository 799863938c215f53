"""The search: every runtime's recipes made into candidate files, judged on eval images, and the
ones that keep the accuracy gathered into a set that measure times like any artifact set.

Bounded (``budget_s`` for making and judging, ``max_candidates`` per runtime) and
resumable: what the search learnt of each candidate is written to ``tune.json``
after every step (a write that replaces the file whole), and a candidate made or
judged before is never made or judged again. The gate is judged on the eval
images, which no recipe calibrates on: a top-1 drop of at most ``max_drop`` points
against the runtime's own float32 (without labels: agreement with it), or by
default the 99 % rule (top-1 at least 99 % of the float32's).
"""

from __future__ import annotations

import importlib
import json
import os
import shutil
import time
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from harness.bench import manifest as mf
from harness.bench.conversion import remove_path
from harness.bench.preprocess import model_inputs
from harness.bench.progress import StepProgress
from harness.bench.sources.base import reason_of
from harness.bench.tune.recipe import CandidateRecord, Recipe, TuneInputs
from harness.errors import UserError
from harness.runtime_registry import RUNTIMES_PACKAGE, runtime_named
from harness.schema import TUNE_SET_FOLDER as SET_FOLDER

STATE_FILE = "tune.json"
TUNED_RUNTIMES = ("litert", "ort", "openvino")
MADE, NOT_MADE, JUDGED, NOT_TRIED = "made", "not made", "judged", "not tried"


@dataclass(frozen=True)
class TuneConfig:
    """What to search and how far."""

    artifacts: Path  # a prepared set (with its calibration.npz)
    out: Path  # the tune folder: tune.json and set/
    runtimes: tuple[str, ...] = TUNED_RUNTIMES
    max_candidates: int = 8  # per runtime, in its recipes' order
    budget_s: float = 900.0  # making and judging candidates, in all
    max_drop: float | None = None  # top-1 points (agreement points without labels); None: the 99 % rule
    threads: int = 2  # for judging (not timed)


def recipes_of(runtime: str) -> tuple[Recipe, ...]:
    return importlib.import_module(f"{RUNTIMES_PACKAGE}.{runtime}.recipes").RECIPES


def search(config: TuneConfig, log: StepProgress | None = None) -> list[CandidateRecord]:
    """Make and judge every runtime's candidates (resuming ``tune.json``), then write the set of
    the runtimes' float32 files and the candidates that pass the gate; every record, in order."""
    log = log or StepProgress("tune")
    manifest = mf.read_manifest(config.artifacts)
    unknown = [r for r in config.runtimes if r not in TUNED_RUNTIMES]
    if unknown:
        raise UserError(f"cannot tune {', '.join(unknown)}; tune one of: {', '.join(TUNED_RUNTIMES)}.")
    inputs = _inputs(config, manifest)
    records = _load_state(config.out)
    plan = [
        (runtime, recipe)
        for runtime in config.runtimes
        for recipe in recipes_of(runtime)[: config.max_candidates]
    ]
    log.total = 2 * len(plan)
    judge = _Judge(config, manifest)
    started = time.monotonic()
    for runtime, recipe in plan:
        record = records.setdefault(
            recipe.candidate, CandidateRecord(recipe.candidate, runtime, _recipe_dict(recipe))
        )
        if record.status in (JUDGED, NOT_MADE):
            log.advance(2, f"{record.name}: {record.status} before (resumed)")
            continue
        if time.monotonic() - started > config.budget_s:
            record.status, record.reason = (
                NOT_TRIED,
                f"the search's budget of {config.budget_s:g} s was spent",
            )
            log.advance(2, f"{record.name}: not tried (budget spent)")
            continue
        if record.status != MADE:
            _make(recipe, inputs, config, record, log)
            _save_state(config.out, records)
        log.advance(1, f"{record.name}: {record.status}")
        if record.status == MADE:
            judge(record)
            _save_state(config.out, records)
        log.advance(1, f"{record.name}: gate {record.gate or record.status}")
    _save_state(config.out, records)
    _write_set(config, manifest, [records[recipe.candidate] for _, recipe in plan])
    return [records[recipe.candidate] for _, recipe in plan]


def _recipe_dict(recipe: Recipe) -> dict:
    return {"id": recipe.id, "variant": recipe.variant, "summary": recipe.summary, "options": recipe.options}


def _inputs(config: TuneConfig, manifest: mf.Manifest) -> TuneInputs:
    path = config.artifacts / mf.CALIBRATION_FILE
    if not path.is_file():
        raise UserError(
            f"{config.artifacts} has no {mf.CALIBRATION_FILE} (prepared by an older quantbench); "
            "prepare it again, then tune."
        )
    with np.load(path) as archive:
        images, labels = archive["images"], archive["labels"]
    config.out.mkdir(parents=True, exist_ok=True)
    scratch = config.out / "scratch"
    scratch.mkdir(exist_ok=True)
    made = {entry.name: entry for entry in manifest.variants}

    def file_of(name: str) -> Path | None:
        return mf.verify_artifact(config.artifacts, made[name]) if name in made else None

    return TuneInputs(
        artifacts=config.artifacts,
        calibration=model_inputs(images, manifest.normalize),
        calibration_labels=labels if labels.min() >= 0 else None,
        onnx_layout=made["ort-fp32"].input_layout if "ort-fp32" in made else "NHWC",
        scratch=scratch,
        max_drop=config.max_drop if config.max_drop is not None else 1.0,
        float_onnx=file_of("ort-fp32"),
        float_saved_model=file_of("tf-fp32"),
        qat_tflite=file_of("tflite-int8-qat"),
    )


def _make(
    recipe: Recipe, inputs: TuneInputs, config: TuneConfig, record: CandidateRecord, log: StepProgress
) -> None:
    """Build one candidate into the set folder through a temp path; record how it went."""
    module = importlib.import_module(f"{RUNTIMES_PACKAGE}.{record.runtime}.recipes")
    runtime = runtime_named(record.runtime)
    variant = next(v for v in runtime.variants if v.name == recipe.variant)
    suffix = Path(variant.artifact).suffix
    name = f"{recipe.candidate}{suffix}"
    folder = config.out / SET_FOLDER
    folder.mkdir(parents=True, exist_ok=True)
    temp, target = folder / f".tmp-{name}", folder / name
    remove_path(temp)
    log(f"making {recipe.candidate}: {recipe.summary}")
    started = time.perf_counter()
    try:
        module.build(recipe, inputs, temp)
    except Exception as error:  # a tool that refuses the model: recorded, the search goes on
        remove_path(temp)
        record.status, record.reason = NOT_MADE, reason_of(error, f"{runtime.label}'s {recipe.id} recipe")
        log.message("warning", f"not made: {recipe.candidate}: {record.reason}")
        return
    remove_path(target)
    temp.replace(target)
    record.status, record.file = MADE, f"{SET_FOLDER}/{name}"
    record.sha256, record.size_bytes = mf.path_sha256(target), mf.path_size(target)
    record.build_s = round(time.perf_counter() - started, 2)


class _Judge:
    """Top-1 and agreement of candidates against their runtime's float32, on the eval images."""

    def __init__(self, config: TuneConfig, manifest: mf.Manifest) -> None:
        from harness.bench.eval_set import load_eval_set

        self._config = config
        self._manifest = manifest
        self._images, self._labels = load_eval_set(config.artifacts / manifest.eval_file, None)
        self._baselines: dict[str, np.ndarray] = {}

    def _predict(self, runtime: str, path: Path, layout: str) -> np.ndarray:
        from harness.bench.runtimes import load_runner

        runner = load_runner(runtime, path, self._config.threads)
        scores = runner.predict(model_inputs(self._images, self._manifest.normalize, layout))
        return np.asarray(scores).argmax(axis=1)

    def _baseline(self, runtime: str) -> np.ndarray:
        if runtime not in self._baselines:
            name = runtime_named(runtime).float_variant
            entry = self._manifest.entry(name)
            path = mf.verify_artifact(self._config.artifacts, entry)
            self._baselines[runtime] = self._predict(runtime, path, entry.input_layout)
        return self._baselines[runtime]

    def __call__(self, record: CandidateRecord) -> None:
        baseline = self._baseline(record.runtime)
        layout = self._layout(record.runtime)
        predictions = self._predict(record.runtime, self._config.out / record.file, layout)
        record.agreement = round(float(np.mean(predictions == baseline)), 4)
        labelled = self._manifest.has_labels
        if labelled:
            record.top1 = round(float(np.mean(predictions == self._labels)), 4)
            record.baseline_top1 = round(float(np.mean(baseline == self._labels)), 4)
        record.gate, record.gate_rule = gate(record, self._config.max_drop, labelled)
        record.status = JUDGED

    def _layout(self, runtime: str) -> str:
        name = runtime_named(runtime).float_variant
        return self._manifest.entry(name).input_layout


def gate(record: CandidateRecord, max_drop: float | None, labelled: bool) -> tuple[str, str]:
    """("pass" or "fail", the rule in words) for a judged candidate."""
    if labelled:
        if max_drop is None:
            passed = record.top1 >= 0.99 * record.baseline_top1
            rule = "top-1 at least 99 % of its float32's"
        else:
            passed = (record.baseline_top1 - record.top1) * 100 <= max_drop + 1e-9
            rule = f"top-1 at most {max_drop:g} pt below its float32's"
    else:
        limit = 1.0 if max_drop is None else max_drop
        passed = (1 - record.agreement) * 100 <= limit + 1e-9
        rule = f"agrees with its float32 on at least {100 - limit:g} % of images (no labels)"
    return ("pass" if passed else "fail"), rule


def _write_set(config: TuneConfig, manifest: mf.Manifest, records: list[CandidateRecord]) -> Path:
    """The set measure times: each tuned runtime's float32 file and every candidate that passed."""
    folder = config.out / SET_FOLDER
    entries = []
    for runtime in config.runtimes:
        name = runtime_named(runtime).float_variant
        if name not in {e.name for e in manifest.variants}:
            continue
        entry = manifest.entry(name)
        source, target = config.artifacts / entry.file, folder / entry.file
        if not target.exists():
            shutil.copytree(source, target) if source.is_dir() else shutil.copyfile(source, target)
        entries.append(entry)
    for record in records:
        if record.status != JUDGED or record.gate != "pass":
            continue
        base = (
            manifest.entry(record.recipe["variant"])
            if record.recipe["variant"] in {e.name for e in manifest.variants}
            else None
        )
        layout = (
            base.input_layout if base else ("NHWC" if record.runtime == "litert" else entries[0].input_layout)
        )
        entries.append(
            mf.ArtifactEntry(
                record.name,
                record.runtime,
                record.file.removeprefix(f"{SET_FOLDER}/"),
                record.sha256,
                record.size_bytes,
                record.build_s,
                input_layout=layout,
                recipe=record.recipe,
            )
        )
    eval_file = folder / manifest.eval_file
    if not eval_file.exists():
        shutil.copyfile(config.artifacts / manifest.eval_file, eval_file)
    tuned = replace(
        manifest,
        variants=entries,
        tune_search=[record.as_dict() for record in records],
        tune_max_drop=config.max_drop,
    )
    mf.write_manifest(tuned, folder)
    return folder


def _load_state(out: Path) -> dict[str, CandidateRecord]:
    path = out / STATE_FILE
    if not path.is_file():
        return {}
    try:
        raw = json.loads(path.read_text())
        return {item["name"]: CandidateRecord(**item) for item in raw["candidates"]}
    except (ValueError, KeyError, TypeError) as error:
        raise UserError(f"{path} is corrupt ({error}); delete it to search again from the start.") from error


def _save_state(out: Path, records: dict[str, CandidateRecord]) -> None:
    out.mkdir(parents=True, exist_ok=True)
    temp = out / f".{STATE_FILE}.tmp"
    temp.write_text(json.dumps({"candidates": [r.as_dict() for r in records.values()]}, indent=1))
    os.replace(temp, out / STATE_FILE)
