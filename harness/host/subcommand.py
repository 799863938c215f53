"""What a ``host`` sub-command is: a name, a help line, its arguments and its handler.

Each ``cli_*`` module lists its own sub-commands as data; ``cli.py`` gathers them. Standard
library only: the bench image builds the whole parser and has neither docker nor rich.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from harness.host import ARCHES

Handler = Callable[[argparse.Namespace], int]
Argument = tuple[tuple[str, ...], dict[str, Any]]


@dataclass(frozen=True)
class Subcommand:
    name: str
    help: str
    arguments: tuple[Argument, ...]
    handler: Handler


def arg(*flags: str, **options: Any) -> Argument:
    """One argparse argument, as the flags and keyword options of add_argument."""
    return flags, options


ARCH = arg("--arch", choices=(*ARCHES, "all"), default="all", help="architecture (default: all)")


def arches_of(args: argparse.Namespace) -> list[str]:
    """The architectures an --arch value names."""
    return list(ARCHES) if args.arch in ("all", None) else [args.arch]
