"""``measure --resume``: what an interrupted run still owes, and its unfinished files set aside."""

from __future__ import annotations

import platform
import sys
from typing import TYPE_CHECKING

from harness import schema
from harness.arches import arch_of_machine

if TYPE_CHECKING:
    from harness.bench.measure import MeasureConfig


def pending_work(
    config: MeasureConfig, timed: list[str], input_size: int = schema.SEED_INPUT_SIZE
) -> set[tuple[str, int]]:
    """(variant, batch) pairs still to measure at the artifacts' input size; with --resume, skip
    finished ones."""
    todo = {(v, b) for v in timed for b in config.batch_sizes()}
    if not config.resume:
        return todo
    arch = arch_of_machine(platform.machine()) or platform.machine()
    for variant, batch in list(todo):
        probe = schema.Result(
            variant,
            "",
            batch,
            config.threads,
            config.run_id,
            host=config.host,
            arch=arch,
            scenario=config.scenario,
            input_size=input_size,
        )
        path = config.out / probe.file_name()
        if not path.exists():
            continue
        try:
            done = schema.load_result(path).status == schema.STATUS_OK
        except schema.SchemaError as error:
            print(f"resume: {path} is not a valid result ({error}); measuring it again.", file=sys.stderr)
            done = False
        if done:
            todo.discard((variant, batch))
        else:  # keep the unfinished file, out of the way of the new one
            schema.set_aside(path)
    return todo
