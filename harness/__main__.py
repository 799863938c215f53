"""Command-line entry: ``python -m harness <command>``.

Each command lives in a light ``cli`` module that imports its heavy
dependencies (TensorFlow, docker, rich) only when the command runs, so the
bench image never needs docker and the host never needs TensorFlow.
"""

from __future__ import annotations

import argparse
import importlib
import sys

from harness.errors import UserError

# command -> module that provides add_arguments(parser) and run(args) -> int
COMMANDS: dict[str, tuple[str, str]] = {
    "prepare": ("harness.bench.cli_prepare", "train, QAT and convert every variant once"),
    "measure": ("harness.bench.cli_measure", "time and evaluate variants, write result JSON"),
    "report": ("harness.report.cli", "render results: tables, verdicts, files, chart"),
    "host": ("harness.host.cli", "build images and run the benchmark in containers"),
}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m harness", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name, (module_name, help_text) in COMMANDS.items():
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
