"""Unit tests for the ``host`` command line: sub-commands, arguments, light imports."""

from __future__ import annotations

import argparse
import subprocess
import sys

import pytest

from harness.host import REPO_ROOT, cli
from harness.host.subcommand import Subcommand, arches_of, arg


def parse(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    cli.add_arguments(parser)
    return parser.parse_args(argv)


def test_every_documented_subcommand_is_there():
    assert {"setup", "lock", "base", "build", "save", "load"} <= set(cli.SUBCOMMANDS)


def test_build_takes_one_arch_or_all():
    assert arches_of(parse("build", "--arch", "arm64")) == ["arm64"]
    assert arches_of(parse("build")) == ["amd64", "arm64"]
    with pytest.raises(SystemExit):
        parse("build", "--arch", "riscv64")


def test_a_subcommand_is_data_the_dispatcher_parses_and_runs(monkeypatch):
    hello = Subcommand("hello", "say hello", (arg("--times", type=int, default=1),), lambda args: args.times)
    monkeypatch.setattr(cli, "SUBCOMMANDS", {**cli.SUBCOMMANDS, "hello": hello})
    args = parse("hello", "--times", "3")
    assert cli.run(args) == 3


def test_importing_the_cli_pulls_in_neither_docker_nor_rich():
    # The bench image builds its parser from this module and has no docker.
    code = "import sys, harness.host.cli; print(sorted(m for m in ('docker', 'rich') if m in sys.modules))"
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=REPO_ROOT
    ).stdout
    assert out.strip() == "[]"
