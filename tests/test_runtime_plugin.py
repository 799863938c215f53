"""A runtime is one folder: a copy of the package with one more folder measures and reports it.

No other file of the copy changes. The fake runtime is numpy only (a random
linear classifier, float and int8 weights), so the test is about the plumbing,
the float32 check included.
"""

from __future__ import annotations

import csv

import pytest

from tests.helpers import package_with_runtime, run_cli

pytest.importorskip("tensorflow")

DECLARATION = """
from harness.runtime_registry import RuntimeSpec, VariantSpec

RUNTIME = RuntimeSpec(
    name="fake",
    label="Fake",
    distribution="numpy",
    order=90,
    variants=(
        VariantSpec("fake-fp32", "fp32", "fake-fp32", "fake-fp32.npy", "a linear classifier"),
        VariantSpec("fake-int8", "int8", "fake-fp32", "fake-int8.npy", "its weights in int8"),
    ),
)
"""

CONVERTER = """
import numpy as np


def convert(variant, sources, target):
    weights = np.random.default_rng(0).normal(size=(32 * 32 * 3, 100)).astype(np.float32)
    if variant.precision == "int8":
        weights = np.round(weights / np.abs(weights).max() * 127).astype(np.int8)
    with open(target, "wb") as handle:
        np.save(handle, weights)
"""

RUNNER = """
from importlib import metadata

import numpy as np


class FakeRunner:
    def __init__(self, path):
        self.weights = np.load(path).astype(np.float32)
        self.runtime_name = f"numpy {metadata.version('numpy')}"
        self.images = None

    def prepare(self, batch, images):
        self.images = images.reshape(len(images), -1)
        self.call()

    def release(self):
        self.images = None

    def call(self):
        self.images @ self.weights

    def predict(self, images):
        return images.reshape(len(images), -1) @ self.weights

    def kernel_path(self, profile=False):
        return {"delegate": "none", "note": "numpy matmul"}


def load(path, threads):
    return FakeRunner(path)
"""


def test_a_runtime_folder_alone_adds_its_variants_to_prepare_measure_report_and_csv(tmp_path):
    package = package_with_runtime(tmp_path, "fake", DECLARATION, CONVERTER, RUNNER)
    artifacts, results = tmp_path / "artifacts", tmp_path / "results"
    assert (artifacts / "fake-int8.npy").is_file()

    timing = "--batch 2 --threads 1 --warmup 1 --warmup-seconds 0 --repeats 5 --min-seconds 0 --processes 1"
    paths = ("--artifacts", str(artifacts), "--out", str(results))
    proc = run_cli(
        "measure",
        "--max-rounds",
        "0",
        "--variants",
        "fake-fp32,fake-int8",
        *timing.split(),
        *paths,
        package=package,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]

    table = tmp_path / "report.csv"
    proc = run_cli("report", str(results), "--csv", str(table), package=package)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "fake-int8" in proc.stdout and "Fake " in proc.stdout  # the declared label names the runtime
    rows = {row["variant"]: row for row in csv.DictReader(table.open())}
    assert set(rows) == {"fake-fp32", "fake-int8"}
    assert rows["fake-int8"]["status"] == "ok" and rows["fake-int8"]["family"] == "fake"
    # a plug-in's float32 variant meets the same check as any: this one does not compute the
    # trained model (it is a random linear classifier), so it fails, naming itself
    assert rows["fake-fp32"]["status"] == "failed"
    assert rows["fake-fp32"]["error"].startswith("fake-fp32 (numpy ")
    assert "agrees with the trained float model on only" in rows["fake-fp32"]["error"]
