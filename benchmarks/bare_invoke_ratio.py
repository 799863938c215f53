"""An independent check of measure's int8 speed-up: a bare call loop, one model per process.

    .venv/bin/python benchmarks/bare_invoke_ratio.py --artifacts artifacts [--results results/]
        [--variant tflite-int8 | ort-int8 | openvino-int8 | ...]

``--artifacts artifacts/224x224`` checks the 224×224 set (its manifest names the side; only
results of that side are compared); ``--artifacts artifacts-mobilenetv2.keras`` a user's model's set
(each file is fed in its own layout, NHWC or NCHW, with the model's channels);
``--artifacts tune/resnet50/set --variant ort-int8-qdq~qdq-u8s8`` a candidate of ``quantbench tune``
against the results of the tune run.

For each batch, fresh Python processes alternate between the variant's float
baseline and the variant (``--pairs`` of each); each process imports only the
runtime (LiteRT, ONNX Runtime or OpenVINO), loads only that one model the way
the runtime's documentation shows, warms it and times ``--calls`` bare calls. The
ratio is median(fp32 medians) / median(int8 medians). With ``--results`` it also
prints the speed-up the report gives for ``measure``'s results and their relative
difference.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from harness import schema
from harness.bench import manifest as mf
from harness.report.analysis import speedup

# Each runs in a fresh interpreter: nothing of quantbench, only the runtime and numpy,
# written from the runtime's documentation (not from quantbench's runners).
TIMING = """
images = np.random.default_rng(0).random(shape, dtype=np.float32)
setup(images)
for _ in range(5):
    call()
timings = []
for _ in range(calls):
    start = time.perf_counter()
    call()
    timings.append(time.perf_counter() - start)
print(json.dumps(timings))
"""
HEAD = """
import json, sys, time
import numpy as np
path, threads, calls, shape = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), json.loads(sys.argv[4])
"""
CHILDREN = {
    "litert": HEAD
    + """
from ai_edge_litert.interpreter import Interpreter
interpreter = Interpreter(model_path=path, num_threads=threads)
index = interpreter.get_input_details()[0]["index"]
interpreter.resize_tensor_input(index, shape)
interpreter.allocate_tensors()
def setup(images):
    interpreter.set_tensor(index, images)
call = interpreter.invoke
"""
    + TIMING,
    "ort": HEAD
    + """
import onnxruntime as ort
options = ort.SessionOptions()
options.intra_op_num_threads, options.inter_op_num_threads = threads, 1
session = ort.InferenceSession(path, options, providers=["CPUExecutionProvider"])
name = session.get_inputs()[0].name
feed = {}
def setup(images):
    feed[name] = images
def call():
    session.run(None, feed)
"""
    + TIMING,
    "openvino": HEAD
    + """
import openvino as ov
core = ov.Core()
model = core.read_model(path + "/model.xml")
model.reshape(shape)
config = {"INFERENCE_NUM_THREADS": threads, "NUM_STREAMS": 1, "PERFORMANCE_HINT": "LATENCY"}
config.update(json.load(open(path + "/compile.json")))
request = core.compile_model(model, "CPU", config).create_infer_request()
def setup(images):
    request.set_input_tensor(ov.Tensor(images))
call = request.infer
"""
    + TIMING,
}


def bare_median_s(family: str, path: Path, threads: int, calls: int, shape: list[int]) -> float:
    return child_median_s(CHILDREN[family], path, threads, calls, shape)


def child_median_s(code: str, path: Path, threads: int, calls: int, shape: list[int]) -> float:
    """The median call of a fresh interpreter running code (a child of CHILDREN, maybe altered)."""
    out = subprocess.run(
        [sys.executable, "-c", code, str(path), str(threads), str(calls), json.dumps(shape)],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return statistics.median(json.loads(out.strip().splitlines()[-1]))


def harness_ratio(
    results: Path, batch: int, threads: int, baseline: str, variant: str, side: int, model: str = "resnet50"
) -> float | None:
    """The speed-up of variant over its baseline that the report shows for measure's results."""
    found: dict[str, schema.Result] = {}
    for path in schema.find_result_files(results):
        result = schema.load_result(path)
        wanted = (batch, threads, "ok", False, side)  # native only: make all-arch also writes emulated ones
        if (result.batch, result.threads, result.status, result.emulated, result.input_size) != wanted:
            continue
        if result.model_name != model:  # a results folder may hold runs of several models
            continue
        if variant_is_newer(result, found.get(result.variant)):
            found[result.variant] = result
    if baseline not in found or variant not in found:
        return None
    interval = speedup(found[baseline], found[variant])
    return interval.ratio if interval else None


def variant_is_newer(result: schema.Result, kept: schema.Result | None) -> bool:
    """The newest run's result wins (a results folder may hold several runs)."""
    return kept is None or (result.finished_at, result.run_id) > (kept.finished_at, kept.run_id)


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--artifacts", type=Path, required=True)
    parser.add_argument("--results", type=Path, default=None, help="a measure results folder to compare")
    parser.add_argument("--variant", default="tflite-int8", help="a LiteRT, ONNX Runtime or OpenVINO variant")
    parser.add_argument("--batch", default="1,64")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--pairs", type=int, default=3, help="fresh processes per model and batch")
    parser.add_argument("--calls", type=int, default=100, help="timed calls per process")
    args = parser.parse_args()
    manifest = mf.read_manifest(args.artifacts)
    family, _, baseline = schema.variant_info(args.variant)
    entries = {v: manifest.entry(v) for v in (baseline, args.variant)}
    paths = {v: mf.verify_artifact(args.artifacts, entry) for v, entry in entries.items()}
    status, side, channels = 0, manifest.input_size, manifest.input_channels
    for batch in (int(b) for b in args.batch.split(",")):
        calls = max(5, args.calls if batch < 64 else args.calls // 4)
        medians: dict[str, list[float]] = {v: [] for v in paths}
        for _ in range(args.pairs):
            for variant, path in paths.items():
                nchw = entries[variant].input_layout == "NCHW"
                shape = [batch, channels, side, side] if nchw else [batch, side, side, channels]
                medians[variant].append(bare_median_s(family, path, args.threads, calls, shape))
        fp32, other = (statistics.median(medians[v]) for v in paths)
        bare = fp32 / other
        line = (
            f"{side}×{side} batch {batch}, {args.threads} threads: bare loop "
            f"{baseline} {1000 * fp32:.3f} ms, {args.variant} {1000 * other:.3f} ms, ratio {bare:.2f}x"
        )
        measured = None
        if args.results:
            measured = harness_ratio(
                args.results, batch, args.threads, baseline, args.variant, side, manifest.model
            )
        if measured is not None:
            difference = measured / bare - 1
            line += f"; measure {measured:.2f}x ({100 * difference:+.1f} %)"
            status |= abs(difference) > 0.10
        print(line)
    return status


if __name__ == "__main__":
    sys.exit(main())
