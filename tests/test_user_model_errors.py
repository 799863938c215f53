"""A user's bad model or images: one sentence naming the fix, exit 2, no traceback, nothing written."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.helpers import run_cli
from tests.user_models import make_image_folder, onnx_outside_data

pytest.importorskip("keras")
pytest.importorskip("onnx")


def refused(tmp_path: Path, model: Path | str, data: str, *phrases: str, extra: tuple[str, ...] = ()) -> None:
    """prepare refuses with exit 2, one 'error:' line holding phrases, no traceback, no artifacts."""
    out = tmp_path / "artifacts"
    proc = run_cli(
        "prepare", "--model", str(model), "--data", data, "--normalize", "0-1", *extra, "--out", str(out)
    )
    assert proc.returncode == 2, proc.stdout + proc.stderr[-3000:]
    assert "Traceback" not in proc.stderr, proc.stderr[-3000:]
    errors = [line for line in proc.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1, proc.stderr[-3000:]
    for phrase in phrases:
        assert phrase in errors[0], errors[0]
    assert not out.exists(), sorted(p.name for p in out.rglob("*"))


def test_a_file_that_is_not_a_model(tmp_path, user_images):
    notes = tmp_path / "notes.txt"
    notes.write_text("not a model")
    refused(
        tmp_path, notes, f"imagefolder:{user_images}", "notes.txt is not a model quantbench reads", ".onnx"
    )
    garbage = tmp_path / "garbage.onnx"
    garbage.write_bytes(b"\x00\x01 this is no protobuf \xff" * 10)
    refused(tmp_path, garbage, f"imagefolder:{user_images}", "garbage.onnx is not an ONNX model")
    broken = tmp_path / "broken.keras"
    broken.write_bytes(b"PK not really a zip")
    refused(
        tmp_path,
        broken,
        f"imagefolder:{user_images}",
        "broken.keras is not a Keras model quantbench can load",
    )


@pytest.mark.parametrize(
    ("file", "phrase"),
    [
        ("custom.keras", "layer 'my_doubling' is the custom class 'mine>Doubling'"),
        ("lambda.keras", "layer 'times_two' is a Lambda"),
    ],
)
def test_a_keras_file_that_needs_custom_code_names_the_layer(
    tmp_path, user_models, user_images, file, phrase
):
    refused(
        tmp_path, user_models / file, f"imagefolder:{user_images}", "needs custom code", phrase, "safe mode"
    )


def test_an_onnx_file_whose_external_data_is_outside_its_folder(tmp_path, user_images):
    model = onnx_outside_data(tmp_path / "model")
    refused(
        tmp_path,
        model,
        f"imagefolder:{user_images}",
        "'weight'",
        "'../weights.bin'",
        "outside the model's folder",
    )


def test_a_model_whose_input_is_not_an_image_batch(tmp_path, user_models, user_images):
    refused(tmp_path, user_models / "vector.keras", f"imagefolder:{user_images}", "not an image batch")


def test_a_dynamic_input_side_needs_input_size(tmp_path, user_models, user_images):
    refused(
        tmp_path,
        user_models / "nchw.onnx",
        f"imagefolder:{user_images}",
        "dynamic height or width",
        "--input-size",
    )


def test_a_folder_with_fewer_than_two_classes(tmp_path, user_models):
    one = make_image_folder(tmp_path / "one", classes=1)
    refused(tmp_path, user_models / "tiny.keras", f"imagefolder:{one}", "1 class folder(s)", "at least 2")


def test_an_unreadable_image_is_named(tmp_path, user_models):
    folder = make_image_folder(tmp_path / "broken")
    (folder / "class_1" / "005.png").write_bytes(b"\x89PNG but then nothing")
    refused(
        tmp_path,
        user_models / "tiny.keras",
        f"imagefolder:{folder}",
        "class_1/005.png",
        "remove or replace it",
    )


def test_more_classes_in_the_folder_than_the_model_outputs(tmp_path, user_models):
    five = make_image_folder(tmp_path / "five", classes=5)
    refused(
        tmp_path,
        user_models / "tiny.keras",
        f"imagefolder:{five}",
        "has 5 classes",
        "the 3 scores tiny.keras outputs",
    )


def test_normalization_is_declared_not_guessed(tmp_path, user_models, user_images):
    out = tmp_path / "artifacts"
    proc = run_cli(
        "prepare",
        "--model",
        str(user_models / "tiny.keras"),
        "--data",
        f"imagefolder:{user_images}",
        "--out",
        str(out),
    )
    assert proc.returncode == 2 and "--normalize" in proc.stderr and "does not guess" in proc.stderr
    assert not out.exists()
