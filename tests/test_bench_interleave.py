"""Process rounds: a fresh seeded order per round, every variant once; the timed loop; cgroup facts."""

from __future__ import annotations

import time

import numpy as np

from harness.bench.cgroup import CpuThrottling, parse_cpu_stat, read_throttling
from harness.bench.eval_set import batch_images
from harness.bench.timing import MAX_EXTRA_CALLS, round_orders, time_calls, warm_up

NAMES = ["a", "b", "c", "d", "e"]


def test_the_order_changes_per_round_and_is_reproducible_from_the_seed():
    orders = list(round_orders(NAMES, rounds=40, seed=7))
    assert all(sorted(order) == NAMES for order in orders)  # each variant once per round
    huge = round_orders(NAMES, rounds=10**9, seed=7)  # drawn lazily: no memory for 10^9 orders
    assert [next(huge) for _ in range(40)] == orders
    assert len({tuple(order) for order in orders}) > 20  # not one rotated order
    assert list(round_orders(NAMES, rounds=40, seed=7)) == orders  # the recorded seed replays it
    assert list(round_orders(NAMES, rounds=40, seed=8)) != orders
    # no variant keeps the same predecessor inside its rounds
    for name in NAMES:
        predecessors = {order[order.index(name) - 1] for order in orders if order.index(name) > 0}
        assert len(predecessors) > 1, name


def test_time_calls_times_consecutive_calls_and_reports_each_at_once():
    calls: list[int] = []
    seen: list[tuple[int, float]] = []
    ran = time_calls(
        lambda: calls.append(len(seen)), 4, 0.0, lambda index, seconds: seen.append((index, seconds))
    )
    assert ran == 4 and calls == [0, 1, 2, 3]  # each report arrives before the next call
    assert [index for index, _ in seen] == [0, 1, 2, 3] and min(s for _, s in seen) >= 0


def test_short_calls_are_timed_until_the_minimum_time_and_warm_up_waits_too():
    seen: list[float] = []
    ran = time_calls(lambda: time.sleep(0.002), 3, 0.05, lambda index, seconds: seen.append(seconds))
    assert ran == len(seen) > 3 and sum(seen) >= 0.05
    assert time_calls(lambda: None, 3, 60.0, lambda index, seconds: None) == MAX_EXTRA_CALLS  # capped
    started = time.perf_counter()
    assert warm_up(lambda: None, 2, 0.05) > 2 and time.perf_counter() - started >= 0.05
    assert warm_up(lambda: time.sleep(0.03), 3, 0.01) == 3  # at least the calls asked for


def test_cpu_stat_of_cgroup_v1_and_v2(tmp_path):
    v1 = parse_cpu_stat("nr_periods 120\nnr_throttled 7\nthrottled_time 2500000000\n")
    v2 = parse_cpu_stat("usage_usec 9\nnr_periods 50\nnr_throttled 2\nthrottled_usec 1500000\n")
    assert v1 == CpuThrottling(120, 7, 2.5) and v2 == CpuThrottling(50, 2, 1.5)
    assert v1.since(CpuThrottling(100, 5, 1.0)) == CpuThrottling(20, 2, 1.5)
    assert parse_cpu_stat("usage_usec 9\n") is None  # no cpu controller counters
    stat = tmp_path / "cpu.stat"
    stat.write_text("nr_periods 3\nnr_throttled 0\nthrottled_time 0\n")
    assert read_throttling((tmp_path / "missing", stat)) == CpuThrottling(3, 0, 0.0)
    assert read_throttling((tmp_path / "missing",)) is None


def test_batch_images_cycles_small_eval_sets():
    images = np.arange(3 * 2 * 2 * 1, dtype=np.uint8).reshape(3, 2, 2, 1)
    out = batch_images(images, 7)
    assert out.shape == (7, 2, 2, 1) and out.dtype == np.float32
    assert np.array_equal(out[3], out[0]) and out.max() <= 1.0


def test_oom_kills_and_the_memory_limit_of_cgroup_v1_and_v2(tmp_path):
    from harness.bench.cgroup import memory_limit_bytes, oom_reason, read_oom_kills

    v1, v2 = tmp_path / "memory.oom_control", tmp_path / "memory.events"
    v1.write_text("oom_kill_disable 0\nunder_oom 0\noom_kill 3\n")
    v2.write_text("low 0\nhigh 0\nmax 9\noom 2\noom_kill 2\n")
    assert read_oom_kills((tmp_path / "missing", v1)) == 3 and read_oom_kills((v2,)) == 2
    assert read_oom_kills((tmp_path / "missing",)) is None
    limit = tmp_path / "limit"
    limit.write_text("67108864\n")
    assert memory_limit_bytes((limit,)) == 64 * 2**20
    limit.write_text("9223372036854771712\n")  # v1 without a limit
    assert memory_limit_bytes((limit,)) is None
    limit.write_text("max\n")  # v2 without a limit
    assert memory_limit_bytes((limit,)) is None
    # the host's words for a container killed at its limit (runner.classify)
    assert oom_reason(64 * 2**20) == "OOM-killed at the 0.1 GiB memory limit (raise --memory)"


def test_throttling_is_summed_over_workers_and_warns_only_when_it_happened():
    from harness.bench.result_writer import BatchTimings, throttling_warning

    timings = BatchTimings()
    timings.add_throttling({"periods": None})  # unreadable: unknown, not zero
    assert timings.throttling is None and throttling_warning(timings.throttling) == []
    timings.add_throttling({"periods": 100, "throttled_periods": 0, "throttled_s": 0.0})
    assert throttling_warning(timings.throttling) == []
    timings.add_throttling({"periods": 50, "throttled_periods": 4, "throttled_s": 0.25})
    assert timings.throttling == {"periods": 150, "throttled_periods": 4, "throttled_s": 0.25}
    [warning] = throttling_warning(timings.throttling)
    assert warning.startswith("CPU throttled in 4 of 150 scheduler periods (0.25 s)")
