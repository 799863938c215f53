"""Unit tests (no Docker) for emulation detection and per-container settings."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.errors import UserError
from harness.host.engine import emulation
from harness.host.engine.connect import Engine


def engine_of(arch: str, url: str | None = "unix:///var/run/docker.sock") -> Engine:
    """An engine whose machine runs arch (no client: these functions never call it)."""
    return Engine(client=None, arch=arch, url=url)


REGISTERED = """enabled
interpreter /usr/libexec/qemu-binfmt/aarch64-binfmt-P
flags: PF
offset 0
magic 7f454c460201010000000000000000000200b700
"""


def test_parse_binfmt_entry_reads_flags_and_interpreter():
    status = emulation.parse_binfmt_entry("qemu-aarch64", REGISTERED)
    assert status.enabled and status.flags == "PF"
    assert status.interpreter.endswith("aarch64-binfmt-P")
    assert status.usable_in_containers


def test_an_entry_without_the_fix_binary_flag_is_not_usable_in_containers():
    status = emulation.parse_binfmt_entry("qemu-aarch64", REGISTERED.replace("flags: PF", "flags: P"))
    assert not status.usable_in_containers


def test_binfmt_status_of_a_missing_entry(tmp_path):
    status = emulation.binfmt_status("arm64", binfmt_dir=tmp_path)
    assert not status.registered and not status.usable_in_containers


def test_cpuinfo_lists_each_core_as_a_neoverse_n1_and_claims_nothing_more():
    text = emulation.neoverse_n1_cpuinfo(3)
    blocks = [block for block in text.split("\n\n") if block.strip()]
    assert len(blocks) == 3
    for index, block in enumerate(blocks):
        fields = dict(line.split("\t: ", 1) for line in block.splitlines())
        assert fields["processor"] == str(index)
        assert fields["CPU implementer"] == "0x41" and fields["CPU part"] == "0xd0c"
        features = set(fields["Features"].split())
        assert {"asimd", "asimddp", "atomics"} <= features
        # SVE, SME and i8mm are what the QEMU `max` CPU adds; N1 has none of them.
        assert not features & {"sve", "sve2", "sme", "i8mm", "bf16"}


def test_native_arch_needs_no_settings():
    options = emulation.emulation_run_options("amd64", engine_of("amd64"))
    assert not options.emulated
    assert options.run_kwargs() == {"platform": "linux/amd64"}


def test_emulated_arm64_gets_cpu_model_cpuinfo_init_and_no_cores(tmp_path):
    options = emulation.emulation_run_options("arm64", engine_of("amd64"), cpu_count=2, cpuinfo_dir=tmp_path)
    kwargs = options.run_kwargs()
    assert options.emulated
    assert kwargs["platform"] == "linux/arm64"
    assert kwargs["environment"] == {"QEMU_CPU": "neoverse-n1"}
    assert kwargs["init"] is True
    assert kwargs["ulimits"] == [{"Name": "core", "Soft": 0, "Hard": 0}]
    [(path, bind)] = kwargs["volumes"].items()
    assert bind == {"bind": "/proc/cpuinfo", "mode": "ro"}
    assert Path(path).read_text() == emulation.neoverse_n1_cpuinfo(2)


def test_emulation_is_a_question_about_the_engine_not_this_host(tmp_path):
    # Whatever this test machine is, an arm64 engine runs arm64 natively and emulates amd64.
    arm_engine = engine_of("arm64")
    assert not emulation.emulation_run_options("arm64", arm_engine).emulated
    assert emulation.emulation_run_options("amd64", arm_engine).emulated
    assert not emulation.ensure_emulation("arm64", arm_engine)


def test_an_engine_on_another_machine_gets_no_bind_mount_of_this_machine_s_files(tmp_path):
    remote = engine_of("amd64", url="ssh://me@box")
    options = emulation.emulation_run_options("arm64", remote, cpu_count=2, cpuinfo_dir=tmp_path)
    assert options.emulated and options.environment == {"QEMU_CPU": "neoverse-n1"}
    assert "volumes" not in options.run_kwargs()
    assert not list(tmp_path.iterdir())  # no fake cpuinfo written for it either
    # binfmt there cannot be checked from here: the run goes on and verifies the outputs
    assert emulation.ensure_emulation("arm64", remote, install=False)


def test_unknown_arch_is_a_user_error():
    with pytest.raises(UserError, match="unknown architecture"):
        emulation.emulation_run_options("riscv64", engine_of("amd64"))


def test_missing_qemu_without_root_says_the_exact_commands(monkeypatch, tmp_path):
    monkeypatch.setattr(emulation, "BINFMT_DIR", tmp_path)
    monkeypatch.setattr(emulation.os, "geteuid", lambda: 1000)
    with pytest.raises(UserError) as caught:
        emulation.ensure_emulation("arm64", engine_of("amd64"))
    message = str(caught.value)
    assert "qemu-aarch64 is not registered" in message
    assert "sudo " in message and "scripts/setup-host.sh" in message
