"""Threads a variant asked for vs threads it used: the warning fires for a runner that ignores them.

A fake runtime (one folder, added to a copy of the package) has two variants
whose calls do the same hashing: its float variant splits the work over the
threads it is given, its int8 variant ignores the count and hashes on one
thread. Measured with ``--threads 1,2``, only the int8 one gets the warning, and
the report draws the scaling table with what each used.
"""

from __future__ import annotations

import json
import os

import pytest

from tests.helpers import package_with_runtime, run_cli

pytest.importorskip("tensorflow")

DECLARATION = """
from harness.runtime_registry import RuntimeSpec, VariantSpec

RUNTIME = RuntimeSpec(
    name="hashing",
    label="Hashing",
    distribution="numpy",
    order=91,
    variants=(
        VariantSpec("hash-fp32", "fp32", "hash-fp32", "hash-fp32.npy", "hashes on its threads"),
        VariantSpec("hash-int8", "int8", "hash-fp32", "hash-int8.npy", "ignores its thread count"),
    ),
)
"""

CONVERTER = """
import numpy as np


def convert(variant, sources, target):
    with open(target, "wb") as handle:
        np.save(handle, np.zeros((32 * 32 * 3, 100), np.float32))
"""

# hashlib releases the GIL on large buffers, so Python threads really run in parallel
RUNNER = """
import hashlib
import threading
from importlib import metadata

import numpy as np

BLOCK = b"x" * (4 << 20)


def hash_blocks(count):
    for _ in range(count):
        hashlib.sha256(BLOCK).digest()


class HashRunner:
    def __init__(self, path, threads):
        self.weights = np.load(path)
        self.threads = threads if "fp32" in str(path) else 1  # int8: ignores its thread count
        self.runtime_name = f"numpy {metadata.version('numpy')}"

    def prepare(self, batch, images):
        self.call()

    def release(self):
        pass

    def call(self):
        share = 8 // self.threads
        workers = [threading.Thread(target=hash_blocks, args=(share,)) for _ in range(self.threads)]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join()

    def predict(self, images):
        return images.reshape(len(images), -1) @ self.weights

    def kernel_path(self, profile=False):
        return {"delegate": "none"}


def load(path, threads):
    return HashRunner(path, threads)
"""


@pytest.mark.skipif((os.cpu_count() or 1) < 2, reason="needs 2 CPUs to use 2 threads")
def test_a_runner_that_ignores_its_thread_count_is_named_and_the_scaling_table_shows_it(tmp_path):
    package = package_with_runtime(tmp_path, "hashing", DECLARATION, CONVERTER, RUNNER)
    artifacts, results = tmp_path / "artifacts", tmp_path / "results"

    timing = (
        "--batch 2 --threads 1,2 --warmup 1 --warmup-seconds 0 --repeats 6 --min-seconds 0.3 --processes 2"
    )
    paths = ("--artifacts", str(artifacts), "--out", str(results))
    proc = run_cli(
        "measure",
        "--max-rounds",
        "0",
        "--variants",
        "hash-fp32,hash-int8",
        *timing.split(),
        *paths,
        package=package,
    )
    # hash-fp32 fails the float32 check (it computes no model): a non-zero exit, results written
    assert "wrote 4 results" in proc.stdout, proc.stderr[-3000:]

    found = {}
    for path in results.glob("*.json"):
        raw = json.loads(path.read_text())
        found[(raw["variant"], raw["threads"])] = raw
    assert set(found) == {(v, t) for v in ("hash-fp32", "hash-int8") for t in (1, 2)}
    used = {key: raw["timed_cpu_s"] / raw["timed_wall_s"] for key, raw in found.items()}
    assert used[("hash-int8", 2)] < 1.25, used  # it ignored the second thread
    # its twin used it: the measure tells them apart (judged relative to one thread, so that a
    # busy machine, which gives every thread less than a core, does not decide the test)
    gain = {v: used[(v, 2)] / used[(v, 1)] for v in ("hash-fp32", "hash-int8")}
    assert gain["hash-fp32"] > 1.15 * gain["hash-int8"], used
    warned = [w for w in found[("hash-int8", 2)]["warnings"] if "asked for 2 threads and used about 1" in w]
    assert warned and warned[0].startswith("hash-int8 "), found[("hash-int8", 2)]["warnings"]
    assert not any("used about 1" in w for w in found[("hash-int8", 1)]["warnings"])  # 1 asked, 1 used

    proc = run_cli("report", str(results), package=package, env={"COLUMNS": "200"})
    assert proc.returncode == 0, proc.stderr[-3000:]
    table = proc.stdout[proc.stdout.index("Thread scaling") :]
    lines = {line.split()[2]: line for line in table.splitlines() if "hash-" in line}
    # a row per ok variant ("machine arch variant ..."): hash-fp32 failed its float32 check
    assert set(lines) == {"hash-int8"}
    assert f"{used[('hash-int8', 2)]:.2f}" in lines["hash-int8"]
