"""Faults on the host side that need no running container."""

from __future__ import annotations

from tests.helpers import assert_clean_user_error, run_cli


def test_engine_not_reachable_is_one_sentence_with_the_fix(tmp_path):
    socket = tmp_path / "no-engine.sock"
    proc = run_cli("host", "--engine", f"unix://{socket}", "build", "--arch", "amd64", timeout=120)
    assert_clean_user_error(proc, "no Docker engine answers", str(socket))
    assert proc.stderr.count("\n") <= 2, proc.stderr


def test_unknown_arch_is_refused(tmp_path):
    proc = run_cli("host", "build", "--arch", "riscv64", timeout=120)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert "invalid choice: 'riscv64'" in proc.stderr
