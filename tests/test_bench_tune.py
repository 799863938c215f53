"""quantbench tune on the tiny model: candidates made by each runtime's own tool, judged, gated,
timed by measure beside their float32, a stopped search resumed without redoing anything, the
tables and recommendations rebuilt from the results alone, the recommended files written."""

from __future__ import annotations

import importlib
import json

import pytest

from harness import schema
from harness.bench.tune import search as tune_search
from harness.bench.tune.recipe import CandidateRecord
from tests.helpers import run_cli

pytest.importorskip("onnxruntime")

RUNTIMES = ("ort", "litert")


def config(artifacts, out, **overrides) -> tune_search.TuneConfig:
    settings = {"runtimes": RUNTIMES, "max_candidates": 2, "threads": 1, **overrides}
    return tune_search.TuneConfig(artifacts, out, **settings)


def test_the_search_makes_judges_and_gathers_the_candidates_that_pass(tiny_artifacts, tmp_path):
    records = tune_search.search(config(tiny_artifacts, tmp_path))
    names = [r.name for r in records]
    assert names == ["ort-int8~qop-u8s8", "ort-int8-qdq~qdq-u8s8", "tflite-int8~int8", "tflite-int8~16x8"]
    assert all(r.status == tune_search.JUDGED and r.gate in ("pass", "fail") for r in records)
    assert all("agrees with its float32" in r.gate_rule for r in records)  # synthetic data: no labels
    assert all(r.agreement is not None and r.top1 is None for r in records)
    state = json.loads((tmp_path / tune_search.STATE_FILE).read_text())
    assert [c["name"] for c in state["candidates"]] == names
    manifest = json.loads((tmp_path / tune_search.SET_FOLDER / "manifest.json").read_text())
    entries = {e["name"]: e for e in manifest["variants"]}
    passed = {r.name for r in records if r.gate == "pass"}
    assert set(entries) == {"ort-fp32", "tflite-fp32"} | passed
    assert all(entries[name]["recipe"]["summary"] for name in passed)
    assert len(manifest["tune_search"]) == len(records)


def test_a_stopped_search_resumes_without_making_anything_again(tiny_artifacts, tmp_path, monkeypatch):
    module = importlib.import_module("harness.bench.runtimes.ort.recipes")
    original, calls = module.build, []

    def build(recipe, inputs, target):
        calls.append(recipe.id)
        if recipe.id == "qdq-u8s8" and calls.count("qdq-u8s8") == 1:
            raise KeyboardInterrupt  # stopped in the middle of the second candidate
        return original(recipe, inputs, target)

    monkeypatch.setattr(module, "build", build)
    with pytest.raises(KeyboardInterrupt):
        tune_search.search(config(tiny_artifacts, tmp_path, runtimes=("ort",)))
    state = json.loads((tmp_path / tune_search.STATE_FILE).read_text())
    assert [(c["name"], c["status"]) for c in state["candidates"]] == [("ort-int8~qop-u8s8", "judged")]
    assert not list((tmp_path / tune_search.SET_FOLDER).glob(".tmp-*"))  # nothing half-written left
    records = tune_search.search(config(tiny_artifacts, tmp_path, runtimes=("ort",)))
    assert calls == ["qop-u8s8", "qdq-u8s8", "qdq-u8s8"]  # the first was not made again
    assert [r.status for r in records] == [tune_search.JUDGED, tune_search.JUDGED]


def test_the_gate_follows_the_rule_and_the_maximum_drop():
    record = CandidateRecord("x~y", "ort", {}, top1=0.971, baseline_top1=0.980, agreement=0.95)
    assert tune_search.gate(record, None, labelled=True) == ("pass", "top-1 at least 99 % of its float32's")
    assert tune_search.gate(record, 0.5, labelled=True)[0] == "fail"  # 0.9 pt lost
    assert tune_search.gate(record, 1.0, labelled=True)[0] == "pass"
    assert tune_search.gate(record, None, labelled=False)[0] == "fail"  # 5 % of images disagree
    assert tune_search.gate(record, 5.0, labelled=False)[0] == "pass"


def test_tune_times_the_candidates_and_says_which_file_to_ship(tiny_artifacts, tmp_path):
    out, results = tmp_path / "tune", tmp_path / "results"
    proc = run_cli(
        *("tune", "--artifacts", str(tiny_artifacts), "--out", str(out), "--results", str(results)),
        *(
            "--runtimes",
            "ort",
            "--max-candidates",
            "2",
            "--max-drop",
            "100",
            "--batch",
            "1",
            "--threads",
            "1",
        ),
        *("--run-id", "t1"),
    )
    assert proc.returncode == 0, proc.stderr[-4000:]
    found = [schema.load_result(p) for p in schema.find_result_files(results)]
    assert {r.variant for r in found} == {"ort-fp32", "ort-int8~qop-u8s8", "ort-int8-qdq~qdq-u8s8"}
    assert all(r.status == schema.STATUS_OK and r.tune_search and r.tune_max_drop == 100 for r in found)
    candidate = next(r for r in found if r.variant == "ort-int8~qop-u8s8")
    assert candidate.recipe["id"] == "qop-u8s8" and candidate.baseline_variant == "ort-fp32"
    assert candidate.timing_round and len(set(candidate.timing_process)) >= 2  # paired rounds
    assert "Which int8 to ship" in proc.stdout and "ONNX Runtime:" in proc.stdout
    assert "overall:" in proc.stdout
    markdown = (out / "tune.md").read_text()
    assert "| ort-int8~qop-u8s8 | quantize_static QOperator" in markdown
    shipped = list((out / "ship").rglob("recipe.json"))
    if "ONNX Runtime: ship" in proc.stdout:  # a pick is written with its recipe
        facts = json.loads(shipped[0].read_text())
        assert facts["runtime"] == "ONNX Runtime" and (shipped[0].parent / facts["file"]).is_file()
    else:
        assert shipped == []
