"""A bench step's progress: free text for people, and (with ``--events``) JSON events for the host.

Both go to stderr, flushed; stdout carries only the command's final summary.
"""

from __future__ import annotations

import sys
import threading
from dataclasses import dataclass, field
from typing import TextIO

from harness.schema import ProgressEvent


@dataclass
class StepProgress:
    """done of total units of one step ("prepare", "measure"); ``total`` may grow as it is known."""

    step: str
    total: int = 0
    events: bool = False  # write ProgressEvent lines for the host
    done: int = 0
    stream: TextIO = field(default=sys.stderr, repr=False)
    # prepare reports side conversions from a reader thread: one whole line per write
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def log(self, text: str) -> None:
        """One line of free text (the step's log file; the console only with --verbose)."""
        self._write(text)

    def __call__(self, text: str) -> None:  # usable wherever a log callback is expected
        self.log(text)

    def advance(self, units: int = 1, detail: str = "") -> None:
        self.reach(self.done + units, detail)

    def reach(self, done: int, detail: str = "") -> None:
        """Set done (it never goes back)."""
        self.done = max(self.done, min(done, self.total or done))
        self._emit(detail, "info")

    def message(self, level: str, text: str) -> None:
        """A warning or error: logged, and shown on the host's console."""
        self.log(f"{level}: {text}")
        self._emit(text, level)

    def _emit(self, detail: str, level: str) -> None:
        if self.events:
            event = ProgressEvent(self.step, self.done, self.total, detail, level)
            self._write(event.to_line())

    def _write(self, line: str) -> None:
        with self._lock:
            self.stream.write(line + "\n")
            self.stream.flush()
