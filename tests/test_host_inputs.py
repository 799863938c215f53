"""The host side of a user's model: paths checked before anything is built, prepare's arguments,
the profile, where its artifacts go."""

from __future__ import annotations

import pytest

from harness.errors import UserError
from harness.host.run import inputs
from harness.host.run.profiles import FULL, QUICK, ImageOptions, for_user_model, prepare_command
from tests.helpers import run_cli


def test_a_built_in_model_stages_nothing_and_keeps_its_artifacts_folder(tmp_path):
    assert inputs.model_path("resnet50") is None and inputs.data_path("digits") is None
    assert inputs.default_artifacts("resnet50", tmp_path) == tmp_path / "artifacts"


def test_a_model_file_and_image_folder_are_found_and_checked(tmp_path):
    model = tmp_path / "My Net.keras"
    model.write_bytes(b"zip")
    (tmp_path / "images").mkdir()
    assert inputs.model_path(str(model)) == model.resolve()
    assert inputs.data_path(f"imagefolder:{tmp_path / 'images'}") == (tmp_path / "images").resolve()
    assert inputs.default_artifacts(str(model), tmp_path) == tmp_path / "artifacts-My-Net.keras"
    with pytest.raises(UserError, match="no such folder"):
        inputs.data_path(f"imagefolder:{tmp_path / 'nope'}")
    with pytest.raises(UserError, match="no such file"):
        inputs.data_path(f"npz:{tmp_path / 'images'}")
    with pytest.raises(UserError, match="no such file or folder"):
        inputs.model_path(str(tmp_path / "missing.onnx"))
    notes = tmp_path / "notes.txt"
    notes.write_text("x")
    with pytest.raises(UserError, match=r"notes\.txt is not a model quantbench reads"):
        inputs.model_path(str(notes))
    with pytest.raises(UserError, match="unknown model 'vgg'"):
        inputs.model_path("vgg")


def test_a_user_model_runs_the_profiles_root_passes_and_passes_its_options_to_prepare():
    assert for_user_model(QUICK).native == QUICK.native
    full = for_user_model(FULL)
    assert full.input_sizes() == (32,) and len(full.native) == len(FULL.native) - 1 and not full.note
    options = ImageOptions("-1-1", "stretch", 64, None, 3, 224)
    command = prepare_command(
        "/mnt/data/model/m.onnx", "imagefolder:/mnt/data/data/x", None, None, "/o", images=options
    )
    assert command[-5:] == [
        "--normalize=-1-1",
        "--resize=stretch",
        "--calibration-images=64",
        "--split-seed=3",
        "--input-size=224",
    ]


def test_host_run_refuses_before_building_anything(tmp_path):
    model = tmp_path / "m.onnx"
    model.write_bytes(b"x")
    cases = [
        (("--model", str(model), "--data", "digits"), "--normalize"),
        (
            ("--model", str(model), "--normalize", "tf", "--data", f"imagefolder:{tmp_path / 'no'}"),
            "no such folder",
        ),
        (("--normalize", "tf"), "--normalize are for your own model"),
        (("--model", str(model), "--normalize", "tf", "--epochs", "2"), "measured as given"),
    ]
    for arguments, phrase in cases:
        proc = run_cli("host", "run", "--arch", "amd64", *arguments, timeout=60)
        assert proc.returncode == 2 and phrase in proc.stderr and "Traceback" not in proc.stderr, proc.stderr


def test_host_tune_measures_the_root_set_at_the_fixed_batches_with_a_larger_round_budget():
    from harness.host.run.profiles import TUNE_ROUNDS_BUDGET_S, for_tune

    tuned = for_tune(FULL)
    assert [p.batches for p in tuned.native] == [(1, 64)] and not any(p.scenario for p in tuned.native)
    assert tuned.native[0].rounds_budget_s == TUNE_ROUNDS_BUDGET_S > QUICK.native[0].rounds_budget_s
    assert [p.batches for p in tuned.emulated] == [(1, 64)] and tuned.input_sizes() == (32,)
