"""Shared test set-up: tests run against the repo's own package."""

import os
from pathlib import Path

import pytest

from tests.helpers import run_cli

# Keep TensorFlow quiet and deterministic-ish in tests.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")


@pytest.fixture(scope="session")
def tiny_artifacts(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("artifacts")
    proc = run_cli("prepare", "--model", "tiny", "--data", "synthetic", "--epochs", "1", "--out", str(out))
    assert proc.returncode == 0, proc.stderr[-3000:]
    return out


@pytest.fixture(scope="session")
def tiny_results(tiny_artifacts, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("results")
    proc = run_cli(
        "measure",
        "--max-rounds",
        "0",
        "--artifacts",
        str(tiny_artifacts),
        "--variants",
        "all",
        "--batch",
        "1,4",
        "--threads",
        "1",
        "--warmup",
        "1",
        "--repeats",
        "5",
        "--min-seconds",
        "0",  # exactly 5 timings per result (the schema test counts them)
        "--warmup-seconds",
        "0",
        "--out",
        str(out),
        "--run-id",
        "t1",
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    return out


@pytest.fixture(scope="session")
def user_models(tmp_path_factory) -> Path:
    """The small Keras and ONNX models of tests/user_models.py (a user's files), made once."""
    from tests.user_models import make_models

    return make_models(tmp_path_factory.mktemp("user-models"))


@pytest.fixture(scope="session")
def user_images(tmp_path_factory) -> Path:
    """An image folder of PNGs, one subfolder per class (a user's images), written once."""
    from tests.user_models import make_image_folder

    return make_image_folder(tmp_path_factory.mktemp("user-images") / "images")
