"""The order of the worker processes, and the timed loop inside one.

Each variant is timed in worker processes of its own, a bare loop of
consecutive calls, the way a program that serves one model runs it (measured
here: a ResNet-50 int8 model that shares a process with four others, called
in turn, ran batch 1 at 1.28 ms against 0.70 ms alone, its weights evicted
from the cache and other interpreters' thread pools in its way). Variants
take turns by process: in process round k every variant gets one process, in
an order drawn from the run's seed, so no variant always follows the same one.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator

import numpy as np


def round_orders(names: list[str], rounds: int, seed: int) -> Iterator[list[str]]:
    """The order of every round, drawn as it is needed: a permutation per round from a
    generator seeded by ``seed`` (lazy: 10^8 rounds hold one order at a time)."""
    rng = np.random.default_rng(seed)
    for _ in range(rounds):
        yield [names[i] for i in rng.permutation(len(names))]


# Calls that ``min_seconds`` may add, at most (a 0.05 ms model would otherwise give 10^4).
MAX_EXTRA_CALLS = 1000


def time_calls(
    call: Callable[[], None], count: int, min_seconds: float, on_call: Callable[[int, float], None]
) -> int:
    """Time consecutive calls, at least ``count`` of them and, up to ``MAX_EXTRA_CALLS`` calls,
    for at least ``min_seconds`` of timed work; ``on_call(index, seconds)`` right after each
    one. Returns how many ran.

    The timed region holds the call and two clock reads, nothing else.
    """
    clock = time.perf_counter
    timed = 0.0
    index = 0
    while index < count or (timed < min_seconds and index < MAX_EXTRA_CALLS):
        start = clock()
        call()
        elapsed = clock() - start
        timed += elapsed
        on_call(index, elapsed)
        index += 1
    return index


def warm_up(call: Callable[[], None], min_calls: int, min_seconds: float) -> int:
    """Call until both ``min_calls`` calls and ``min_seconds`` have passed; return the calls made.

    A fresh process needs time, not only calls, to reach its steady state (thread pools
    spun up, weights in the cache, clocks up): measured here, ResNet-50 int8 at batch 1
    fell from 1.14 to 0.86 ms over its first 10 calls after 3 warm-up calls, and settled
    near 0.65 ms.
    """
    clock = time.perf_counter
    deadline = clock() + min_seconds
    calls = 0
    while calls < min_calls or clock() < deadline:
        call()
        calls += 1
    return calls
