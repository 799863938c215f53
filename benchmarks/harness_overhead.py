"""How much does the measure loop add to a bare ``invoke()`` loop? (issue 2 target: < 1 %)

    .venv/bin/python benchmarks/harness_overhead.py --artifacts /tmp/a [--variant tflite-int8]

Both loops time the same warm interpreter at batch 1, in alternating blocks so
drift on a shared machine hits both alike: the bare loop, and the loop a
measure worker runs (``timing.time_calls``). Prints both medians and their ratio.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from harness.bench import manifest as mf
from harness.bench.eval_set import batch_images, load_eval_set
from harness.bench.runtimes import load_runner
from harness.bench.timing import time_calls


def bare_loop(interpreter, count: int) -> list[float]:
    timings = []
    clock = time.perf_counter
    for _ in range(count):
        start = clock()
        interpreter.invoke()
        timings.append(clock() - start)
    return timings


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--artifacts", type=Path, required=True)
    parser.add_argument("--variant", default="tflite-int8")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--blocks", type=int, default=10)
    parser.add_argument("--block-size", type=int, default=100)
    args = parser.parse_args()

    manifest = mf.read_manifest(args.artifacts)
    entry = manifest.entry(args.variant)
    runner = load_runner(entry.runtime, mf.verify_artifact(args.artifacts, entry), args.threads)
    images, _ = load_eval_set(args.artifacts / manifest.eval_file, None)
    runner.prepare(1, batch_images(images, 1))
    bare: list[float] = []
    harness: list[float] = []
    for _ in range(args.blocks):
        bare += bare_loop(runner._interpreter, args.block_size)
        time_calls(runner.call, args.block_size, lambda index, seconds: harness.append(seconds))
    bare_ms = 1000 * statistics.median(bare)
    harness_ms = 1000 * statistics.median(harness)
    print(f"{args.variant} batch 1, {args.threads} threads, {len(bare)} calls each")
    print(f"bare invoke() loop  median {bare_ms:.4f} ms")
    print(f"measure loop        median {harness_ms:.4f} ms")
    print(f"ratio measure/bare  {harness_ms / bare_ms:.4f} ({100 * (harness_ms / bare_ms - 1):+.2f} %)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
