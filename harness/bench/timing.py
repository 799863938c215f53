"""The timed rounds inside one worker process: a fresh seeded order per round.

Each round runs every variant once, in an order drawn from a generator seeded
by the worker's seed, so no variant always follows the same neighbour and a run
can be replayed. Only the runtime call is timed.

At a huge batch (more than ``RESIDENT_BATCH_LIMIT`` images) at most one variant
holds its activations at a time: it is sized up, timed once and sized back
down before the next one runs, so memory stays that of the largest variant.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field

import numpy as np

# Above this batch the activations of one ResNet-50 variant need GBs (batch 10,000:
# about 2-3 GB for fp32 at 32x32), so variants take turns holding them.
RESIDENT_BATCH_LIMIT = 1024


@dataclass
class RoundTimings:
    """What one round measured: the order it ran in and each variant's seconds."""

    round_index: int
    order: list[str]
    seconds: dict[str, float] = field(default_factory=dict)


def round_orders(names: list[str], rounds: int, seed: int) -> Iterator[list[str]]:
    """The order of every round, drawn as it is needed: a permutation per round from a
    generator seeded by ``seed`` (lazy: a run of 10^8 rounds holds one order at a time)."""
    rng = np.random.default_rng(seed)
    for _ in range(rounds):
        yield [names[i] for i in rng.permutation(len(names))]


def worker_seed(base_seed: int, batch: int, process_index: int, family: str) -> int:
    """The order seed of one worker, derived from the run's seed (recorded in every result)."""
    family_key = int.from_bytes(family.encode()[:8].ljust(8, b"\0"), "little")
    sequence = np.random.SeedSequence([base_seed, batch, process_index, family_key])
    return int(sequence.generate_state(1, dtype=np.uint64)[0] >> np.uint64(1))


def resident(batch: int) -> bool:
    """Whether every variant may keep its batch-sized buffers between calls."""
    return batch <= RESIDENT_BATCH_LIMIT


def run_rounds(
    calls: dict[str, Callable[[], None]],
    orders: Iterable[list[str]],
    on_round: Callable[[RoundTimings], None],
    *,
    size_up: Callable[[str], None] | None = None,
    size_down: Callable[[str], None] | None = None,
) -> None:
    """Time every round; ``on_round`` gets each one as soon as it is done.

    With ``size_up``/``size_down`` (a huge batch) each variant is sized up before
    its call and sized down after it, both untimed.
    """
    clock = time.perf_counter
    for round_index, order in enumerate(orders):
        timings = RoundTimings(round_index, list(order))
        for name in order:
            call = calls[name]
            if size_up is not None:
                size_up(name)
            start = clock()
            call()
            elapsed = clock() - start
            if size_down is not None:
                size_down(name)
            timings.seconds[name] = elapsed
        on_round(timings)
