"""Unit tests (no network, no Docker) for the lock and wheel-cache logic."""

from __future__ import annotations

import hashlib

import pytest

from harness.errors import UserError
from harness.host.images import wheelhouse
from harness.host.images.wheelhouse import LockedWheel

SHA_A = "a" * 64
SHA_B = "b" * 64


def report_item(name: str, version: str, filename: str, sha256: str) -> dict:
    return {
        "metadata": {"name": name, "version": version},
        "download_info": {
            "url": f"https://files.example/packages/xx/{filename}",
            "archive_info": {"hash": f"sha256={sha256}", "hashes": {"sha256": sha256}},
        },
    }


def test_platform_tags_accept_every_glibc_flavour_the_bookworm_base_runs():
    """pip does not fall back from one manylinux tag to another: TF ships manylinux_2_27,
    OpenVINO's aarch64 wheel manylinux_2_35; bookworm's glibc is 2.36, so nothing newer."""
    bookworm_glibc = (2, 36)
    for arch, machine in (("arm64", "aarch64"), ("amd64", "x86_64")):
        tags = wheelhouse.platform_tags(arch)
        assert all(tag.endswith(f"_{machine}") for tag in tags)
        versions = set()
        for tag in tags:
            if tag.startswith("manylinux_"):
                major, minor = tag.split("_")[1:3]
                versions.add((int(major), int(minor)))
        assert {(2, 17), (2, 27), (2, 28), (2, 35)} <= versions
        assert max(versions) <= bookworm_glibc


def test_resolve_command_targets_the_platform_not_this_host(tmp_path):
    command = wheelhouse.resolve_command(
        "arm64", ["psutil==7.1.3"], tmp_path / "r.json", tmp_path / "t", "https://i"
    )
    joined = " ".join(command)
    for expected in ("--dry-run", "--ignore-installed", "--only-binary=:all:", "--python-version 3.11",
                     "--platform manylinux_2_27_aarch64", "--platform manylinux2014_aarch64", "--report",
                     "--target", "--index-url https://i"):  # fmt: skip
        assert expected in joined
    assert command[-1] == "psutil==7.1.3"


def test_download_command_fetches_only_the_lock_without_deps(tmp_path):
    command = wheelhouse.download_command("amd64", tmp_path / "lock.txt", tmp_path / "dest", "https://i")
    assert "--no-deps" in command
    assert command[-2:] == ["--requirement", str(tmp_path / "lock.txt")]


def test_pip_environment_ignores_machine_pip_config(monkeypatch):
    monkeypatch.setenv("PIP_FIND_LINKS", "/opt/wheels")
    monkeypatch.setenv("PIP_EXTRA_INDEX_URL", "file:///opt/pypi")
    monkeypatch.setenv("PIP_CERT", "/etc/ssl/certs/ca-certificates.crt")
    environment = wheelhouse.pip_environment()
    assert "PIP_FIND_LINKS" not in environment
    assert "PIP_EXTRA_INDEX_URL" not in environment
    assert environment["PIP_CERT"] == "/etc/ssl/certs/ca-certificates.crt"  # the proxy CA still works
    assert environment["PIP_CONFIG_FILE"] == "/dev/null"


def test_parse_report_normalises_names_and_reads_hashes():
    report = {
        "install": [
            report_item("tf_keras", "2.21.0", "tf_keras-2.21.0-py3-none-any.whl", SHA_A),
            report_item("Absl-Py", "1.4.0", "absl_py-1.4.0-py3-none-any.whl", SHA_B),
        ]
    }
    assert wheelhouse.parse_report(report) == [
        LockedWheel("absl-py", "1.4.0", "absl_py-1.4.0-py3-none-any.whl", SHA_B),
        LockedWheel("tf-keras", "2.21.0", "tf_keras-2.21.0-py3-none-any.whl", SHA_A),
    ]


def test_parse_report_rejects_a_source_distribution():
    report = {"install": [report_item("x", "1", "x-1.tar.gz", SHA_A)]}
    with pytest.raises(UserError, match="not a wheel"):
        wheelhouse.parse_report(report)


def test_lock_round_trips_through_text():
    wheels = [
        LockedWheel("numpy", "2.4.6", "numpy-2.4.6-cp311-cp311-manylinux_2_27_aarch64.whl", SHA_A),
        LockedWheel("tf-keras", "2.21.0", "tf_keras-2.21.0-py3-none-any.whl", SHA_B),
    ]
    text = wheelhouse.render_lock("arm64", wheels, ["a note"])
    assert "# a note" in text
    assert "regenerate with: python -m harness host lock" in text
    assert wheelhouse.parse_lock(text) == wheels


def test_parse_lock_names_the_bad_line():
    with pytest.raises(UserError, match="line 2"):
        wheelhouse.parse_lock("# header\nnumpy>=2\n")


def test_committed_locks_parse_and_pin_the_bench_stack():
    for arch in ("amd64", "arm64"):
        names = {wheel.name: wheel.version for wheel in wheelhouse.read_lock(arch)}
        assert names["tf-keras"] == "2.21.0"
        assert names["ai-edge-litert"] == "2.3.0"
        assert all(wheel.filename.endswith(".whl") for wheel in wheelhouse.read_lock(arch))
    amd64 = {wheel.name for wheel in wheelhouse.read_lock("amd64")}
    assert "tensorflow-cpu" in amd64 and "tensorflow" not in amd64
    assert "tensorflow" in {wheel.name for wheel in wheelhouse.read_lock("arm64")}


def test_substitute_swaps_when_the_replacement_needs_nothing_new():
    full = [LockedWheel("numpy", "2", "n.whl", SHA_A), LockedWheel("tensorflow", "2.21.0", "tf.whl", SHA_A)]
    closure = [
        LockedWheel("numpy", "2", "n.whl", SHA_A),
        LockedWheel("tensorflow-cpu", "2.21.0", "c.whl", SHA_B),
    ]
    swapped = wheelhouse.substitute(full, closure, "tensorflow", "tensorflow-cpu")
    assert [wheel.name for wheel in swapped] == ["numpy", "tensorflow-cpu"]


def test_substitute_refuses_when_the_replacement_needs_other_versions():
    full = [LockedWheel("numpy", "2", "n.whl", SHA_A), LockedWheel("tensorflow", "2.21.0", "tf.whl", SHA_A)]
    closure = [
        LockedWheel("numpy", "3", "n3.whl", SHA_A),
        LockedWheel("tensorflow-cpu", "2.21.0", "c.whl", SHA_B),
    ]
    with pytest.raises(UserError, match="numpy==3"):
        wheelhouse.substitute(full, closure, "tensorflow", "tensorflow-cpu")


def test_missing_wheels_checks_hashes_and_drops_corrupt_files(tmp_path):
    good = tmp_path / "good-1-py3-none-any.whl"
    good.write_bytes(b"good")
    bad = tmp_path / "bad-1-py3-none-any.whl"
    bad.write_bytes(b"truncated")
    wheels = [
        LockedWheel("good", "1", good.name, hashlib.sha256(b"good").hexdigest()),
        LockedWheel("bad", "1", bad.name, hashlib.sha256(b"complete").hexdigest()),
        LockedWheel("absent", "1", "absent-1-py3-none-any.whl", SHA_A),
    ]
    assert [wheel.name for wheel in wheelhouse.missing_wheels(wheels, tmp_path)] == ["bad", "absent"]
    assert good.exists() and not bad.exists()


def test_requirement_lines_drop_comments(tmp_path):
    path = tmp_path / "req.txt"
    path.write_text("# header\ntensorflow==2.21.0  # pinned\n\npsutil==7.1.3\n")
    assert wheelhouse.requirement_lines(path) == ["tensorflow==2.21.0", "psutil==7.1.3"]


def test_requirement_lines_evaluate_markers_for_the_target_arch(tmp_path):
    # pip evaluates a marker against the machine it runs on, not its --platform target: the lock
    # of each arch must see the marker as that arch would
    path = tmp_path / "bench.txt"
    path.write_text('psutil==7.1.3\nmlcommons-loadgen==6.0.17; platform_machine == "x86_64"\n')
    assert wheelhouse.requirement_lines(path, "amd64") == ["psutil==7.1.3", "mlcommons-loadgen==6.0.17"]
    assert wheelhouse.requirement_lines(path, "arm64") == ["psutil==7.1.3"]
