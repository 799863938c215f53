"""A fleet on one machine: the local engine and two extra engines, one of them on 1 CPU.

Real engines, real containers, the tiny model. Machines declared (or found) on one box never
measure at the same time; a machine lost mid-run costs only that machine, and ``--resume``
finishes it once it is back. Without Docker these tests skip, except under CI=true.
"""

from __future__ import annotations

import re
import signal
import threading
import time
import uuid
from datetime import datetime
from pathlib import Path

import pytest

from harness import schema
from harness.errors import UserError
from tests.engines import extra_engine
from tests.helpers import run_cli, unavailable

pytestmark = pytest.mark.docker

SESSION = uuid.uuid4().hex[:6]
RUN_FLEET, RUN_LOST = f"fleet-{SESSION}", f"lost-{SESSION}"
RUN_TIMEOUT_S = 1800
VARIANTS = set(schema.VARIANTS)


def local_arch() -> str:
    """The architecture of this machine's engine, as the engine reports it."""
    from harness.host.engine.connect import connect

    engine = connect()
    try:
        return engine.arch
    finally:
        engine.close()


@pytest.fixture(scope="module")
def engines():
    """The local engine, an extra engine and an extra engine that sees 1 CPU."""
    from harness.host.engine.connect import connect

    try:
        connect().close()
    except UserError as error:
        unavailable(str(error))
    with extra_engine() as two, extra_engine(cpus="1") as one:
        yield two, one


@pytest.fixture(scope="module")
def workdir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("fleet")


def host_run(workdir: Path, results: Path, run_id: str, *args: str, popen: bool = False):
    argv = [
        "host", "run", "--model", "tiny", "--data", "synthetic",
        "--artifacts", str(workdir / "artifacts"), "--results", str(results),
        "--run-id", run_id, "--images-dir", str(workdir / "images"), *args,
    ]  # fmt: skip
    if not popen:
        return run_cli(*argv, timeout=RUN_TIMEOUT_S, env={"COLUMNS": "120"})
    import os
    import subprocess
    import sys

    from tests.helpers import REPO

    env = {**os.environ, "PYTHONPATH": str(REPO), "TF_CPP_MIN_LOG_LEVEL": "3"}
    return subprocess.Popen(
        [sys.executable, "-m", "harness", *argv], cwd=REPO, env=env, text=True,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )  # fmt: skip


def results_of(directory: Path, run_id: str) -> list[schema.Result]:
    return [r for r in map(schema.load_result, schema.find_result_files(directory)) if r.run_id == run_id]


def explain(proc) -> str:
    stderr, stdout = proc.stderr[-6000:], proc.stdout[-3000:]
    return f"exit {proc.returncode}\n--- stderr ---\n{stderr}\n--- stdout ---\n{stdout}"


def spans(results: list[schema.Result]) -> dict[tuple[str, int], tuple[datetime, datetime]]:
    """(machine, threads) -> from the first result's start to the last one's end."""
    found: dict[tuple[str, int], tuple[datetime, datetime]] = {}
    for result in results:
        start, end = datetime.fromisoformat(result.started_at), datetime.fromisoformat(result.finished_at)
        key = (result.host, result.threads)
        old = found.get(key, (start, end))
        found[key] = (min(old[0], start), max(old[1], end))
    return found


def apart(a: tuple[datetime, datetime], b: tuple[datetime, datetime]) -> bool:
    return a[1] <= b[0] or b[1] <= a[0]


@pytest.fixture(scope="module")
def fleet_run(engines, workdir):
    two, one = engines
    fleet = workdir / "fleet.toml"
    fleet.write_text(
        f'[[machine]]\nname = "here"\ntarget = "local"\nbox = "this-vm"\n\n'
        f'[[machine]]\nname = "two"\ntarget = "{two.url}"\nbox = "this-vm"\n\n'
        f'[[machine]]\nname = "one-cpu"\ntarget = "{one.url}"\n'
    )
    results = workdir / "results-fleet"
    proc = host_run(workdir, results, RUN_FLEET, "--fleet", str(fleet))
    return proc, results_of(results, RUN_FLEET) if results.exists() else []


def test_every_machine_measures_natively_under_its_name(fleet_run):
    proc, results = fleet_run
    assert proc.returncode == 0, explain(proc)
    for name in ("here", "two", "one-cpu"):
        mine = [r for r in results if r.host == name]
        assert {(r.variant, r.batch) for r in mine} == {(v, b) for v in VARIANTS for b in (1, 64)}, name
        # every engine here runs on this machine: its arch is the local engine's (amd64 or arm64)
        assert all(r.status == "ok" and r.emulated is False and r.arch == local_arch() for r in mine), name
    # the engine that sees 1 CPU: its machine has 1 core and runs 1 thread per call
    assert {(r.cpu_count, r.threads) for r in results if r.host == "one-cpu"} == {(1, 1)}
    assert {r.threads for r in results if r.host == "two"} == {2}


def test_machines_declared_on_one_box_never_measure_at_the_same_time(fleet_run):
    proc, results = fleet_run
    assert proc.returncode == 0, explain(proc)
    found = spans(results)
    assert apart(found[("here", 2)], found[("two", 2)]), found
    # one-cpu's engine reports another box than the declared "this-vm": it ran alongside them
    assert "machine one-cpu: ok" in proc.stderr and "machine two: ok" in proc.stderr


def test_engines_of_one_computer_are_found_on_one_box(engines):
    from harness.host.engine.connect import connect
    from harness.host.run.machines import box_of

    found = set()
    for url in (None, *(engine.url for engine in engines)):
        engine = connect(url)
        found.add(box_of(engine))
        engine.close()
    assert len(found) == 1, found  # the 1-CPU engine too: the box is the computer, not the CPU set


def test_the_report_has_a_fleet_table_with_a_row_per_machine(fleet_run):
    proc, _ = fleet_run
    assert proc.returncode == 0, explain(proc)
    report = proc.stdout[proc.stdout.rindex("quantbench report:") :]
    fleet = report[report.index("Fleet: each runtime's int8 vs its float32") :]
    fleet = fleet[: fleet.index("Fleet: fastest int8")]
    # a row starts with its machine's name (the arch may wrap under it); "NAME ARCH: CPU model"
    # lines under the table are not rows
    arch = local_arch()
    rows = re.findall(rf"^(here|two|one-cpu)\b(?! {arch}:)", fleet, re.M)
    assert sorted(rows) == ["here", "one-cpu", "two"], fleet
    assert re.search(rf"^one-cpu {arch}: .*\b1 CPU\b", fleet, re.M), fleet


# --- a machine lost in the middle of its measure ------------------------------------------


@pytest.fixture(scope="module")
def lost_run(engines, workdir, fleet_run):
    """here and two, two passes each (--threads 1,2), declared on two boxes so that they run
    at the same time; two's engine is killed while its second pass measures."""
    from harness.host.engine.connect import connect

    two, _ = engines
    results = workdir / "results-lost"
    fleet = workdir / "lost.toml"
    fleet.write_text(
        f'[[machine]]\nname = "here"\ntarget = "local"\nbox = "a"\n\n'
        f'[[machine]]\nname = "two"\ntarget = "{two.url}"\nbox = "b"\n'
    )
    machines = ("--fleet", str(fleet), "--threads", "1,2")
    proc = host_run(workdir, results, RUN_LOST, *machines, popen=True)
    stopped = threading.Event()

    def stop_two_when_measuring() -> None:
        deadline = time.monotonic() + RUN_TIMEOUT_S
        while time.monotonic() < deadline and proc.poll() is None:
            try:
                client = connect(two.url).client
                name = f"quantbench-{RUN_LOST}-{local_arch()}-measure2"
                running = client.containers.list(filters={"name": name})
                client.close()
            except UserError:
                running = []
            if running:
                time.sleep(3)  # well into its measure
                two.stop(signal.SIGKILL)  # the machine is gone: no clean shut-down
                stopped.set()
                return
            time.sleep(0.5)

    watcher = threading.Thread(target=stop_two_when_measuring, daemon=True)
    watcher.start()
    stdout, stderr = proc.communicate(timeout=RUN_TIMEOUT_S)
    watcher.join(timeout=5)
    assert stopped.is_set(), stderr[-4000:]
    two.start()  # back, with its data root: the image and the artifacts are still there
    return proc.returncode, stdout, stderr, results, machines


def test_a_lost_machine_costs_only_that_machine(lost_run):
    code, _, stderr, results, _ = lost_run
    stored = results_of(results, RUN_LOST)
    assert code != 0, stderr[-3000:]
    here = [r for r in stored if r.host == "here"]
    assert len(here) == 2 * len(VARIANTS) * 2 and all(r.status == "ok" for r in here)
    two = [r for r in stored if r.host == "two"]
    first = [r for r in two if r.threads == 1]
    second = [r for r in two if r.threads == 2]
    assert len(first) == len(VARIANTS) * 2 and all(r.status == "ok" for r in first)  # finished: kept
    assert len(second) == len(VARIANTS) * 2 and all(r.status == "failed" for r in second)
    assert all("machine two was lost mid-run" in (r.error or "") for r in second)
    assert stderr.count("machine two was lost mid-run (") >= 1 and "machine two: FAILED" in stderr
    assert "machine here: ok" in stderr


def test_resume_finishes_the_lost_machine(workdir, lost_run):
    _, _, _, results, machines = lost_run
    before = {r.file_name(): r for r in results_of(results, RUN_LOST) if r.status == "ok"}
    proc = host_run(workdir, results, RUN_LOST, *machines, "--resume")
    assert proc.returncode == 0, explain(proc)
    stored = results_of(results, RUN_LOST)
    assert len(stored) == 2 * 2 * len(VARIANTS) * 2 and all(r.status == "ok" for r in stored)
    after = {r.file_name(): r for r in stored}
    assert all(after[name].finished_at == r.finished_at for name, r in before.items())  # not redone
    assert "already complete" in proc.stderr


def test_a_machine_that_does_not_answer_stops_the_run_before_anything_runs(tmp_path):
    from harness.host.engine.connect import connect

    try:
        connect().close()
    except UserError as error:
        unavailable(str(error))
    fleet = tmp_path / "fleet.toml"
    fleet.write_text(
        '[[machine]]\nname = "here"\ntarget = "local"\n\n'
        f'[[machine]]\nname = "gone"\ntarget = "unix://{tmp_path}/nothing.sock"\n'
    )
    results = tmp_path / "results"
    proc = run_cli("host", "run", "--fleet", str(fleet), "--results", str(results), "--model", "tiny")
    assert proc.returncode == 2, explain(proc)
    assert "Traceback" not in proc.stderr
    message = " ".join(proc.stderr.split())
    assert f"no Docker engine answers at unix://{tmp_path}/nothing.sock (--machine gone=" in message
    assert "Nothing ran: bring gone back, drop it from the fleet, or add --skip-unreachable" in message
    assert not results.exists()
