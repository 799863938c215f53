"""Peak memory of ``measure --variants all --batch 10000`` (the 2018 batch), the whole process tree.

    .venv/bin/python benchmarks/peak_memory_b10000.py --artifacts artifacts [--limit-gb 4]

Runs the real measure command under ``/usr/bin/time -v`` (its "Maximum resident
set size" is the largest single process: measure or one of its workers) and
samples the summed RSS of measure and all its children every 0.2 s with psutil
(the total the machine must hold). Prints both and exits 1 when either exceeds
--limit-gb.
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psutil

REPO = Path(__file__).resolve().parent.parent
GIB = 2**30


def tree_rss_bytes(root: psutil.Process) -> int:
    total = 0
    for process in [root, *root.children(recursive=True)]:
        try:
            total += process.memory_info().rss
        except psutil.Error:
            continue
    return total


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--artifacts", type=Path, required=True)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument(
        "--repeats", type=int, default=2, help="timed rounds in all (memory does not need many)"
    )
    parser.add_argument("--processes", type=int, default=1)
    parser.add_argument("--limit-gb", type=float, default=4.0)
    args = parser.parse_args()
    out = Path(tempfile.mkdtemp(prefix="qb-b10000-"))
    command = [
        "/usr/bin/time", "-v", sys.executable, "-m", "harness", "measure",
        "--artifacts", str(args.artifacts), "--variants", "all", "--batch", "10000",
        "--threads", str(args.threads), "--warmup", "1", "--repeats", str(args.repeats),
        "--processes", str(args.processes), "--out", str(out),
    ]  # fmt: skip
    started = time.monotonic()
    proc = subprocess.Popen(command, cwd=REPO, stderr=subprocess.PIPE, text=True)
    root = psutil.Process(proc.pid)
    tree_peak = 0
    while proc.poll() is None:
        tree_peak = max(tree_peak, tree_rss_bytes(root))
        time.sleep(0.2)
    stderr = proc.stderr.read()
    elapsed = time.monotonic() - started
    match = re.search(r"Maximum resident set size \(kbytes\): (\d+)", stderr)
    if proc.returncode != 0 or not match:
        print(stderr[-3000:], file=sys.stderr)
        print(f"measure failed (exit {proc.returncode})", file=sys.stderr)
        return 2
    largest = int(match[1]) * 1024
    print(f"measure --variants all --batch 10000, {args.threads} threads: {elapsed:.0f} s")
    print(f"/usr/bin/time -v maximum RSS (largest process): {largest / GIB:.2f} GiB")
    print(f"sampled peak RSS of the whole process tree:     {tree_peak / GIB:.2f} GiB")
    worst = max(largest, tree_peak)
    verdict = "within" if worst <= args.limit_gb * GIB else "OVER"
    print(f"{verdict} the {args.limit_gb:g} GiB limit; results in {out}")
    return 0 if worst <= args.limit_gb * GIB else 1


if __name__ == "__main__":
    sys.exit(main())
