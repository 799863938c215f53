"""Command-line entry: ``quantbench <command>`` (or ``python -m harness <command>``).

Each command lives in a light ``cli`` module that imports its heavy dependencies
(TensorFlow, docker, rich) only when the command runs.
"""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import sys

from harness.errors import UserError

DESCRIPTION = """\
Does int8 quantization make ResNet-50 inference faster than float32 on this CPU, and what
does it cost in accuracy? quantbench trains the model once, makes its float32 and int8
variants (TensorFlow, LiteRT, ONNX Runtime, OpenVINO), times each in processes of its own,
and reports paired speed-ups with confidence intervals, accuracy and kernel paths."""

HOST_EXAMPLE = """\
example (the whole job in containers: amd64 natively and arm64 under QEMU, then the report):
  quantbench host all-arch"""
IMAGE_EXAMPLE = """\
example (this image; artifacts/ and results/ are folders you mount, writable by uid 10001):
  docker run --rm -v "$PWD/artifacts:/artifacts" IMAGE prepare --out /artifacts
  docker run --rm -v "$PWD/artifacts:/artifacts:ro" -v "$PWD/results:/results" IMAGE \\
      measure --artifacts /artifacts --out /results
  docker run --rm -v "$PWD/results:/results:ro" IMAGE report /results"""

# command -> module that provides add_arguments(parser) and run(args) -> int
COMMANDS: dict[str, tuple[str, str]] = {
    "prepare": ("harness.bench.cli_prepare", "train, QAT and convert every variant once"),
    "measure": ("harness.bench.cli_measure", "time and evaluate variants, write result JSON"),
    "tune": (
        "harness.bench.tune.cli",
        "search each runtime's int8 recipes for the fastest that keeps accuracy",
    ),
    "report": ("harness.report.cli", "render results: tables, verdicts, files, chart"),
    "explain": ("harness.report.cli_explain", "where one variant's time goes, beside its float baseline"),
    "host": ("harness.host.cli", "build images and run the benchmark in containers"),
}


def available_commands() -> dict[str, tuple[str, str]]:
    """The commands this installation can run: ``host`` needs the Docker SDK (not in the image)."""
    has_docker = importlib.util.find_spec("docker") is not None
    return {name: entry for name, entry in COMMANDS.items() if name != "host" or has_docker}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="quantbench",
        description=DESCRIPTION,
        epilog=HOST_EXAMPLE if "host" in available_commands() else IMAGE_EXAMPLE,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name, (module_name, help_text) in available_commands().items():
        sub = commands.add_parser(name, help=help_text, description=help_text)
        module = importlib.import_module(module_name)
        module.add_arguments(sub)
        sub.set_defaults(_module=module)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args._module.run(args) or 0)
    except UserError as error:
        print(f"error: {error}", file=sys.stderr)
        return error.exit_code
    except KeyboardInterrupt:
        print("interrupted: partial results were kept; rerun to complete them.", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
