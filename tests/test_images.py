"""Integration tests: really build quantbench:amd64 and quantbench:arm64 and run them.

Needs a Docker engine (and QEMU in binfmt_misc for the foreign arch). Without
one these tests skip, except under CI=true where they fail: CI must not pass
by skipping the thing it exists to check.

The first run builds the base images and the wheel cache (root + network);
later runs reuse the layers, so "build" is a cache check of a few seconds.
"""

from __future__ import annotations

import json
import shutil

import pytest

from harness.errors import UserError
from harness.host import ARCHES, BENCH_UID, image_tag
from tests.helpers import unavailable

pytestmark = pytest.mark.docker

PYTHON = "/opt/venv/bin/python"
# A two-op model (conv + dense) converted natively on amd64 and run on every arch.
MAKE_MODEL = """
import numpy as np, tensorflow as tf
tf.keras.utils.set_random_seed(0)
model = tf.keras.Sequential([tf.keras.Input((8, 8, 3)), tf.keras.layers.Conv2D(4, 3),
                             tf.keras.layers.Flatten(), tf.keras.layers.Dense(5)])
converter = tf.lite.TFLiteConverter.from_keras_model(model)
open("/io/tiny.tflite", "wb").write(converter.convert())
"""
RUN_MODEL = """
import json, numpy as np
from ai_edge_litert.interpreter import Interpreter
interpreter = Interpreter(model_path="/io/tiny.tflite", num_threads=2)
interpreter.allocate_tensors()
x = np.linspace(-1, 1, 8 * 8 * 3, dtype=np.float32).reshape(1, 8, 8, 3)
interpreter.set_tensor(interpreter.get_input_details()[0]["index"], x)
interpreter.invoke()
print(json.dumps(interpreter.get_tensor(interpreter.get_output_details()[0]["index"]).tolist()))
"""


@pytest.fixture(scope="module")
def engine():
    from harness.host.engine.connect import connect

    try:
        engine = connect()
    except UserError as error:
        unavailable(str(error))
    yield engine
    engine.close()


@pytest.fixture(scope="module")
def client(engine):
    return engine.client


@pytest.fixture(scope="module")
def console():
    from rich.console import Console

    return Console(stderr=True)


@pytest.fixture(scope="module")
def built(engine, console):
    """Build (or confirm up to date) both images once for the module."""
    from harness.host.engine.emulation import ensure_emulation
    from harness.host.images.build import build_image

    outcomes = {}
    for arch in ARCHES:
        try:
            ensure_emulation(arch, engine)
        except UserError as error:
            unavailable(str(error))
        outcomes[arch] = build_image(engine, arch, console)
    return outcomes


def run_python(engine, arch: str, code: str, volumes: dict | None = None) -> str:
    """Run python code in quantbench:<arch> with this engine's emulation settings; return stdout."""
    from harness.host.engine.emulation import emulation_run_options

    kwargs = emulation_run_options(arch, engine).run_kwargs()
    kwargs.setdefault("volumes", {}).update(volumes or {})
    output = engine.client.containers.run(
        image_tag(arch), [code], entrypoint=[PYTHON, "-c"], remove=True, **kwargs
    )
    return output.decode().strip()


@pytest.mark.parametrize("arch", ARCHES)
def test_image_config_names_the_architecture_and_a_non_root_user(client, built, arch):
    attrs = client.api.inspect_image(image_tag(arch))
    assert attrs["Architecture"] == arch
    assert attrs["Os"] == "linux"
    assert attrs["Config"]["User"] == f"{BENCH_UID}:{BENCH_UID}"
    assert attrs["Config"]["Entrypoint"] == [PYTHON, "-m", "harness"]
    assert "TF_USE_LEGACY_KERAS=1" in attrs["Config"]["Env"]
    size_gb = attrs["Size"] / 1e9
    assert size_gb < 1.8, f"{arch} image is {size_gb:.2f} GB (at most 1.8 GB with four runtimes)"


@pytest.mark.parametrize("arch", ARCHES)
def test_the_container_runs_the_right_machine(engine, built, arch):
    machine = run_python(engine, arch, "import platform; print(platform.machine())")
    assert machine == ARCHES[arch]  # x86_64 / aarch64


@pytest.mark.parametrize("arch", ARCHES)
def test_tensorflow_and_litert_import(engine, built, arch):
    code = (
        "import sys, tensorflow as tf, tf_keras, tensorflow_model_optimization, ai_edge_litert.interpreter;"
        "print(sys.version_info[:2], tf.__version__)"
    )
    assert run_python(engine, arch, code) == "(3, 11) 2.21.0"


def test_litert_runs_the_same_model_on_both_arches(engine, built, tmp_path):
    """The arm64 run goes through QEMU here: it needs the emulation options to not segfault."""
    io_dir = tmp_path / "io"
    io_dir.mkdir()
    io_dir.chmod(0o777)  # the containers run as uid 10001
    volumes = {str(io_dir): {"bind": "/io", "mode": "rw"}}
    run_python(engine, "amd64", MAKE_MODEL, volumes)
    outputs = {arch: json.loads(run_python(engine, arch, RUN_MODEL, volumes)) for arch in ARCHES}
    amd64, arm64 = outputs["amd64"][0], outputs["arm64"][0]
    assert len(amd64) == 5
    assert max(abs(a - b) for a, b in zip(amd64, arm64, strict=True)) < 1e-4


def test_a_harness_change_reuses_the_dependency_layers(engine, client, built, console, tmp_path):
    from harness.host.images.build import HARNESS_DIR, build_image

    harness = tmp_path / "harness"
    shutil.copytree(HARNESS_DIR, harness, ignore=shutil.ignore_patterns("__pycache__"))
    with (harness / "__init__.py").open("a") as handle:
        handle.write("\n# changed by test_a_harness_change_reuses_the_dependency_layers\n")
    tag = "quantbench-test:layers-amd64"
    try:
        outcome = build_image(engine, "amd64", console, tag=tag, harness_dir=harness)
        original = client.api.inspect_image(image_tag("amd64"))["RootFS"]["Layers"]
        changed = client.api.inspect_image(tag)["RootFS"]["Layers"]
    finally:
        client.images.remove(tag, noprune=False)
    assert changed[:-1] == original[:-1]  # base, user and the whole venv: reused
    assert changed[-1] != original[-1]  # only the harness layer is new
    assert outcome.seconds < 300


def test_a_build_leaves_no_untagged_image_behind(client, built):
    """The wheel stage of the deps build is deleted; the deps image shares the final's layers."""
    dangling = client.images.list(filters={"dangling": True, "label": "org.quantbench.stage=venv"})
    for arch in ARCHES:
        dangling += client.images.list(filters={"dangling": True, "label": f"org.quantbench.arch={arch}"})
    assert dangling == []
    for arch in ARCHES:
        deps = client.api.inspect_image(f"quantbench-deps:{arch}")["RootFS"]["Layers"]
        final = client.api.inspect_image(image_tag(arch))["RootFS"]["Layers"]
        assert final[: len(deps)] == deps and len(final) == len(deps) + 1  # + harness/


def test_save_and_load_round_trip_through_the_manifest(client, built, console, tmp_path):
    from harness.host.images.archive import MANIFEST_NAME, load_images, read_manifest, save_images

    arch = "arm64"
    tag = f"quantbench-test:roundtrip-{arch}"
    client.images.get(image_tag(arch)).tag("quantbench-test", f"roundtrip-{arch}")
    try:
        saved = save_images(client, [arch], tmp_path, console, tags={arch: tag})
        manifest = json.loads((tmp_path / MANIFEST_NAME).read_text())
        entry = manifest["images"][arch]
        assert entry["architecture"] == arch and entry["tag"] == tag
        assert entry["image_id"] == client.images.get(image_tag(arch)).id
        assert entry["archive_bytes"] == (tmp_path / entry["archive"]).stat().st_size
        assert read_manifest(tmp_path) == saved
        client.images.remove(tag)  # untag only: quantbench:arm64 keeps the layers
        load_images(client, [arch], tmp_path, console)
        assert client.images.get(tag).id == entry["image_id"]
        with (tmp_path / entry["archive"]).open("r+b") as handle:
            handle.truncate(entry["archive_bytes"] - 1)
        with pytest.raises(UserError, match="does not match"):
            load_images(client, [arch], tmp_path, console)
    finally:
        if any(tag in image.tags for image in client.images.list("quantbench-test")):
            client.images.remove(tag)
    (tmp_path / entry["archive"]).unlink()  # 1.5 GB: do not wait for pytest to clean up
