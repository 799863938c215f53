"""Interleaving: every round runs every variant once, in a rotated order."""

from __future__ import annotations

from types import SimpleNamespace

from harness.bench.measure import batch_images, interleave


def test_round_robin_with_rotation():
    calls: list[str] = []
    names = ["a", "b", "c"]
    states = {n: SimpleNamespace(runner=SimpleNamespace(call=lambda n=n: calls.append(n))) for n in names}
    timings = {n: [] for n in names}
    interleave(states, names, repeats=4, timings=timings, log=print)
    assert calls == ["a", "b", "c", "b", "c", "a", "c", "a", "b", "a", "b", "c"]
    assert all(len(t) == 4 and all(s >= 0 for s in t) for t in timings.values())


def test_batch_images_cycles_small_eval_sets():
    import numpy as np

    images = np.arange(3 * 2 * 2 * 1, dtype=np.uint8).reshape(3, 2, 2, 1)
    out = batch_images(images, 7)
    assert out.shape == (7, 2, 2, 1) and out.dtype == np.float32
    assert np.array_equal(out[3], out[0]) and out.max() <= 1.0
