"""How far apart fresh processes of one file run, outside the harness: a bare loop per process.

    .venv/bin/python benchmarks/process_spread.py --artifacts artifacts --variant openvino-int8 \
        [--batch 1] [--processes 12] [--calls 300] [--threads 2] [--setting KEY=VALUE ...]

Each process imports only the runtime, loads the one file as its documentation shows
(``bare_invoke_ratio.py``'s children), warms it and times ``--calls`` bare calls; its median
is one sample. Printed: every process's median, the spread (largest / smallest) and how many
processes lie within 1.25x of their median (the report's centre rule). ``--setting`` passes
the runtime's own threading options to every process, to see which one moves the spread:
OpenVINO compile properties (``ENABLE_CPU_PINNING=NO``, ``INFERENCE_NUM_THREADS=1``) or
ONNX Runtime session config entries (``session.intra_op.allow_spinning=0``).
"""

from __future__ import annotations

import argparse
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bare_invoke_ratio import CHILDREN, child_median_s

from harness import schema
from harness.bench import manifest as mf

HOOKS = {
    "openvino": ('config.update(json.load(open(path + "/compile.json")))', "config.update(SETTINGS)"),
    "ort": (
        "session = ort.InferenceSession(",
        "[options.add_session_config_entry(k, v) for k, v in SETTINGS.items()]",
    ),
}


def child_code(family: str, settings: dict[str, str]) -> str:
    """The bare-loop child of family, with settings applied where the runtime takes them."""
    code = CHILDREN[family]
    if not settings:
        return code
    if family not in HOOKS:
        raise SystemExit(f"--setting is for OpenVINO or ONNX Runtime files, not {family}")
    anchor, hook = HOOKS[family]
    prefix = f"SETTINGS = {settings!r}\n"
    if family == "openvino":
        return prefix + code.replace(anchor, f"{anchor}\n{hook}")
    return prefix + code.replace(anchor, f"{hook}\n{anchor}")


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--artifacts", type=Path, required=True)
    parser.add_argument("--variant", required=True)
    parser.add_argument("--batch", type=int, default=1)
    parser.add_argument("--processes", type=int, default=12)
    parser.add_argument("--calls", type=int, default=300)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--setting", action="append", default=[], metavar="KEY=VALUE")
    args = parser.parse_args()
    settings = dict(item.split("=", 1) for item in args.setting)
    manifest = mf.read_manifest(args.artifacts)
    entry = manifest.entry(args.variant)
    family = schema.variant_info(args.variant)[0]
    path = mf.verify_artifact(args.artifacts, entry)
    side, channels = manifest.input_size, manifest.input_channels
    shape = (
        [args.batch, channels, side, side]
        if entry.input_layout == "NCHW"
        else [args.batch, side, side, channels]
    )
    code = child_code(family, settings)
    medians = [child_median_s(code, path, args.threads, args.calls, shape) for _ in range(args.processes)]
    centre = statistics.median(medians)
    near = sum(max(m / centre, centre / m) <= 1.25 for m in medians)
    shown = " ".join(f"{1000 * m:.3f}" for m in medians)
    print(
        f"{args.variant} batch {args.batch}, {args.threads} threads, {settings or 'defaults'}: "
        f"process medians (ms) {shown}; spread {max(medians) / min(medians):.2f}x; "
        f"{near} of {len(medians)} within 1.25x of their median {1000 * centre:.3f} ms"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
