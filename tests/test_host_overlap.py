"""The run's background work and timeline: real threads, ordered by events, never by sleeps."""

from __future__ import annotations

import threading

import pytest

from harness.host.run.overlap import Background, StepSpan, Timeline


def test_background_work_runs_beside_the_main_line_and_the_timeline_says_so():
    timeline = Timeline()
    building, prepared = threading.Event(), threading.Event()

    def build() -> None:
        with timeline.span("image arm64", background=True):
            building.set()
            assert prepared.wait(30), "the main line never ran while the build was going"

    background = Background(build)
    assert building.wait(30)
    with timeline.span("prepare amd64"):
        prepared.set()
    with timeline.span("waiting for the images"):
        background.wait()
    with timeline.span("measure amd64 native"):
        pass
    ((step, beside),) = timeline.overlapped()
    assert step.name == "image arm64"
    names = [other.name for other in beside]
    assert "prepare amd64" in names and "measure amd64 native" not in names
    text = "\n".join(timeline.lines())
    assert "overlapped: image arm64 ran beside prepare amd64" in text
    assert "image arm64" in text and "in the background" in text


def test_wait_raises_what_the_background_work_raised():
    def fails() -> None:
        raise RuntimeError("the arm64 build failed")

    background = Background(fails)
    with pytest.raises(RuntimeError, match="arm64 build failed"):
        background.wait()


def test_a_failed_step_still_has_its_span():
    timeline = Timeline()
    with pytest.raises(ValueError), timeline.span("prepare amd64"):
        raise ValueError("no")
    assert [s.name for s in timeline.spans] == ["prepare amd64"]


def test_spans_that_only_touch_do_not_overlap():
    first, second = StepSpan("a", 0.0, 1.0), StepSpan("b", 1.0, 2.0, background=True)
    assert not first.overlaps(second) and not second.overlaps(first)
    assert StepSpan("c", 0.5, 1.5).overlaps(first)
