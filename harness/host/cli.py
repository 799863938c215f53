"""``python -m harness host <sub-command>``: the dispatcher over the host's sub-commands.

A sub-command is one ``Subcommand`` in the ``SUBCOMMANDS`` of ``cli_images`` (set-up and
images) or ``cli_run`` (the benchmark). Only the standard library is imported here.
"""

from __future__ import annotations

import argparse

from harness.host import cli_images, cli_run, cli_tune
from harness.host.subcommand import Subcommand

SUBCOMMANDS: dict[str, Subcommand] = {
    c.name: c for c in (*cli_images.SUBCOMMANDS, *cli_run.SUBCOMMANDS, *cli_tune.SUBCOMMANDS)
}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--engine",
        default=None,
        metavar="URL",
        help="Docker engine URL (default: DOCKER_HOST or the local socket)",
    )
    commands = parser.add_subparsers(dest="host_command", required=True, metavar="SUBCOMMAND")
    for command in SUBCOMMANDS.values():
        sub = commands.add_parser(command.name, help=command.help, description=command.help)
        for flags, options in command.arguments:
            sub.add_argument(*flags, **options)
        sub.set_defaults(_host_handler=command.handler)


def run(args: argparse.Namespace) -> int:
    return int(args._host_handler(args) or 0)
