"""Measure on every box at once; on each box, one container at a time.

A box is one physical machine (``machines.box_of``). Two containers on one box would share
its cores, caches and memory bandwidth and disturb each other's timings, so a box's targets
run one after another; different boxes share nothing and run in parallel, each in its own
thread, with their bars in one display. With one box there is no thread at all: the run is
what it was before fleets (Ctrl-C reaches the container through the main thread).

Ctrl-C in the main thread sets ``stop``; every box interrupts its container, keeps what it
delivered and stops. Whatever a box's work raises is re-raised in the main thread once every
box has stopped.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TYPE_CHECKING

from harness.host.engine import runner
from harness.host.run.plan import ContainerRecord, Target

if TYPE_CHECKING:
    from rich.console import Console
    from rich.progress import Progress

# One target's passes: (target, stop, shared bars) -> its records, the last INTERRUPTED if it was.
TargetWork = Callable[[Target, threading.Event | None, "Progress | None"], list[ContainerRecord]]
JOIN_POLL_S = 0.5


def by_box(targets: list[Target]) -> dict[str, list[Target]]:
    """Targets grouped by box, each box's in the order given."""
    boxes: dict[str, list[Target]] = {}
    for target in targets:
        boxes.setdefault(target.box, []).append(target)
    return boxes


def measure_boxes(targets: list[Target], work: TargetWork, console: Console) -> list[ContainerRecord]:
    """Run work on every target: boxes in parallel, each box's targets one after another.

    The records come back box by box, in the order of the boxes' first targets.
    """
    boxes = by_box(targets)
    if len(boxes) <= 1:
        records: list[ContainerRecord] = []
        for target in targets:
            records += work(target, None, None)
            if _interrupted(records):
                break
        return records
    return _parallel(list(boxes.values()), work, console)


def _parallel(boxes: list[list[Target]], work: TargetWork, console: Console) -> list[ContainerRecord]:
    from harness.host.engine.builder import step_bar

    stop = threading.Event()
    bars = step_bar(console)
    results: list[list[ContainerRecord]] = [[] for _ in boxes]
    errors: list[BaseException] = []

    def one_box(index: int) -> None:
        try:
            for target in boxes[index]:
                if stop.is_set():
                    break
                results[index] += work(target, stop, bars)
                if _interrupted(results[index]):
                    stop.set()  # a container was interrupted: the run stops everywhere
        except BaseException as error:  # re-raised in the main thread
            errors.append(error)
            stop.set()

    threads = [
        threading.Thread(target=one_box, args=(i,), name=f"box-{i}", daemon=True) for i in range(len(boxes))
    ]
    bars.start()
    try:
        for thread in threads:
            thread.start()
        _join(threads, stop)
    finally:
        bars.stop()
    if errors:
        raise errors[0]
    return [record for box in results for record in box]


def _join(threads: list[threading.Thread], stop: threading.Event) -> None:
    """Wait for every box; Ctrl-C sets stop and goes on waiting while they clean up."""
    while any(thread.is_alive() for thread in threads):
        try:
            for thread in threads:
                thread.join(timeout=JOIN_POLL_S)
        except KeyboardInterrupt:
            stop.set()


def _interrupted(records: list[ContainerRecord]) -> bool:
    return bool(records) and records[-1].outcome.kind == runner.INTERRUPTED
