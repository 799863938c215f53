"""Test helpers: run the CLI as a user would, in a real subprocess."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent


def run_cli(
    *args: str, timeout: float = 900, env: dict | None = None, package: Path = REPO
) -> subprocess.CompletedProcess:
    """``python -m harness ARGS`` from the repo root (or another copy of the package); output as text."""
    full_env = {**os.environ, "PYTHONPATH": str(package), "TF_CPP_MIN_LOG_LEVEL": "3", **(env or {})}
    return subprocess.run(
        [sys.executable, "-m", "harness", *args],
        cwd=package,
        capture_output=True,
        text=True,
        timeout=timeout,
        env=full_env,
    )


def assert_clean_user_error(proc: subprocess.CompletedProcess, *phrases: str) -> None:
    """Non-zero exit, no traceback, and the message names the problem."""
    assert proc.returncode != 0, proc.stdout + proc.stderr
    assert "Traceback" not in proc.stderr, proc.stderr
    for phrase in phrases:
        assert phrase in proc.stderr, f"{phrase!r} not in: {proc.stderr}"


def unavailable(reason: str) -> None:
    """Skip when Docker or QEMU cannot be had, but fail under CI=true: CI must not pass by skipping."""
    if os.environ.get("CI") == "true":
        pytest.fail(f"CI=true: {reason}", pytrace=False)
    pytest.skip(reason)


def package_with_runtime(root: Path, name: str, declaration: str, converter: str, runner: str) -> Path:
    """A copy of the package under ``root`` with one more runtime folder, and its tiny artifacts
    prepared in ``root / "artifacts"``; returns the copy (pass it as ``run_cli(package=...)``)."""
    import shutil

    package = root / "copy"
    shutil.copytree(REPO / "harness", package / "harness", ignore=shutil.ignore_patterns("__pycache__"))
    folder = package / "harness" / "bench" / "runtimes" / name
    folder.mkdir()
    (folder / "__init__.py").write_text(declaration)
    (folder / "convert.py").write_text(converter)
    (folder / "runner.py").write_text(runner)
    prepare = ["prepare", "--model", "tiny", "--data", "synthetic", "--epochs", "1", "--qat-epochs", "1"]
    proc = run_cli(*prepare, "--out", str(root / "artifacts"), package=package)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return package


def measure_args(artifacts: Path, out: Path, *extra: str) -> list[str]:
    """``measure`` on one thread with no warm-up and no time floors: exact call counts."""
    return [
        "measure",
        "--max-rounds",
        "0",
        "--artifacts",
        str(artifacts),
        "--threads",
        "1",
        "--warmup",
        "0",
        "--warmup-seconds",
        "0",
        "--min-seconds",
        "0",
        "--out",
        str(out),
        *extra,
    ]
