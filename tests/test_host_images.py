"""Unit tests (no Docker) for the build context, build-log parsing, manifest and base set-up."""

from __future__ import annotations

import hashlib
import zipfile

import pytest

from harness.errors import UserError
from harness.host.engine.builder import BuildLog
from harness.host.engine.connect import Engine
from harness.host.images import archive
from harness.host.images import build as images
from harness.host.images.wheelhouse import LockedWheel


def make_wheel(cache, name: str, files: dict[str, str]) -> LockedWheel:
    """A real (tiny) pure-Python wheel in cache."""
    filename = f"{name}-1-py3-none-any.whl"
    info = f"{name}-1.dist-info"
    contents = {
        **files,
        f"{info}/METADATA": f"Metadata-Version: 2.1\nName: {name}\nVersion: 1\n",
        f"{info}/WHEEL": "Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
    }
    record = "".join(f"{path},,\n" for path in contents) + f"{info}/RECORD,,\n"
    with zipfile.ZipFile(cache / filename, "w") as archive:
        for path, text in contents.items():
            archive.writestr(path, text)
        archive.writestr(f"{info}/RECORD", record)
    digest = hashlib.sha256((cache / filename).read_bytes()).hexdigest()
    return LockedWheel(name, "1", filename, digest)


def make_tree(tmp_path):
    cache = tmp_path / "cache"
    cache.mkdir()
    wheels = [
        make_wheel(cache, "alpha", {"alpha/__init__.py": "A = 1\n", "alpha/tests/__init__.py": ""}),
        make_wheel(cache, "beta", {"beta/__init__.py": "B = 2\n"}),
    ]
    make_wheel(cache, "stale", {"stale/__init__.py": ""})  # in the cache, not in the lock
    harness = tmp_path / "harness"
    (harness / "host" / "__pycache__").mkdir(parents=True)
    (harness / "__init__.py").write_text("")
    (harness / "host" / "cli.py").write_text("x = 1\n")
    (harness / "host" / "__pycache__" / "cli.cpython-311.pyc").write_bytes(b"pyc")
    (harness / "stray.pyc").write_bytes(b"pyc")
    lock = tmp_path / "lock-amd64.txt"
    lock.write_text("# lock\n" + "".join(w.requirement_line() + "\n" for w in wheels))
    dockerfile = tmp_path / "Dockerfile"
    dockerfile.write_text("FROM scratch\n")
    return cache, wheels, harness, lock, dockerfile, images.BUILD_TOOLS[0]


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

    unpacked = [f for f in files(deps) if "__pycache__" not in f]
    # the venv's packages made here from the locked wheels only: no wheel, no stale package, no tests
    assert unpacked[0] == "Dockerfile" and "site-packages/alpha/__init__.py" in unpacked
    assert "site-packages/beta/__init__.py" in unpacked
    assert not any(f.endswith(".whl") or "stale" in f or "/tests/" in f for f in unpacked)
    if images.can_compile_here():  # bytecode written here, as CPython 3.11 reads it in the image
        assert any(f.startswith("site-packages/alpha/__pycache__/__init__.cpython-311") for f in files(deps))
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
