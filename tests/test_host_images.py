"""Unit tests (no Docker) for the build context, build-log parsing, manifest and base set-up."""

from __future__ import annotations

import hashlib
import os

import pytest

from harness.errors import UserError
from harness.host.engine.builder import BuildLog
from harness.host.engine.connect import Engine
from harness.host.images import archive
from harness.host.images import build as images
from harness.host.images.wheelhouse import LockedWheel


def make_tree(tmp_path):
    cache = tmp_path / "cache"
    cache.mkdir()
    wheels = []
    for name in ("alpha", "beta"):
        path = cache / f"{name}-1-py3-none-any.whl"
        path.write_bytes(name.encode())
        wheels.append(LockedWheel(name, "1", path.name, hashlib.sha256(name.encode()).hexdigest()))
    (cache / "stale-0-py3-none-any.whl").write_bytes(b"old")
    harness = tmp_path / "harness"
    (harness / "host" / "__pycache__").mkdir(parents=True)
    (harness / "__init__.py").write_text("")
    (harness / "host" / "cli.py").write_text("x = 1\n")
    (harness / "host" / "__pycache__" / "cli.cpython-311.pyc").write_bytes(b"pyc")
    (harness / "stray.pyc").write_bytes(b"pyc")
    lock = tmp_path / "lock-amd64.txt"
    lock.write_text("# lock\n")
    dockerfile = tmp_path / "Dockerfile"
    dockerfile.write_text("FROM scratch\n")
    tool = tmp_path / "strip_elf.py"
    tool.write_text("")
    return cache, wheels, harness, lock, dockerfile, tool


def test_each_context_holds_exactly_what_its_build_reads(tmp_path):
    cache, wheels, harness, lock, dockerfile, tool = make_tree(tmp_path)
    deps = tmp_path / "deps"
    (deps / "leftover").mkdir(parents=True)  # from an interrupted earlier run
    images.assemble_deps_context(
        "amd64", wheels, cache, deps, lock_file=lock, dockerfile=dockerfile, build_tools=(tool,)
    )
    final = images.assemble_harness_context(tmp_path / "final", harness_dir=harness, dockerfile=dockerfile)

    def files(context):
        return sorted(str(path.relative_to(context)) for path in context.rglob("*") if path.is_file())

    assert files(deps) == [
        "Dockerfile",
        "lock.txt",
        "strip_elf.py",
        "wheels/alpha-1-py3-none-any.whl",
        "wheels/beta-1-py3-none-any.whl",
    ]
    # hard links: the gigabyte of wheels is not copied
    assert os.path.samefile(deps / "wheels" / wheels[0].filename, cache / wheels[0].filename)
    assert files(final) == ["Dockerfile", "harness/__init__.py", "harness/host/cli.py"]


def test_build_log_tracks_steps_cache_hits_and_the_image_id():
    log = BuildLog()
    chunks = [
        {"stream": "Step 1/3 : FROM base\n"},
        {"stream": " ---> 1234\n"},
        {"stream": "Step 2/3 : RUN pip install\n"},
        {"stream": " ---> Using cache\n ---> 5678\n"},
        {"stream": "Step 3/3 : COPY harness /opt\n"},
        {"aux": {"ID": "sha256:" + "c" * 64}},
        {"stream": "Successfully built cccccccccccc\n"},
    ]
    for chunk in chunks:
        log.feed(chunk)
    assert (log.step_number, log.steps_total, log.steps_cached) == (3, 3, 1)
    assert log.image_id == "sha256:" + "c" * 64
    assert log.step_label() == "3/3 COPY harness /opt"
    assert not log.error


def test_build_log_keeps_the_error_and_the_failing_step():
    log = BuildLog()
    log.feed({"stream": "Step 4/9 : RUN python3 -m venv /opt/venv\n"})
    log.feed({"error": "The command returned a non-zero code: 1", "errorDetail": {"message": "x"}})
    assert log.error.startswith("The command returned")
    assert log.step_label().startswith("4/9 RUN python3")


def test_manifest_round_trips_and_rejects_foreign_json(tmp_path):
    entry = archive.ManifestEntry(
        tag="quantbench:arm64",
        architecture="arm64",
        image_id="sha256:" + "d" * 64,
        size_bytes=10,
        created="2026-11-27T00:00:00Z",
        archive="quantbench-arm64.tar",
        archive_bytes=3,
        archive_sha256=hashlib.sha256(b"tar").hexdigest(),
        repo_digests=[],
        saved_at="2026-11-27T00:00:01+00:00",
    )
    archive.write_manifest(tmp_path, {"arm64": entry})
    assert archive.read_manifest(tmp_path) == {"arm64": entry}
    (tmp_path / "quantbench-arm64.tar").write_bytes(b"tar")
    assert archive.check_archive(tmp_path, entry).name == "quantbench-arm64.tar"
    (tmp_path / "quantbench-arm64.tar").write_bytes(b"ta")
    with pytest.raises(UserError, match="does not match"):
        archive.check_archive(tmp_path, entry)
    (tmp_path / "manifest.json").write_text('{"kind": "other"}')
    with pytest.raises(UserError, match="not a quantbench image manifest"):
        archive.read_manifest(tmp_path)


def test_the_build_imports_every_runtime_natively_and_leaves_onnxruntime_to_the_emulated_run():
    engine = Engine(client=None, arch="arm64")
    natively = set(images.import_check("arm64", engine)["IMPORT_CHECK"].split())
    emulated = set(images.import_check("amd64", engine)["IMPORT_CHECK"].split())
    assert {"tensorflow", "ai_edge_litert.interpreter", "onnxruntime", "openvino"} <= natively
    assert natively - emulated == {"onnxruntime"}
