"""The fleet file and ``--machine``: each mistake is one sentence and nothing runs."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.errors import UserError
from harness.host.engine.fleet import Machine, fleet, parse_machine_option, read_fleet_file
from harness.host.engine.runner import INTERRUPTED, OK, RunOutcome
from harness.host.run import boxes
from harness.host.run.plan import ContainerRecord, RunSummary
from tests.helpers import run_cli

GOOD = """
[[machine]]
name = "here"
target = "local"

[[machine]]
name = "zen5"
target = "ssh://me@zen5"
threads = 2
memory = "8g"
box = "rack-a"
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "fleet.toml"
    path.write_text(text)
    return path


def one_sentence(message: str) -> bool:
    return message.count(". ") == 0 and message.endswith(".")


def test_a_fleet_file_gives_each_machine_its_target_limits_and_box(tmp_path):
    here, zen5 = read_fleet_file(write(tmp_path, GOOD))
    assert here == Machine("here", "local") and here.is_local
    assert zen5 == Machine("zen5", "ssh://me@zen5", 2, 8 * 2**30, "rack-a")


@pytest.mark.parametrize(
    ("text", "phrase"),
    [
        (GOOD.replace("threads = 2", "thread = 2"), "unknown key 'thread'"),
        (GOOD.replace('"zen5"', '"here"', 1), "two machines are named 'here'"),
        (GOOD.replace("ssh://me@zen5", "http://zen5"), "has scheme 'http'"),
        (GOOD.replace('"local"', '"ssh://me@zen5"'), "are the same engine"),
        (GOOD.replace("threads = 2", "threads = 0"), "threads = 0 is not a whole number"),
        (GOOD.replace('"8g"', '"8 potatoes"'), "is not a size"),
        (GOOD.replace('name = "here"', 'name = "my box"'), "must start with a letter"),
        ("[machine]\nname = 1", "lists no [[machine]] table"),
        ("title = 'x'\n" + GOOD, "has 'title' at the top"),
        ("[[machine]\nname=", "is not valid TOML"),
    ],
)
def test_each_mistake_in_a_fleet_file_is_one_sentence(tmp_path, text, phrase):
    with pytest.raises(UserError) as raised:
        fleet([], write(tmp_path, text))
    message = str(raised.value)
    assert phrase in message, message
    assert "fleet file" in message or "two machines" in message or "same engine" in message


def test_machine_options_add_to_the_fleet_file_and_are_checked_with_it(tmp_path):
    machines = fleet(["arm=unix:///run/arm.sock"], write(tmp_path, GOOD))
    assert [m.name for m in machines] == ["here", "zen5", "arm"]
    with pytest.raises(UserError, match="two machines are named 'zen5'"):
        fleet(["zen5=tcp://other:2375"], write(tmp_path, GOOD))
    with pytest.raises(UserError, match="is not NAME=TARGET"):
        parse_machine_option("zen5")


def test_a_fleet_file_with_a_mistake_runs_nothing(tmp_path):
    results = tmp_path / "results"
    proc = run_cli(
        "host",
        "run",
        "--fleet",
        str(write(tmp_path, GOOD.replace("box =", "bx ="))),
        "--results",
        str(results),
    )
    assert proc.returncode == 2, proc.stderr
    assert "unknown key 'bx'" in proc.stderr and "Traceback" not in proc.stderr
    assert not results.exists()


def test_machines_and_arch_options_do_not_mix(tmp_path):
    proc = run_cli("host", "run", "--machine", "a=local", "--arch", "amd64", "--results", str(tmp_path))
    assert proc.returncode == 2 and "drop --arch and --host" in proc.stderr, proc.stderr


class FakeTarget:
    def __init__(self, name: str, box: str):
        self.host, self.box, self.arch, self.emulated = name, box, "amd64", False


def record(target, kind: str = OK) -> ContainerRecord:
    return ContainerRecord("measure1", "amd64", target.host, False, RunOutcome("m", kind, kind, 0, 0.0))


def test_targets_on_one_box_never_overlap_and_boxes_run_together():
    import threading
    import time

    from rich.console import Console

    spans: dict[str, tuple[float, float]] = {}
    lock = threading.Lock()

    def work(target, stop, bars):
        start = time.monotonic()
        time.sleep(0.3)
        with lock:
            spans[target.host] = (start, time.monotonic())
        return [record(target)]

    targets = [FakeTarget("a", "box1"), FakeTarget("b", "box2"), FakeTarget("c", "box1")]
    records = boxes.measure_boxes(targets, work, Console(quiet=True))
    assert [r.host for r in records] == ["a", "c", "b"]
    (a0, a1), (b0, b1), (c0, c1) = spans["a"], spans["b"], spans["c"]
    assert a1 <= c0 or c1 <= a0  # one box: one after the other
    assert b0 < max(a1, c1) and min(a0, c0) < b1  # the other box ran beside them


def test_an_interrupted_box_stops_every_box():
    import threading

    from rich.console import Console

    seen = []
    b_started = threading.Event()

    def work(target, stop, bars):
        seen.append(target.host)
        if target.host == "a":
            assert b_started.wait(5)  # b is measuring when a is interrupted
            return [record(target, INTERRUPTED)]
        b_started.set()
        stop.wait(5)  # the other box notices the stop
        return [record(target, INTERRUPTED if stop.is_set() else OK)]

    targets = [FakeTarget("a", "box1"), FakeTarget("b", "box2"), FakeTarget("c", "box1")]
    records = boxes.measure_boxes(targets, work, Console(quiet=True))
    assert "c" not in seen and {r.host for r in records} == {"a", "b"}
    assert all(r.outcome.kind == INTERRUPTED for r in records)


def test_the_summary_names_the_failed_machine():
    ok = ContainerRecord("measure1", "amd64", "a", False, RunOutcome("m", OK, "ok", 0, 1.0), 26)
    lost = ContainerRecord(
        "measure1",
        "amd64",
        "b",
        False,
        RunOutcome("m", "not-started", "machine b was lost mid-run", None, 0.0),
    )
    lost.results = lost.failed = 26
    summary = RunSummary("r", [ok, lost])
    assert not summary.ok
    assert summary.machine_lines() == [
        "machine a: ok (26 results written)",
        "machine b: FAILED (machine b was lost mid-run)",
    ]
