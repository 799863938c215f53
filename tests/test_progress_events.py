"""The host's bars follow the bench's progress events, not its prose.

Each test runs a real bench step (tiny model, no Docker) with every free-text line it and its
worker processes write reworded on the way out, and feeds its stderr to the host's bar.
"""

from __future__ import annotations

from pathlib import Path

from harness.host.run.progress import BarState
from harness.schema import VARIANTS, ProgressEvent
from tests.helpers import run_cli

# Loaded by every Python process of the step (PYTHONPATH): rewords each line written to stderr
# that is not a JSON event, so no log message reads as it does in the code.
REWORDING = """
import sys

class Reworded:
    def __init__(self, stream):
        self.stream, self.pending = stream, ""

    def write(self, text):
        self.pending += text
        *lines, self.pending = self.pending.split("\\n")
        for line in lines:
            words = " ".join(word[::-1] for word in line.split())
            out = line if line.startswith("{") else f"{words} (renamed)"
            self.stream.write(out + "\\n")
        return len(text)

    def flush(self):
        self.stream.flush()

    def __getattr__(self, name):
        return getattr(self.stream, name)

sys.stderr = Reworded(sys.stderr)
"""


def run_reworded(tmp_path: Path, *args: str):
    site = tmp_path / "site"
    site.mkdir()
    (site / "sitecustomize.py").write_text(REWORDING)
    repo = Path(__file__).resolve().parent.parent
    return run_cli(*args, env={"PYTHONPATH": f"{site}:{repo}"})


def prose(stderr: str) -> str:
    return "\n".join(line for line in stderr.splitlines() if not line.startswith("{"))


def follow(stderr: str) -> tuple[BarState, list[int]]:
    """The bar after every line of stderr, and the done values it showed."""
    state, shown = BarState(), []
    for line in stderr.splitlines():
        if state.feed(line) is not None:
            shown.append(state.done)
    return state, shown


def test_measure_progress_advances_with_every_log_message_renamed(tiny_artifacts, tmp_path):
    proc = run_reworded(
        tmp_path,
        *(
            "measure",
            "--max-rounds",
            "0",
            "--artifacts",
            str(tiny_artifacts),
            "--variants",
            "all",
            "--batch",
            "1,4",
        ),
        *("--threads", "1", "--repeats", "4", "--processes", "2", "--min-seconds", "0"),
        *("--warmup-seconds", "0", "--out", str(tmp_path / "results"), "--events"),
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "(renamed)" in proc.stderr and "evaluating" not in prose(proc.stderr)  # the prose changed
    state, shown = follow(proc.stderr)
    assert state.total and state.done == state.total
    assert shown == sorted(shown) and len(set(shown)) >= state.total // 2  # it moved step by step
    assert state.detail == "done"


def test_prepare_progress_advances_with_every_log_message_renamed(tmp_path):
    proc = run_reworded(
        tmp_path,
        *("prepare", "--model", "tiny", "--data", "synthetic", "--epochs", "1", "--qat-epochs", "1"),
        *("--out", str(tmp_path / "artifacts"), "--events"),
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "(renamed)" in proc.stderr and "training" not in prose(proc.stderr)
    state, shown = follow(proc.stderr)
    assert state.total == 1 + 1 + len(VARIANTS)  # float epochs, QAT epochs, variants
    assert state.done == state.total and len(set(shown)) == state.total  # every epoch and variant


def test_a_line_is_an_event_only_when_it_is_a_whole_valid_event():
    event = ProgressEvent("measure", 3, 10, "tf-fp32 b1: call 2/10")
    assert ProgressEvent.from_line(event.to_line()) == event
    assert ProgressEvent.from_line("evaluating tf-fp32 on 360 images") is None
    assert ProgressEvent.from_line('{"event": "call", "index": 1}') is None  # a worker's, not ours
    assert ProgressEvent.from_line(event.to_line().replace('"version": 1', '"version": 99')) is None
    assert ProgressEvent.from_line(event.to_line()[:-5]) is None  # cut short
    state = BarState()
    state.feed(ProgressEvent("measure", 5, 10).to_line())
    state.feed(ProgressEvent("measure", 4, 10, "late").to_line())
    assert state.done == 5  # never backwards
