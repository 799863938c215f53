"""The image's site-packages, made on the host: installed from the locked wheels for the image's
arch, trimmed and byte-compiled natively, then copied into the deps image.

Installing ~60 wheels (2 GB unpacked) inside a foreign-arch build runs pip, the
unpacking and the byte-compiling under QEMU (measured: the arm64 deps build took
313-397 s here on a 2-core Zen 4, most of it pip). Unpacking a wheel is
architecture-free: pip's ``--target`` with the lock's platform tags writes the
very files the image's own pip would, and ``compileall`` with the host's CPython
3.11 writes the bytecode CPython 3.11 reads on any arch. The image build then
makes the venv, copies the folder in, and still imports the packages under the
target arch as the bench user: the proof that the result runs.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

from harness.errors import UserError
from harness.host.images import priority
from harness.host.images.wheelhouse import PYTHON_VERSION, pip_environment, platform_tags

SITE_PACKAGES = "site-packages"
IMAGE_SITE_PACKAGES = f"/opt/venv/lib/python{PYTHON_VERSION}/site-packages"
# What running never reads: TensorFlow's C++ headers for building custom ops (430 MB), the
# packages' own test suites (~70 MB), console scripts whose shebang names the host's Python.
DROPPED = ("tensorflow/include", "bin")


def can_compile_here() -> bool:
    """The host's CPython writes the image's bytecode only when it is the same minor version."""
    return f"{sys.version_info[0]}.{sys.version_info[1]}" == PYTHON_VERSION


def build_site_packages(
    arch: str, lock_file: Path, wheel_dir: Path, destination: Path, strip_tool: Path, background: bool = False
) -> Path:
    """``destination/site-packages`` for arch from the locked wheels (nothing downloaded);
    ``background``: at the lowest CPU priority (beside prepare, which is on the critical path)."""
    target = destination / SITE_PACKAGES
    shutil.rmtree(target, ignore_errors=True)
    command = [
        sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
        "--no-deps", "--no-index", "--find-links", str(wheel_dir), "--require-hashes",
        "--requirement", str(lock_file), "--target", str(target), "--no-compile",
        "--only-binary=:all:", "--python-version", PYTHON_VERSION, "--implementation", "cp",
        *(option for tag in platform_tags(arch) for option in ("--platform", tag)),
    ]  # fmt: skip
    lowest = priority.lowest().command if background else list
    done = subprocess.run(lowest(command), capture_output=True, text=True, env=pip_environment(), check=False)
    if done.returncode != 0:
        reason = (done.stderr.strip().splitlines() or ["no output"])[-1]
        raise UserError(f"cannot unpack the {arch} wheels on this host ({reason}); rerun `host build`.")
    for relative in DROPPED:
        shutil.rmtree(target / relative, ignore_errors=True)
    for tests in [p for p in target.glob("*/**/tests") if p.is_dir()]:
        shutil.rmtree(tests, ignore_errors=True)
    subprocess.run(lowest([sys.executable, str(strip_tool), str(target)]), check=True, capture_output=True)
    if can_compile_here():
        compiled = subprocess.run(
            lowest([sys.executable, "-m", "compileall", "-q", "-j", "0", "-d", IMAGE_SITE_PACKAGES, str(target)]),
            capture_output=True,
            text=True,
            check=False,
        )
        if compiled.returncode not in (0, 1):  # 1: a file that does not compile (a package's own stub)
            raise UserError(f"byte-compiling the {arch} packages failed: {compiled.stderr.strip()[-300:]}")
    return target
