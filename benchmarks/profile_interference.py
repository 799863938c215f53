"""Does the profiled pass change a timed call? The worst case: timed calls right after it, in its process.

    .venv/bin/python benchmarks/profile_interference.py --artifacts artifacts [--batch 64]
        [--variants tflite-fp32,tflite-int8,ort-fp32,ort-int8,openvino-fp32,openvino-int8,tf-fp32]

``measure`` profiles a variant only after the last timed call of its first
worker process, and every other timed call runs in a process started later: no
timed call follows a profile in its own process. This checks the stronger case.
Per variant, one fresh process loads the runner, warms it, then times
``--blocks`` pairs of blocks of ``--calls`` calls: before the first block of each
pair it runs a whole profiled pass (``op_profile``), before the second it runs
nothing. Pairs share the process's drift, so the ratio of their medians
(after profile / after nothing) shows what a profile leaves behind (caches,
allocator, thread pools, clocks). Printed per variant: the median of the pair
ratios and the range.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

CHILD = """
import json, statistics, sys, time
sys.path.insert(0, {repo!r})
from pathlib import Path
from harness.bench import manifest as mf
from harness.bench.eval_set import batch_images, load_eval_set
from harness.bench.runtimes import configure_threads, load_runner

artifacts, variant, batch, calls, blocks, threads = {args!r}
manifest = mf.read_manifest(Path(artifacts))
entry = manifest.entry(variant)
images, _ = load_eval_set(Path(artifacts) / manifest.eval_file, None)
configure_threads({{entry.runtime}}, threads)
runner = load_runner(entry.runtime, mf.verify_artifact(Path(artifacts), entry), threads)
batch_input = batch_images(images, batch)
runner.prepare(batch, batch_input)
deadline = time.perf_counter() + 1.0
while time.perf_counter() < deadline:
    runner.call()

def block():
    timings = []
    for _ in range(calls):
        start = time.perf_counter()
        runner.call()
        timings.append(time.perf_counter() - start)
    return statistics.median(timings)

pairs = []
for _ in range(blocks):
    runner.op_profile(batch, batch_input)
    runner.prepare(batch, batch_input)  # the timed call's own buffers again, as measure's would be
    after_profile = block()
    runner.prepare(batch, batch_input)
    after_nothing = block()
    pairs.append((after_profile, after_nothing))
print(json.dumps(pairs))
"""

DEFAULT_VARIANTS = "tflite-fp32,tflite-int8,ort-fp32,ort-int8,openvino-fp32,openvino-int8,tf-fp32"


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--artifacts", type=Path, required=True)
    parser.add_argument("--variants", default=DEFAULT_VARIANTS)
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--calls", type=int, default=10, help="timed calls per block")
    parser.add_argument("--blocks", type=int, default=4, help="pairs of blocks per variant")
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    repo = str(Path(__file__).resolve().parent.parent)
    print(f"batch {args.batch}, {args.threads} threads, {args.blocks} pairs of {args.calls} calls")
    print(f"{'variant':15} {'after profile / after nothing':>30}  pairs")
    for variant in args.variants.split(","):
        child = CHILD.format(
            repo=repo,
            args=(str(args.artifacts), variant, args.batch, args.calls, args.blocks, args.threads),
        )
        proc = subprocess.run([sys.executable, "-c", child], capture_output=True, text=True, check=False)
        if proc.returncode != 0:
            print(f"{variant:15} failed: {proc.stderr.strip().splitlines()[-1:]}")
            continue
        pairs = json.loads(proc.stdout.strip().splitlines()[-1])
        ratios = [profiled / plain for profiled, plain in pairs]
        low, high = min(ratios), max(ratios)
        middle = statistics.median(ratios)
        shown = " ".join(f"{1000 * a:.1f}/{1000 * b:.1f}" for a, b in pairs)
        print(f"{variant:15} {middle:>22.3f} [{low:.3f}–{high:.3f}]  {shown} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
