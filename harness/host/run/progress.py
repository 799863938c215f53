"""Progress of a bench container, read from its log lines, shown as a rich bar.

The step counters are plain data fed one line at a time (testable without a
terminal); ``ContainerProgress`` only renders them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from rich.console import Console

_EVALUATING = re.compile(r"^evaluating \S+ on \d+ images")
_BATCH = re.compile(r"^batch \d+: timing \S+, (\d+) calls")
_ROUND = re.compile(r"^\s*call (\d+)/(\d+)")
_PREPARE_STEP = re.compile(r"^(training |quantization-aware |  [a-z0-9-]+: [\d.]+ MB in )")
_PREPARE_REUSED = re.compile(r"up to date .*: reused")


@dataclass
class MeasureSteps:
    """measure's work: one evaluation per variant, then per worker process and batch size one
    segment of ``rounds_per_worker`` timed calls."""

    evaluations: int
    workers: int
    rounds_per_worker: int
    evaluated: int = 0
    batches_started: int = 0  # workers that started timing
    rounds: int = 0

    @property
    def total(self) -> int:
        return self.evaluations + self.workers * self.rounds_per_worker

    @property
    def completed(self) -> int:
        finished_workers = max(self.batches_started - 1, 0)
        return min(self.evaluated + finished_workers * self.rounds_per_worker + self.rounds, self.total)

    def feed(self, line: str) -> None:
        if _EVALUATING.match(line):
            self.evaluated += 1
        elif _BATCH.match(line):
            self.batches_started += 1
            self.rounds = 0
        elif match := _ROUND.match(line):
            self.rounds = int(match[1])


@dataclass
class PrepareSteps:
    """prepare's work: float training, QAT, then one conversion per variant."""

    variants: int
    done: int = 0

    @property
    def total(self) -> int:
        return 2 + self.variants

    @property
    def completed(self) -> int:
        return min(self.done, self.total)

    def feed(self, line: str) -> None:
        if _PREPARE_REUSED.search(line):
            self.done = self.total
        elif _PREPARE_STEP.match(line):
            self.done += 1


class ContainerProgress:
    """A rich progress bar for one container; log lines print above it."""

    def __init__(self, console: Console, title: str, steps: MeasureSteps | PrepareSteps):
        self.steps = steps
        self.title = title
        from harness.host.bars import step_bar

        self.progress = step_bar(console)
        self.task = self.progress.add_task("starting", total=steps.total, title=title)

    def __enter__(self) -> ContainerProgress:
        self.progress.start()
        return self

    def __exit__(self, *exc_info) -> None:
        self.progress.stop()

    def line(self, text: str) -> None:
        """One log line of the container: print it and move the bar."""
        from rich.text import Text

        self.steps.feed(text)
        self.progress.console.print(Text(f"  {self.title} | {text}", style="dim"), highlight=False)
        self.progress.update(self.task, completed=self.steps.completed, description=text.strip()[:60])

    def finish(self, description: str) -> None:
        self.progress.update(self.task, description=description)
