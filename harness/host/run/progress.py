"""A bench container's progress bar, drawn from the JSON events the bench writes (``--events``).

The bench says how far it is (``harness.schema.ProgressEvent``: done of total, what it does
now); the host draws that and nothing else, so rewording a log message cannot freeze a bar.
Free text goes to the step's log file only (and to the console with ``--verbose``);
warnings and errors the bench sends as events are printed above the bar.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from harness.schema import ProgressEvent

if TYPE_CHECKING:
    from rich.console import Console
    from rich.progress import Progress


@dataclass
class BarState:
    """What the bar shows, from the events seen so far (plain data: testable without a terminal)."""

    done: int = 0
    total: int | None = None  # None until the bench has said
    detail: str = "starting"
    events: int = 0

    def feed(self, line: str) -> ProgressEvent | None:
        """Fold one container line; return the event it held (None: free text)."""
        event = ProgressEvent.from_line(line)
        if event is None:
            return None
        self.events += 1
        self.total = event.total or self.total
        self.done = max(self.done, event.done)  # lines from one process arrive in order; never go back
        if event.detail and event.level == "info":
            self.detail = event.detail
        return event


class ContainerProgress:
    """A rich progress bar for one container: its own display, or a task in ``bars``, a display
    shared by the containers of several machines that run at the same time."""

    def __init__(self, console: Console, title: str, *, verbose: bool = False, bars: Progress | None = None):
        from harness.host.engine.builder import step_bar

        self.state = BarState()
        self.title = title
        self.verbose = verbose
        self.shared = bars is not None
        self.progress = bars if bars is not None else step_bar(console)
        self.task = self.progress.add_task("starting", total=None, title=title)

    def __enter__(self) -> ContainerProgress:
        if not self.shared:
            self.progress.start()
        return self

    def __exit__(self, *exc_info) -> None:
        if not self.shared:
            self.progress.stop()

    def line(self, text: str) -> None:
        """One line the container wrote: an event moves the bar; free text shows only if verbose."""
        from rich.text import Text

        event = self.state.feed(text)
        if event is not None and event.level != "info":
            style = "red" if event.level == "error" else "yellow"
            self.progress.console.print(Text(f"  {self.title}: {event.level}: {event.detail}", style=style))
        elif event is None and self.verbose:
            self.progress.console.print(Text(f"  {self.title} | {text}", style="dim"), highlight=False)
        state = self.state
        self.progress.update(
            self.task, completed=state.done, total=state.total, description=state.detail[:60]
        )

    def finish(self, description: str) -> None:
        self.progress.update(self.task, description=description)
