"""Faults on the bench side: nothing lost, nothing half-written, the user told what happened."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from harness import schema
from tests.helpers import REPO, assert_clean_user_error, measure_args, run_cli

needs_root = pytest.mark.skipif(os.geteuid() != 0, reason="mounting a tmpfs needs root")


def valid_results(directory: Path) -> list[schema.Result]:
    return [schema.load_result(p) for p in schema.find_result_files(directory)]


def test_sigint_keeps_partial_results_and_resume_completes_them(tiny_artifacts, tmp_path):
    out = tmp_path / "r"
    env = {**os.environ, "PYTHONPATH": str(REPO), "TF_CPP_MIN_LOG_LEVEL": "3"}
    args = measure_args(tiny_artifacts, out, "--variants", "tflite-fp32,tflite-int8", "--batch", "1,2")
    proc = subprocess.Popen(
        [sys.executable, "-m", "harness", *args, "--repeats", "100000000", "--run-id", "cut"],
        cwd=REPO,
        env=env,
        stderr=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    timing_started = threading.Event()
    err_lines: list[str] = []

    def watch(stream) -> None:
        for line in stream:
            err_lines.append(line)
            if "timing" in line:
                timing_started.set()

    watcher = threading.Thread(target=watch, args=(proc.stderr,), daemon=True)
    watcher.start()
    assert timing_started.wait(timeout=300), "measure never reached the timed rounds"
    time.sleep(1)
    proc.send_signal(signal.SIGINT)
    proc.wait(timeout=120)
    watcher.join(timeout=10)
    err = "".join(err_lines)
    assert proc.returncode == 130, err[-2000:]
    assert "Traceback" not in err and "partial results were kept" in err
    partial = valid_results(out)
    # every owed (variant, batch) is on disk, incomplete; the one being timed kept its calls
    assert sorted((r.variant, r.batch) for r in partial) == [
        ("tflite-fp32", 1),
        ("tflite-fp32", 2),
        ("tflite-int8", 1),
        ("tflite-int8", 2),
    ]
    assert all(r.status == "incomplete" for r in partial)
    assert [r.batch for r in partial if r.repeats > 0] == [1]
    assert all(any("--resume" in w for w in r.warnings) for r in partial)

    resumed = run_cli(*args, "--repeats", "3", "--run-id", "cut", "--resume")
    assert resumed.returncode == 0, resumed.stderr[-2000:]
    final = valid_results(out)
    assert sorted((r.variant, r.batch, r.status) for r in final) == [
        ("tflite-fp32", 1, "ok"),
        ("tflite-fp32", 2, "ok"),
        ("tflite-int8", 1, "ok"),
        ("tflite-int8", 2, "ok"),
    ]
    kept = sorted(out.glob("*.superseded"))  # the interrupted files are kept, out of the report's way
    assert len(kept) == 4 and all(json.loads(p.read_text())["status"] == "incomplete" for p in kept)


def test_truncated_result_is_named_and_remeasured_on_resume(tiny_artifacts, tmp_path):
    out = tmp_path / "r"
    args = measure_args(tiny_artifacts, out, "--variants", "tflite-int8", "--batch", "1,2", "--repeats", "2")
    assert run_cli(*args, "--run-id", "tr").returncode == 0
    broken = next(p for p in schema.find_result_files(out) if "_b2_" in p.name)
    broken.write_text(broken.read_text()[:100])
    proc = run_cli(*args, "--run-id", "tr", "--resume")
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert f"{broken} is not a valid result" in proc.stderr
    assert sorted(r.batch for r in valid_results(out)) == [1, 2]


@needs_root
def test_disk_full_keeps_earlier_results_valid(tiny_artifacts, tmp_path):
    out = tmp_path / "small"
    out.mkdir()
    # room for a few results of ~50 KB each (the first images' class probabilities are most of
    # one), not for the 52 this run writes
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=256k", "tmpfs", str(out)], check=True)
    try:
        proc = run_cli(
            *measure_args(tiny_artifacts, out, "--variants", "all", "--batch", "1,2,3,4", "--repeats", "2")
        )
        assert_clean_user_error(proc, "No space left on device", "intact", "--resume")
        kept = schema.find_result_files(out)
        assert kept, "some results fit before the disk filled"
        assert all(schema.load_result(p).status == "ok" for p in kept)  # every file whole
        assert not list(out.glob(".tmp-*")), "no half-written temp file is left"
    finally:
        subprocess.run(["umount", str(out)], check=True)


def test_results_dir_that_cannot_be_created(tiny_artifacts, tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("")
    proc = run_cli(*measure_args(tiny_artifacts, blocker / "r"))
    assert_clean_user_error(proc, "cannot create the results directory")


@needs_root
def test_read_only_results_dir(tiny_artifacts, tmp_path):
    out = tmp_path / "ro"
    out.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "ro,size=16k", "tmpfs", str(out)], check=True)
    try:
        assert_clean_user_error(run_cli(*measure_args(tiny_artifacts, out)), "not writable")
    finally:
        subprocess.run(["umount", str(out)], check=True)


def test_more_threads_than_cores_warns(tiny_artifacts, tmp_path):
    args = measure_args(
        tiny_artifacts, tmp_path / "r", "--variants", "tflite-int8", "--batch", "1", "--repeats", "2"
    )
    args[args.index("--threads") + 1] = str((os.cpu_count() or 1) + 7)
    proc = run_cli(*args)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "is more than the" in proc.stderr


def _worker_of(parent_pid: int, variant: str):
    import psutil

    for child in psutil.Process(parent_pid).children(recursive=True):
        try:
            command = " ".join(child.cmdline())
        except psutil.Error:
            continue
        if "harness.bench.worker" in command and f'"variant": "{variant}"' in command:
            return child
    return None


def test_a_dead_worker_fails_its_variant_only_and_the_parent_holds_no_model(tiny_artifacts, tmp_path):
    """Kill the first worker while it times (a known point), then interrupt the run while the
    second one times: the first variant's result is failed with the reason, the second's
    incomplete, none lost; the parent measure process never loaded TensorFlow or LiteRT."""
    import psutil

    out = tmp_path / "r"
    env = {**os.environ, "PYTHONPATH": str(REPO), "TF_CPP_MIN_LOG_LEVEL": "3"}
    args = measure_args(tiny_artifacts, out, "--variants", "tf-fp32,tflite-fp32", "--batch", "1")
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "harness",
            *args,
            "--repeats",
            "100000000",
            "--processes",
            "1",
            "--run-id",
            "dead",
        ],
        cwd=REPO,
        env=env,
        stderr=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    lines: list[str] = []
    timing: list[str] = []  # variants in the order their workers started timing
    started = threading.Semaphore(0)

    def watch(stream) -> None:
        for line in stream:
            lines.append(line)
            if line.startswith("batch 1: timing "):
                timing.append(line.split()[3].rstrip(","))
                started.release()

    watcher = threading.Thread(target=watch, args=(proc.stderr,), daemon=True)
    watcher.start()
    try:
        assert started.acquire(timeout=300), "".join(lines)[-2000:]
        parent_files = {m.path for m in psutil.Process(proc.pid).memory_maps()}
        _worker_of(proc.pid, timing[0]).kill()
        assert started.acquire(timeout=300), "".join(lines)[-2000:]
        parent_files |= {m.path for m in psutil.Process(proc.pid).memory_maps()}
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=120)
    finally:
        proc.kill()
    watcher.join(timeout=10)
    err = "".join(lines)
    assert proc.returncode == 130, err[-2000:]
    assert not [p for p in parent_files if "tensorflow" in p or "ai_edge_litert" in p]
    killed, interrupted = timing
    results = {r.variant: r for r in valid_results(out)}
    assert set(results) == {"tf-fp32", "tflite-fp32"}
    assert (results[killed].status, results[killed].error) == (
        "failed",
        f"{killed} worker killed by signal 9",
    )
    assert results[interrupted].status == "incomplete" and results[interrupted].repeats > 0
    assert f"error: the {killed} worker killed by signal 9" in err


def test_a_worker_whose_measure_process_died_stops_quietly_and_yields_to_the_oom_killer(tiny_artifacts):
    """When measure is killed (say, at a memory limit) the worker's next event hits a closed pipe:
    it stops with one log line, no traceback. It also asks to be the OOM killer's first choice."""
    from harness.bench.worker import WorkerJob

    job = WorkerJob(
        str(tiny_artifacts), "tflite-int8", (1,), threads=1, warmup=0, calls=10**8, process_index=0
    )
    env = {**os.environ, "PYTHONPATH": str(REPO), "TF_CPP_MIN_LOG_LEVEL": "3"}
    worker = subprocess.Popen(
        [sys.executable, "-m", "harness.bench.worker", job.to_json()],
        cwd=REPO,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        while '"event": "call"' not in worker.stdout.readline():
            pass
        with open(f"/proc/{worker.pid}/oom_score_adj") as handle:
            assert int(handle.read()) == 500
        worker.stdout.close()  # what measure's death does to the pipe
        _, err = worker.communicate(timeout=120)
    finally:
        worker.kill()
    assert worker.returncode == 1, err[-2000:]
    assert "Traceback" not in err and "the measure process that started this worker is gone" in err
