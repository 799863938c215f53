"""Untimed work beside the run's main line, and a record of when each step ran.

Image builds (the arm64 one under QEMU takes minutes) and shipping images to
other engines time nothing, so they run in a background thread while the native
image is built and prepare trains. Timing must never share the machine with
anything of ours: the orchestrator waits for the background work before the
first measure container starts. The timeline records every step's span so the
run's summary can say which steps overlapped.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field


@dataclass(frozen=True)
class StepSpan:
    """One step of the run: seconds since the run began."""

    name: str
    start_s: float
    end_s: float
    background: bool = False

    @property
    def seconds(self) -> float:
        return self.end_s - self.start_s

    def overlaps(self, other: StepSpan) -> bool:
        return self.start_s < other.end_s and other.start_s < self.end_s


@dataclass
class Timeline:
    """The spans of a run's steps, from any thread."""

    started: float = field(default_factory=time.monotonic)
    spans: list[StepSpan] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @contextlib.contextmanager
    def span(self, name: str, *, background: bool = False) -> Iterator[None]:
        """Record the time the block takes as step ``name`` (also when it fails)."""
        start = time.monotonic() - self.started
        try:
            yield
        finally:
            step = StepSpan(name, start, time.monotonic() - self.started, background)
            with self._lock:
                self.spans.append(step)

    def overlapped(self) -> list[tuple[StepSpan, list[StepSpan]]]:
        """Each background step with the main-line steps it ran beside."""
        main = [s for s in self.spans if not s.background]
        return [
            (step, [other for other in main if step.overlaps(other)])
            for step in self.spans
            if step.background
        ]

    def lines(self) -> list[str]:
        """The steps in start order, then what overlapped, for the run's summary."""
        lines = []
        for step in sorted(self.spans, key=lambda s: s.start_s):
            where = ", in the background" if step.background else ""
            lines.append(
                f"{step.name}: {step.seconds:.0f} s (at {step.start_s:.0f}-{step.end_s:.0f} s{where})"
            )
        for step, beside in self.overlapped():
            names = ", ".join(other.name for other in beside) or "nothing"
            lines.append(f"overlapped: {step.name} ran beside {names}")
        return lines


class Background:
    """``work`` in a thread from now on; ``wait()`` joins it and raises what it raised.

    A daemon thread: an interrupted run does not wait for a build to finish.
    """

    def __init__(self, work: Callable[[], None]) -> None:
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, args=(work,), name="untimed", daemon=True)
        self._thread.start()

    def _run(self, work: Callable[[], None]) -> None:
        try:
            work()
        except BaseException as error:  # re-raised in the main thread by wait()
            self._error = error

    def wait(self) -> None:
        self._thread.join()
        if self._error is not None:
            raise self._error
