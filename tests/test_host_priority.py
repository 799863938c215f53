"""Background work on the host really yields the CPU: a low-weight cgroup beside nice 19."""

import os
import subprocess

import pytest

from harness.host.images import priority


def test_a_cgroup_v1_host_gets_a_group_of_the_lowest_shares(tmp_path):
    (tmp_path / "cpu").mkdir()
    (tmp_path / "cpu" / "cpu.shares").write_text("1024")
    lowest = priority.lowest(tmp_path)
    group = tmp_path / "cpu" / priority.GROUP
    assert lowest.procs_file == group / "cgroup.procs" and (group / "cpu.shares").read_text() == "2"
    command = lowest.command(["debootstrap", "x"])
    assert command[:2] == ["sh", "-c"] and str(group / "cgroup.procs") in command[2]
    assert command[-5:] == ["nice", "-n", "19", "debootstrap", "x"]


def test_a_cgroup_v2_host_without_the_cpu_controller_runs_at_nice_19_and_says_why(tmp_path):
    (tmp_path / "cgroup.subtree_control").write_text("memory pids\n")
    lowest = priority.lowest(tmp_path)
    assert lowest.procs_file is None and "no cpu controller" in lowest.why_not
    assert lowest.command(["pip", "install"]) == ["nice", "-n", "19", "pip", "install"]
    (tmp_path / "cgroup.subtree_control").write_text("cpu memory pids\n")
    lowest = priority.lowest(tmp_path)
    assert lowest.procs_file == tmp_path / priority.GROUP / "cgroup.procs"
    assert (tmp_path / priority.GROUP / "cpu.weight").read_text() == "1"


@pytest.mark.skipif(os.geteuid() != 0, reason="making a cgroup needs root")
def test_a_background_command_here_runs_in_the_group_at_nice_19():
    lowest = priority.lowest()
    if lowest.procs_file is None:
        pytest.skip(lowest.why_not)
    shown = subprocess.run(
        lowest.command(["sh", "-c", "cat /proc/self/cgroup; cut -d' ' -f19 /proc/self/stat"]),
        capture_output=True, text=True, check=True,
    ).stdout.split()  # fmt: skip
    assert any(line.endswith(f"/{priority.GROUP}") for line in shown), shown
    assert shown[-1] == "19"
