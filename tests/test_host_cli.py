"""Unit tests for the ``host`` command line: sub-commands, arguments, light imports."""

from __future__ import annotations

import argparse
import re
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


def test_make_help_lists_every_target_with_one_line():
    makefiles = [REPO_ROOT / "Makefile", *sorted((REPO_ROOT / "docker").glob("*.mk"))]
    target = re.compile(r"^([a-z0-9-]+):(?!=)")
    targets = {
        m[1] for path in makefiles for line in path.read_text().splitlines() if (m := target.match(line))
    }
    shown = subprocess.run(["make", "-s", "help"], cwd=REPO_ROOT, capture_output=True, text=True, check=True)
    lines = {line.split()[1]: line for line in shown.stdout.splitlines() if line.strip().startswith("make ")}
    assert {"all-arch", "test", "help", "images"} <= targets
    assert set(lines) == targets
    assert all(len(line.split(None, 2)) == 3 for line in lines.values())  # each says what it does


def test_help_speaks_to_users_and_offers_host_only_where_the_docker_sdk_is(monkeypatch):
    import importlib.util

    from harness import __main__ as entry

    text = entry.build_parser().format_help()
    assert "int8" in text and "float32" in text and "example" in text
    assert "lazy" not in text and "cli`` module" not in text
    assert "host" in entry.available_commands()
    real_find_spec = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name: None if name == "docker" else real_find_spec(name)
    )
    assert "host" not in entry.available_commands()  # the bench image has no docker
    assert {"prepare", "measure", "report"} <= set(entry.available_commands())
