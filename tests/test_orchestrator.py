"""Integration tests of ``python -m harness host run``: real engines, real containers.

amd64 runs natively and arm64 under QEMU on this machine; a second dockerd on
its own socket stands in for a remote native host. The tiny model on synthetic
data keeps each run to seconds-to-minutes; one prepare is shared by every test.

Without a Docker engine (or QEMU) these tests skip, except under CI=true where
they fail: CI must not pass by skipping the thing it exists to check.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

import pytest

from harness import schema
from harness.errors import UserError
from harness.host import ARCHES, image_tag
from harness.host.run.profiles import EMULATED_EVAL_LIMIT, IMAGENET_EMULATED, IMAGENET_NATIVE, QUICK
from tests.engines import extra_engine
from tests.helpers import REPO, run_cli, unavailable

pytestmark = pytest.mark.docker

VARIANTS = set(schema.VARIANTS)
BATCHES = {1, 64}
EMULATED_BATCHES = set(QUICK.emulated[0].batches)  # the quick profile times batch 1 under QEMU
RUN_TIMEOUT_S = 1800
# Run ids name containers and volumes: unique per session, so two sessions never collide.
SESSION = uuid.uuid4().hex[:6]
RUN_BOTH, RUN_REMOTE, RUN_KILLED, RUN_SIGINT, RUN_SHAPES = (
    f"{name}-{SESSION}" for name in ("both", "remote", "killed", "sigint", "shapes")
)


@pytest.fixture(scope="session")
def client():
    from harness.host.engine.connect import connect
    from harness.host.engine.emulation import ensure_emulation

    try:
        engine = connect()
        for foreign in (arch for arch in ARCHES if engine.emulates(arch)):
            ensure_emulation(foreign, engine)
    except UserError as error:
        unavailable(str(error))
    yield engine.client
    engine.close()


@pytest.fixture(scope="session")
def workdir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("orchestrator")


def host_run(
    workdir: Path, results: Path, run_id: str, *args: str, popen: bool = False, artifacts: Path | None = None
):
    """``python -m harness host run`` on the tiny model, sharing one artifacts folder unless told."""
    argv = [
        "host",
        "run",
        "--model",
        "tiny",
        "--data",
        "synthetic",
        "--artifacts",
        str(artifacts or workdir / "artifacts"),
        "--results",
        str(results),
        "--run-id",
        run_id,
        "--images-dir",
        str(workdir / "images"),
        *args,
    ]
    if not popen:
        return run_cli(*argv, timeout=RUN_TIMEOUT_S)
    env = {**os.environ, "PYTHONPATH": str(REPO), "TF_CPP_MIN_LOG_LEVEL": "3"}
    return subprocess.Popen(
        [sys.executable, "-m", "harness", *argv],
        cwd=REPO,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def results_of(directory: Path, run_id: str) -> list[schema.Result]:
    return [r for r in map(schema.load_result, schema.find_result_files(directory)) if r.run_id == run_id]


def by_arch(results: list[schema.Result], arch: str) -> dict[tuple[str, int], schema.Result]:
    return {(r.variant, r.batch): r for r in results if r.arch == arch}


def explain(proc) -> str:
    """Exit code and output tails, for assertion messages."""
    stderr, stdout = proc.stderr[-6000:], proc.stdout[-2000:]
    return f"exit {proc.returncode}\n--- stderr ---\n{stderr}\n--- stdout ---\n{stdout}"


def run_containers(client, run_id: str, **labels: str) -> list:
    filters = {"label": [f"quantbench.run={run_id}", *(f"quantbench.{k}={v}" for k, v in labels.items())]}
    return client.containers.list(all=True, filters=filters)


def wait_for_container(client, run_id: str, log_phrase: str, timeout_s: float = 900, **labels: str):
    """The first container of the run with these labels once its log shows log_phrase."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        for container in run_containers(client, run_id, **labels):
            try:
                if log_phrase in container.logs().decode(errors="replace"):
                    return container
            except Exception:  # removed between list and logs
                continue
        time.sleep(0.5)
    raise AssertionError(f"no {labels} container of run {run_id} logged {log_phrase!r} in {timeout_s} s")


# --- both arches on this machine --------------------------------------------------------


@pytest.fixture(scope="session")
def both_arches(client, workdir):
    from harness.host.engine import volumes
    from harness.host.run import artifact_store

    results = workdir / "results-both"
    proc = host_run(workdir, results, RUN_BOTH, "--arch", "all")
    key = artifact_store.local_key(workdir / "artifacts")
    yield proc, results_of(results, RUN_BOTH) if results.exists() else []
    if key:  # the tiny model's artifacts volume: every test session prepares a new one
        volumes.remove_volume(client, artifact_store.volume_name(key))


def test_both_arches_run_end_to_end_and_emulated_outputs_match_native(both_arches):
    proc, results = both_arches
    assert proc.returncode == 0, explain(proc)
    amd64, arm64 = by_arch(results, "amd64"), by_arch(results, "arm64")
    assert set(amd64) == {(v, b) for v in VARIANTS for b in BATCHES}
    assert set(arm64) == {(v, b) for v in VARIANTS for b in EMULATED_BATCHES}
    assert all(r.emulated is False and r.host == "local" for r in amd64.values())
    # every variant has the base rounds; the comparisons a verdict rests on may have more
    assert all(r.processes >= QUICK.native[0].processes for r in amd64.values())
    assert all(
        r.processes <= max(QUICK.native[0].max_rounds, QUICK.native[0].processes) for r in amd64.values()
    )
    assert all(r.rounds_stop_reason for r in amd64.values())
    assert all(r.emulated and r.host == "local" for r in arm64.values())
    for key, result in {**amd64, **arm64}.items():
        assert result.status == "ok", (key, result.arch, result.error)
    for result in arm64.values():
        # class probabilities of the emulated --eval-limit images, within the precision's tolerance
        native_images = len(amd64[(result.variant, result.batch)].predictions)
        assert result.kernel_path["native_difference_images"] == min(EMULATED_EVAL_LIMIT, native_images)
        within = result.kernel_path["native_max_abs_difference"] <= result.kernel_path["native_tolerance"]
        # or the native int8 output is the one that strays from float32 (x86 without VNNI: ONNX
        # Runtime's U8S8 kernels saturate), and the emulated one stays ok, marked unverified
        unverified = any("NOT verified" in w and "native output that strays" in w for w in result.warnings)
        assert within or unverified, (result.variant, result.kernel_path, result.warnings)
        assert result.repeats >= QUICK.emulated[0].repeats and result.processes == 1
    assert "quantbench report" in proc.stdout  # the run ends with its report


# --- the 224×224 shape, both arches ------------------------------------------------------


@pytest.fixture(scope="session")
def shapes_run(client, workdir):
    """--input-size 224 alone: prepare adds the 224 set beside the 32 one, measure runs at 224 only."""
    from harness.host.engine import volumes
    from harness.host.run import artifact_store

    results = workdir / "results-shapes"
    proc = host_run(workdir, results, RUN_SHAPES, "--arch", "all", "--input-size", "224")
    key = artifact_store.local_key(workdir / "artifacts")
    yield proc, results_of(results, RUN_SHAPES) if results.exists() else []
    if key:
        volumes.remove_volume(client, artifact_store.volume_name(key))


def test_a_224_run_measures_that_side_natively_and_checks_two_images_under_emulation(shapes_run):
    proc, results = shapes_run
    assert proc.returncode == 0, explain(proc)
    amd64, arm64 = by_arch(results, "amd64"), by_arch(results, "arm64")
    assert set(amd64) == {(v, b) for v in VARIANTS for b in IMAGENET_NATIVE.batches}
    assert set(arm64) == {(v, b) for v in VARIANTS for b in IMAGENET_EMULATED.batches}
    for key, result in {**amd64, **arm64}.items():
        assert result.status == "ok", (key, result.arch, result.error)
        assert (result.input_size, result.trained_input_size) == (224, 32)
        assert result.macs_per_image and result.weight_count
    for result in arm64.values():
        # the profile's emulated 224 pass: one timed call, the outputs of 2 images
        assert result.repeats == IMAGENET_EMULATED.repeats == 1 and len(result.predictions) == 2
        within = result.kernel_path["native_max_abs_difference"] <= result.kernel_path["native_tolerance"]
        unverified = any("NOT verified" in w and "native output that strays" in w for w in result.warnings)
        assert result.kernel_path["native_difference_images"] == 2
        assert within or unverified, (result.variant, result.kernel_path, result.warnings)
    assert "224×224" in proc.stdout  # the report names the side


def test_the_console_shows_bars_and_the_step_logs_keep_everything(both_arches, workdir):
    """TensorFlow's start-up lines and the bench's prose reach the log files, not the console."""
    proc, _ = both_arches
    logs = {path.name: path.read_text() for path in (workdir / "results-both" / "logs").rglob("*.log")}
    prepare_log = next(text for name, text in logs.items() if name.endswith("_amd64_prepare.log"))
    assert '"kind": "quantbench.event"' in prepare_log and "epoch 1/" in prepare_log
    noise = [
        p
        # TensorFlow's oneDNN line appears only on some CPUs (not on an AVX2-only Zen 3); LiteRT's
        # delegate line and the converter's warning appear on every CPU
        for p in (
            "oneDNN",
            "absl::InitializeLog",
            "cudart",
            "Created TensorFlow Lite XNNPACK delegate",
            "Statistics for quantized",
        )
        if any(p in text for text in logs.values())
    ]
    assert noise, "no TensorFlow start-up line in the logs: this test would prove nothing"
    for phrase in [*noise, "epoch 1/", "evaluating ", '"kind": "quantbench.event"']:
        assert phrase not in proc.stderr, phrase
    for step in ("prepare amd64", "amd64 native on local", "arm64 emulated on local"):
        assert step in proc.stderr  # each container had its bar


def test_the_native_answer_comes_first_and_no_measure_ran_beside_untimed_work(both_arches):
    proc, _ = both_arches
    assert proc.returncode == 0, explain(proc)
    # the native answer (stdout) is a report of amd64 alone, before the final one of both arches
    _, native, final = proc.stdout.split("quantbench report:")
    assert "amd64 (" in native and "arm64 (" not in native and "EMULATED" not in native
    assert "amd64" in final and "EMULATED" in final
    # on the console it comes after the native measure and before the emulated one
    shown = proc.stderr.index("this machine's answer (native)")
    assert proc.stderr.index("amd64 native on local") < shown < proc.stderr.index("arm64 emulated on local")
    spans = re.findall(r"^ +(.+?): \d+ s \(at (\d+)-(\d+) s(, in the background)?\)$", proc.stderr, re.M)
    names = [name for name, *_ in spans]
    assert "image arm64" in names and "prepare amd64" in names and "waiting for the images" in names
    untimed_end = max(int(end) for _, _, end, background in spans if background)
    measures = [int(start) for name, start, _, _ in spans if name.startswith("measure ")]
    assert measures and min(measures) >= untimed_end


def test_the_run_leaves_no_container_and_no_scratch_volume(client, both_arches):
    assert run_containers(client, RUN_BOTH) == []
    names = [v.name for v in client.volumes.list(filters={"label": "quantbench=1"})]
    assert not [n for n in names if RUN_BOTH in n], names


# --- a second engine stands in for a remote native host ---------------------------------


@pytest.fixture
def second_engine():
    """dockerd on its own socket, data root and bridge (tests/engines.py)."""
    with extra_engine() as engine:
        yield engine.url


def test_a_native_arch_runs_on_another_engine_and_the_results_name_it(
    client, workdir, both_arches, second_engine
):
    from harness.host.engine.connect import connect

    results = workdir / "results-remote"
    proc = host_run(workdir, results, RUN_REMOTE, "--arch", "amd64", "--host", f"amd64={second_engine}")
    assert proc.returncode == 0, explain(proc)
    amd64 = by_arch(results_of(results, RUN_REMOTE), "amd64")
    assert set(amd64) == {(v, b) for v in VARIANTS for b in BATCHES}
    for result in amd64.values():
        assert (result.status, result.host, result.emulated) == ("ok", second_engine, False)
    remote = connect(second_engine).client
    try:
        assert remote.images.get(image_tag("amd64")).id == client.images.get(image_tag("amd64")).id
        assert remote.containers.list(all=True, filters={"label": "quantbench=1"}) == []
    finally:
        remote.close()
    shutil.rmtree(workdir / "images", ignore_errors=True)  # the 1.4 GB archive


# --- a killed container, an interrupted orchestrator ------------------------------------


@pytest.fixture(scope="session")
def killed_arm64(client, workdir, both_arches):
    """A run whose arm64 container is killed while it evaluates; its config is inspected first."""
    results = workdir / "results-killed"
    proc = host_run(workdir, results, RUN_KILLED, "--arch", "all", popen=True)
    seen: dict = {}

    def kill_when_measuring() -> None:
        try:
            container = wait_for_container(client, RUN_KILLED, "evaluating", arch="arm64", role="measure")
            seen["attrs"] = client.api.inspect_container(container.id)
            container.kill()
        except Exception as error:  # reported by the tests
            seen["error"] = error

    watcher = threading.Thread(target=kill_when_measuring, daemon=True)
    watcher.start()
    stdout, stderr = proc.communicate(timeout=RUN_TIMEOUT_S)
    watcher.join(timeout=10)
    proc.stdout, proc.stderr = stdout, stderr
    return proc, results_of(results, RUN_KILLED) if results.exists() else [], seen


def test_a_killed_arm64_container_is_recorded_and_amd64_results_are_kept(client, killed_arm64):
    proc, results, seen = killed_arm64
    assert "error" not in seen, seen.get("error")
    assert proc.returncode == 1, explain(proc)
    amd64, arm64 = by_arch(results, "amd64"), by_arch(results, "arm64")
    assert set(amd64) == {(v, b) for v in VARIANTS for b in BATCHES}
    assert all(r.status == "ok" for r in amd64.values())
    assert set(arm64) == {(v, b) for v in VARIANTS for b in EMULATED_BATCHES}
    for result in arm64.values():
        assert result.status == "failed" and result.emulated and result.host == "local"
        assert result.error == "killed by signal SIGKILL (exit 137)", result.error
    assert run_containers(client, RUN_KILLED) == []


def test_a_benchmark_container_is_locked_down(killed_arm64):
    _, _, seen = killed_arm64
    attrs = seen["attrs"]
    host_config, config = attrs["HostConfig"], attrs["Config"]
    assert host_config["NetworkMode"] == "none"
    assert config["User"] == "10001:10001"
    assert "no-new-privileges" in host_config["SecurityOpt"]
    # every CPU (no --cpus): no CFS quota to throttle it and no cpuset (a smaller --cpus pins one)
    assert host_config["NanoCpus"] == 0 and not host_config["CpusetCpus"]
    assert host_config["Memory"] > 0
    mounts = {m["Destination"]: m for m in attrs["Mounts"]}
    assert mounts["/mnt/store"]["RW"] is False  # the artifacts
    assert mounts["/mnt/results"]["RW"] is True
    assert mounts["/proc/cpuinfo"]["RW"] is False  # QEMU 7.2 would show LiteRT the x86 cpuinfo
    assert "QEMU_CPU=neoverse-n1" in config["Env"]
    assert host_config["Init"] is True
    assert attrs["Config"]["Labels"]["quantbench"] == "1"


@pytest.fixture(scope="session")
def interrupted(client, workdir, both_arches):
    """SIGINT to the orchestrator while its amd64 container times batch 1."""
    results = workdir / "results-interrupted"
    proc = host_run(workdir, results, RUN_SIGINT, "--arch", "amd64", popen=True)
    try:
        wait_for_container(client, RUN_SIGINT, "batch 1: timing", timeout_s=600, role="measure")
    except AssertionError:
        proc.kill()
        raise
    proc.send_signal(signal.SIGINT)
    stdout, stderr = proc.communicate(timeout=120)
    proc.stdout, proc.stderr = stdout, stderr
    return proc, results


def test_sigint_leaves_no_running_container_and_keeps_partial_results(client, interrupted):
    proc, results = interrupted
    assert proc.returncode == 130, explain(proc)
    assert run_containers(client, RUN_SIGINT) == []
    assert "--resume" in proc.stderr
    partial = results_of(results, RUN_SIGINT)
    assert partial and all(r.status in ("ok", "incomplete") for r in partial)


def test_resume_finishes_the_interrupted_run(client, workdir, interrupted):
    _, results = interrupted
    proc = host_run(workdir, results, RUN_SIGINT, "--arch", "amd64", "--resume")
    assert proc.returncode == 0, explain(proc)
    amd64 = by_arch(results_of(results, RUN_SIGINT), "amd64")
    assert set(amd64) == {(v, b) for v in VARIANTS for b in BATCHES}
    assert all(r.status == "ok" for r in amd64.values())


# --- a container over its memory limit or its time limit ---------------------------------


def _seed_results(directory: Path) -> dict[Path, bytes]:
    """An earlier valid result in the results folder: a failing run must leave it untouched."""
    directory.mkdir(parents=True, exist_ok=True)
    earlier = schema.Result("tflite-int8", "ai-edge-litert 2.3.0", 1, 1, "earlier", timings_s=[0.1, 0.2])
    path = schema.write_result(earlier, directory)
    return {path: path.read_bytes()}


OOM = (("--memory", "64m"), "OOM-killed at the 0.1 GiB memory limit (raise --memory)")
# The work under a time limit is endless by construction, so the limit (never the machine's
# speed) ends it: a million epochs of prepare, a million timed rounds of measure. The measure
# limit leaves room for the prepare container that checks the artifacts first (seconds).
PREPARE_LIMITS = {
    "oom": OOM,
    "timeout": (("--timeout", "3"), "timed out after 3 s and was killed (raise --timeout)"),
}
MEASURE_LIMITS = {
    "oom": OOM,
    "timeout": (("--timeout", "30"), "timed out after 30 s and was killed (raise --timeout)"),
}
ENDLESS_PREPARE = ("--epochs", "1000000")
ENDLESS_MEASURE = ("--repeats", "1000000")


@pytest.mark.parametrize("limit_name", sorted(PREPARE_LIMITS))
def test_a_prepare_over_its_limit_stops_the_run_and_loses_nothing(client, workdir, tmp_path, limit_name):
    """Fresh artifacts, so the prepare container itself hits the limit: nothing to measure, exit 2."""
    limit, phrase = PREPARE_LIMITS[limit_name]
    results = tmp_path / "results"
    before = _seed_results(results)
    run_id = f"prep-{limit_name}-{SESSION}"
    proc = host_run(
        workdir,
        results,
        run_id,
        "--arch",
        "amd64",
        "--no-build",
        *limit,
        *ENDLESS_PREPARE,
        artifacts=tmp_path / "artifacts",
    )
    assert proc.returncode == 2, explain(proc)
    assert "Traceback" not in proc.stderr
    assert f"prepare failed ({phrase})" in " ".join(proc.stderr.split()), explain(proc)
    assert {p: p.read_bytes() for p in before} == before
    assert [p.name for p in results.rglob(".tmp-*")] == []
    assert run_containers(client, run_id) == []


@pytest.mark.parametrize("limit_name", sorted(MEASURE_LIMITS))
def test_a_measure_over_its_limit_fails_its_results_and_loses_nothing(
    client, workdir, both_arches, tmp_path, limit_name
):
    """Artifacts already prepared (by both_arches), so the measure container hits the limit: exit 1,
    every result it owed is on disk as failed with the reason, earlier results untouched."""
    limit, phrase = MEASURE_LIMITS[limit_name]
    results = tmp_path / "results"
    before = _seed_results(results)
    run_id = f"meas-{limit_name}-{SESSION}"
    proc = host_run(workdir, results, run_id, "--arch", "amd64", "--no-build", *limit, *ENDLESS_MEASURE)
    assert proc.returncode == 1, explain(proc)
    assert "Traceback" not in proc.stderr
    assert "artifacts" in proc.stderr and "reused" in proc.stderr, explain(proc)
    assert phrase in " ".join(proc.stderr.split()), explain(proc)
    owed = results_of(results, run_id)
    assert {(r.variant, r.batch) for r in owed} == {(v, b) for v in VARIANTS for b in BATCHES}
    assert {r.status for r in owed} == {"failed"}
    assert all(phrase in (r.error or "") for r in owed), [r.error for r in owed][:2]
    assert {p: p.read_bytes() for p in before} == before
    assert [p.name for p in results.rglob(".tmp-*")] == []
    assert run_containers(client, run_id) == []


# --- killed after it delivered everything -----------------------------------------------


@pytest.mark.parametrize("delivered_share", ["all", "all but one"])
def test_a_container_killed_after_delivering_everything_keeps_ok_results_and_the_run_passes(
    client, workdir, both_arches, tmp_path, delivered_share
):
    """The documented rule (plan.ContainerRecord.finished), on a real results volume: a container
    that timed out after delivering every owed result leaves them ok and the run clean (exit 0),
    its reason says both; one result short, that one is failed and the run is not clean."""
    from rich.console import Console

    from harness.host import docker_platform
    from harness.host.engine import runner, volumes
    from harness.host.engine.connect import LOCAL_LABEL, Engine
    from harness.host.engine.emulation import EmulationOptions
    from harness.host.run import collect, plan, steps

    _, delivered = both_arches
    native = sorted(by_arch(delivered, "amd64").items())
    sent = native if delivered_share == "all" else native[1:]
    artifacts = collect.read_artifacts(workdir / "artifacts")
    expected = collect.Expected(
        RUN_BOTH, LOCAL_LABEL, "amd64", False, native[0][1].threads, (1, 64), artifacts
    )
    target = plan.Target(
        "amd64",
        Engine(client, "amd64"),
        EmulationOptions("amd64", False, docker_platform("amd64")),
        runner.Limits(1, 2**30),
    )
    config = plan.RunConfig(arches=("amd64",), results_dir=tmp_path / "results")
    volume = volumes.create_volume(client, f"quantbench-test-killed-late-{SESSION}")
    source = workdir / "results-both"
    try:
        volumes.make_dirs(client, image_tag("amd64"), volume, "out")
        files = {f"out/{r.file_name()}": source / r.file_name() for _, r in sent}
        volumes.upload(client, image_tag("amd64"), volume, files)
        outcome = runner.RunOutcome(
            "measure1", runner.TIMED_OUT, "timed out after 9 s and was killed", 137, 9.0
        )
        record = steps._collect(
            target, expected, outcome, volume, set(), config, "measure1", Console(quiet=True)
        )
    finally:
        volumes.remove_volume(client, volume)
    stored = results_of(config.results_dir, RUN_BOTH)
    summary = plan.RunSummary(RUN_BOTH, [record])
    if delivered_share == "all":
        assert record.finished and summary.ok  # so `host run` exits 0
        assert (
            record.reason
            == f"timed out after 9 s and was killed, after delivering all {len(native)} results (kept)"
        )
        assert {r.status for r in stored} == {"ok"} and len(stored) == len(native)
    else:
        assert not record.finished and not summary.ok  # exit 1
        assert record.reason == "timed out after 9 s and was killed"
        failed = [r for r in stored if r.status != "ok"]
        assert [(r.variant, r.batch) for r in failed] == [native[0][0]]
        assert failed[0].error == "timed out after 9 s and was killed"
