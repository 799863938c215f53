"""The hermetic wheelhouse: a hashed lock per platform and a local cache of its wheels.

``requirements/bench.txt`` is resolved for Linux/CPython 3.11 on each arch with
``pip install --dry-run --report`` (no install, binary wheels only), recording
each wheel's file name and sha256 in ``requirements/lock-<arch>.txt``. The
wheels are downloaded once into ``.cache/wheels/<arch>/`` and checked against the
lock; the image build then installs from them with no network.

Several manylinux tags are given at once because pip does not fall back from a
newer tag to an older one: tensorflow 2.21 ships manylinux_2_27 only, OpenVINO's aarch64
wheel manylinux_2_35, others manylinux2014 or manylinux_2_28.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote, urlparse

from harness.errors import UserError
from harness.host import ARCHES, CACHE_DIR, REQUIREMENTS_DIR

if TYPE_CHECKING:
    from rich.console import Console

PYTHON_VERSION = "3.11"
# Both bases are bookworm (glibc 2.36), so manylinux up to 2_36 runs there; OpenVINO's
# aarch64 wheel is tagged manylinux_2_35. The tags pip prefers come first.
MANYLINUX_TAGS = (
    "manylinux_2_27",
    "manylinux_2_28",
    "manylinux_2_17",
    "manylinux2014",
    "manylinux_2_35",
    "manylinux_2_36",
)
BENCH_REQUIREMENTS = REQUIREMENTS_DIR / "bench.txt"
# Packages locked without their declared dependencies (the file says why for each): their own wheel
# only, resolved for the arch with --no-deps; what they import must be in bench.txt.
NO_DEPS_REQUIREMENTS = REQUIREMENTS_DIR / "bench-nodeps.txt"
WHEEL_CACHE = CACHE_DIR / "wheels"
# The x86_64 `tensorflow` wheel is a CUDA build (572 MB, 1.9 GB installed); the
# same release as `tensorflow-cpu` is 274 MB. tf_keras requires "tensorflow", which
# tensorflow-cpu provides under the same import name, so the lock swaps them and
# the image installs the lock with --no-deps (the lock is the complete closure).
CPU_ONLY_SUBSTITUTES: dict[str, dict[str, str]] = {"amd64": {"tensorflow": "tensorflow-cpu"}}
# pip settings from the machine (extra indexes, find-links, constraints) must not
# leak into a lock meant for every machine; the certificate settings stay.
_PIP_ENV_DROPPED = (
    "PIP_INDEX_URL",
    "PIP_EXTRA_INDEX_URL",
    "PIP_FIND_LINKS",
    "PIP_CONSTRAINT",
    "PIP_NO_INDEX",
)

_LOCK_LINE = re.compile(
    r"^(?P<name>[A-Za-z0-9._-]+)==(?P<version>\S+)\s+--hash=sha256:(?P<sha256>[0-9a-f]{64})"
    r"\s+#\s+(?P<filename>\S+\.whl)\s*$"
)


@dataclass(frozen=True)
class LockedWheel:
    """One pinned wheel: what pip installs and the file that must match."""

    name: str
    version: str
    filename: str
    sha256: str

    def requirement_line(self) -> str:
        return f"{self.name}=={self.version} --hash=sha256:{self.sha256}  # {self.filename}"


def canonical_name(name: str) -> str:
    """PEP 503 normalised project name."""
    return re.sub(r"[-_.]+", "-", name).lower()


def platform_tags(arch: str) -> list[str]:
    """The pip --platform tags for arch, e.g. manylinux_2_27_aarch64."""
    machine = ARCHES[arch]
    return [f"{tag}_{machine}" for tag in MANYLINUX_TAGS]


def target_options(arch: str) -> list[str]:
    """pip options that select wheels for Linux/CPython 3.11/arch instead of this host."""
    options = ["--only-binary=:all:", "--python-version", PYTHON_VERSION, "--implementation", "cp"]
    for tag in platform_tags(arch):
        options += ["--platform", tag]
    return options


def resolve_command(
    arch: str, requirements: list[str], report: Path, target: Path, index_url: str, no_deps: bool = False
) -> list[str]:
    """pip's dry-run resolution for arch, writing a JSON installation report."""
    return [
        sys.executable, "-m", "pip", "install", "--dry-run", "--ignore-installed",
        "--quiet", "--report", str(report), "--target", str(target),
        "--index-url", index_url, *target_options(arch), *(["--no-deps"] if no_deps else []),
        *requirements,
    ]  # fmt: skip


def download_command(arch: str, lock_file: Path, dest: Path, index_url: str) -> list[str]:
    """pip download of exactly the locked files (hash-checked by pip) into dest."""
    return [
        sys.executable, "-m", "pip", "download", "--no-deps", "--progress-bar", "off",
        "--dest", str(dest), "--index-url", index_url, *target_options(arch),
        "--requirement", str(lock_file),
    ]  # fmt: skip


def pip_environment() -> dict[str, str]:
    """This process's environment without pip config files or index settings."""
    environment = {k: v for k, v in os.environ.items() if k not in _PIP_ENV_DROPPED}
    environment["PIP_CONFIG_FILE"] = os.devnull  # pip then reads no config file at all
    environment["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
    return environment


def parse_report(report: dict[str, Any]) -> list[LockedWheel]:
    """The wheels of a ``pip install --report`` JSON, sorted by name."""
    wheels = []
    for item in report.get("install", []):
        metadata = item["metadata"]
        info = item["download_info"]
        filename = unquote(Path(urlparse(info["url"]).path).name)
        if not filename.endswith(".whl"):
            raise UserError(
                f"{metadata['name']} resolved to {filename}, not a wheel; pin a version with wheels."
            )
        archive = info.get("archive_info", {})
        sha256 = archive.get("hashes", {}).get("sha256") or archive.get("hash", "").removeprefix("sha256=")
        if not re.fullmatch(r"[0-9a-f]{64}", sha256 or ""):
            raise UserError(f"the index gave no sha256 for {filename}; use an index that publishes hashes.")
        wheels.append(LockedWheel(canonical_name(metadata["name"]), metadata["version"], filename, sha256))
    return sorted(wheels, key=lambda wheel: wheel.name)


def substitute(
    full: list[LockedWheel], replacement_closure: list[LockedWheel], original: str, replacement: str
) -> list[LockedWheel]:
    """Swap original for replacement in a resolved set, when the replacement needs nothing new.

    replacement_closure is the resolution of the replacement constrained to full's
    versions; each of its other wheels must already be in full at the same version.
    """
    by_name = {wheel.name: wheel for wheel in full}
    if original not in by_name:
        return full
    for wheel in replacement_closure:
        if wheel.name == replacement:
            continue
        if wheel.name not in by_name or by_name[wheel.name].version != wheel.version:
            raise UserError(
                f"{replacement} needs {wheel.name}=={wheel.version}, which the full resolution does not "
                f"hold; remove the {original}->{replacement} substitution in wheelhouse.py."
            )
    chosen = [wheel for wheel in replacement_closure if wheel.name == replacement]
    if not chosen or chosen[0].version != by_name[original].version:
        raise UserError(f"{replacement} does not exist at {original}'s version {by_name[original].version}.")
    return sorted([w for w in full if w.name != original] + chosen, key=lambda wheel: wheel.name)


def render_lock(arch: str, wheels: list[LockedWheel], notes: list[str]) -> str:
    """The lock file text: a header saying how it was made, then one hashed pin per line."""
    header = [
        f"# quantbench bench image lock for linux/{arch}, CPython {PYTHON_VERSION}",
        f"# platform tags: {' '.join(platform_tags(arch))}",
        f"# from {BENCH_REQUIREMENTS.relative_to(BENCH_REQUIREMENTS.parents[1])}; "
        "regenerate with: python -m harness host lock",
        "# complete closure: install with --no-deps --require-hashes",
        *(f"# {note}" for note in notes),
    ]
    return "\n".join(header + [wheel.requirement_line() for wheel in wheels]) + "\n"


def parse_lock(text: str) -> list[LockedWheel]:
    """Read the pins of a lock file written by render_lock."""
    wheels = []
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        match = _LOCK_LINE.match(line.strip())
        if not match:
            raise UserError(
                f"lock line {number} is not `name==version --hash=sha256:... # file.whl`: {line!r}"
            )
        wheels.append(LockedWheel(match["name"], match["version"], match["filename"], match["sha256"]))
    return wheels


def lock_path(arch: str) -> Path:
    return REQUIREMENTS_DIR / f"lock-{arch}.txt"


def read_lock(arch: str) -> list[LockedWheel]:
    """The pins for arch; UserError when the lock is missing."""
    path = lock_path(arch)
    if not path.exists():
        raise UserError(f"{path} is missing: run `python -m harness host lock --arch {arch}` (needs PyPI).")
    return parse_lock(path.read_text())


def requirement_lines(path: Path, arch: str | None = None) -> list[str]:
    """The requirement specifiers of a requirements file (comments and blanks dropped).

    With arch, a line with an environment marker (``pkg==1; platform_machine == "x86_64"``)
    is kept, without its marker, only when the marker holds on Linux/arch: pip evaluates
    markers against the machine it runs on, not against its --platform target.
    """
    lines = []
    for line in path.read_text().splitlines():
        line = line.split(" #", 1)[0].strip()
        if not line or line.startswith("#"):
            continue
        if arch is not None and ";" in line:
            from packaging.markers import Marker

            requirement, marker = (part.strip() for part in line.split(";", 1))
            target = {"platform_machine": ARCHES[arch], "sys_platform": "linux", "platform_system": "Linux"}
            if not Marker(marker).evaluate(target):
                continue
            line = requirement
        lines.append(line)
    return lines


def resolve(
    arch: str,
    requirements: list[str],
    index_url: str,
    constraints: list[LockedWheel] = (),
    no_deps: bool = False,
) -> list[LockedWheel]:
    """Resolve requirements for arch with pip's dry run; UserError with pip's reason on failure.

    constraints pins versions without adding packages; no_deps takes the named wheels alone.
    """
    with tempfile.TemporaryDirectory(prefix="quantbench-lock-") as temp:
        report = Path(temp) / "report.json"
        if constraints:
            constraint_file = Path(temp) / "constraints.txt"
            constraint_file.write_text("".join(f"{w.name}=={w.version}\n" for w in constraints))
            requirements = [*requirements, "--constraint", str(constraint_file)]
        command = resolve_command(arch, requirements, report, Path(temp) / "target", index_url, no_deps)
        done = subprocess.run(command, capture_output=True, text=True, env=pip_environment(), check=False)
        if done.returncode != 0:
            reason = (done.stderr.strip().splitlines() or ["no output"])[-1]
            raise UserError(f"pip cannot resolve the bench requirements for {arch}: {reason}")
        return parse_report(json.loads(report.read_text()))


def write_lock(arch: str, console: Console, index_url: str = "https://pypi.org/simple") -> Path:
    """Resolve bench.txt for arch (with the CPU-only substitutions) into lock-<arch>.txt."""
    requirements = requirement_lines(BENCH_REQUIREMENTS, arch)
    with console.status(f"resolving {BENCH_REQUIREMENTS.name} for {arch}"):
        wheels = resolve(arch, requirements, index_url)
        notes = []
        for original, replacement in CPU_ONLY_SUBSTITUTES.get(arch, {}).items():
            pinned = {wheel.name: wheel.version for wheel in wheels}.get(original)
            if pinned is None:
                continue
            others = [wheel for wheel in wheels if wheel.name != original]
            closure = resolve(arch, [f"{replacement}=={pinned}"], index_url, constraints=others)
            wheels = substitute(wheels, closure, original, replacement)
            notes.append(
                f"{original} replaced by {replacement}=={pinned} (same release, CPU-only build); "
                f"it provides the `{original}` module other packages require"
            )
        alone = requirement_lines(NO_DEPS_REQUIREMENTS, arch) if NO_DEPS_REQUIREMENTS.exists() else []
        if alone:
            extra = resolve(arch, alone, index_url, no_deps=True)
            wheels = sorted(wheels + extra, key=lambda wheel: wheel.name)
            names = ", ".join(wheel.name for wheel in extra)
            notes.append(f"{names}: without their declared dependencies ({NO_DEPS_REQUIREMENTS.name} says why)")
    path = lock_path(arch)
    path.write_text(render_lock(arch, wheels, notes))
    return path


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while block := handle.read(1 << 20):
            digest.update(block)
    return digest.hexdigest()


def missing_wheels(wheels: list[LockedWheel], directory: Path) -> list[LockedWheel]:
    """The locked wheels not in directory with the right hash (a wrong file is deleted)."""
    missing = []
    for wheel in wheels:
        path = directory / wheel.filename
        if path.exists() and sha256_of(path) == wheel.sha256:
            continue
        if path.exists():
            path.unlink()  # corrupt or partial: fetch again
        missing.append(wheel)
    return missing


def ensure_wheels(arch: str, console: Console, index_url: str = "https://pypi.org/simple") -> Path:
    """Make .cache/wheels/<arch>/ hold every locked wheel (hash-checked); return the directory."""
    wheels = read_lock(arch)
    directory = WHEEL_CACHE / arch
    directory.mkdir(parents=True, exist_ok=True)
    with console.status(f"checking {len(wheels)} cached wheels for {arch}"):
        missing = missing_wheels(wheels, directory)
    if not missing:
        console.print(f"[green]✓[/] {len(wheels)} wheels for {arch} cached and verified")
        return directory
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="quantbench-dl-") as temp:
        partial_lock = Path(temp) / "missing.txt"
        partial_lock.write_text("\n".join(wheel.requirement_line() for wheel in missing) + "\n")
        command = download_command(arch, partial_lock, directory, index_url)
        with console.status(f"downloading {len(missing)} wheels for {arch} into {directory}"):
            done = subprocess.run(command, capture_output=True, text=True, env=pip_environment(), check=False)
    if done.returncode != 0:
        reason = (done.stderr.strip().splitlines() or ["no output"])[-1]
        raise UserError(f"cannot download the wheels for {arch} ({reason}); check the network and rerun.")
    still_missing = missing_wheels(wheels, directory)
    if still_missing:
        names = ", ".join(wheel.filename for wheel in still_missing[:3])
        raise UserError(f"downloaded wheels do not match lock-{arch}.txt ({names}); rerun `host lock`.")
    size = sum((directory / wheel.filename).stat().st_size for wheel in missing)
    console.print(
        f"[green]✓[/] downloaded {len(missing)} wheels for {arch} ({size / 1e6:.0f} MB) "
        f"in {time.monotonic() - started:.0f} s"
    )
    return directory
