"""``quantbench explain RESULTS_DIR... --variant V``: where one variant's time goes, beside its float.

Host side only: reads result JSON (the op profiles measure recorded natively).
"""

from __future__ import annotations

import argparse
import shlex
from pathlib import Path

from harness.cli_args import positive_int


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "results", nargs="+", type=Path, metavar="RESULTS_DIR", help="folder(s) of result JSON"
    )
    parser.add_argument("--variant", required=True, help="e.g. tflite-int8, ort-int8-qdq, openvino-int8")
    parser.add_argument("--batch", type=positive_int, default=None, help="default: the largest profiled")
    parser.add_argument("--threads", type=positive_int, default=None, help="default: the most measured")
    parser.add_argument("--host", default=None, help="the machine, when results hold several")
    parser.add_argument("--arch", default=None, help="amd64 or arm64, when results hold both natively")
    parser.add_argument(
        "--input-size",
        type=positive_int,
        default=None,
        metavar="SIDE",
        help="the input shape's side, e.g. 224 (default: the seed's 32 when measured there)",
    )
    parser.add_argument("--run-id", metavar="ID", help="only the results of this run")
    parser.add_argument(
        "--model",
        metavar="NAME",
        help="the model, when results hold several (default: the model of the newest run)",
    )


def run(args: argparse.Namespace) -> int:
    from rich.text import Text

    from harness.report.cli import report_console
    from harness.report.explain import explain
    from harness.report.load import load_directories
    from harness.report.render import render_explanation

    command = f"quantbench explain --variant {shlex.quote(args.variant)}"
    loaded = load_directories(args.results, run_id=args.run_id, model=args.model, command=command)
    explanation = explain(
        loaded.results,
        args.variant,
        batch=args.batch,
        threads=args.threads,
        host=args.host,
        arch=args.arch,
        input_size=args.input_size,
    )
    console = report_console()
    render_explanation(explanation, console)
    for note in loaded.model_notes:  # the other models among the results, and how to explain them
        console.print(Text(note, style="dim"))
    return 0
