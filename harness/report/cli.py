"""Placeholder so the command parser loads; replaced by the real command."""

import argparse

from harness.errors import UserError


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("rest", nargs="*")


def run(args: argparse.Namespace) -> int:
    raise UserError("this command is not built yet.")
