"""The model and data block, and one model per report (--model, the newest run's by default)."""

import argparse
import io
import json

import pytest
from rich.console import Console

from harness.errors import UserError
from harness.report import cli, cli_explain, export
from harness.report.document import build_report
from harness.report.load import LoadedResults, load_directories
from harness.report.models import NotMade, build_models
from harness.report.render import render_report
from tests.report_fixtures import machine_results, write_results

SHA256 = "0123456789abcdef" * 4
NO_TF_GRAPH = "an ONNX model has no TensorFlow graph of its own"
NO_QAT = "no QAT model: quantization-aware training needs the model's Keras source"
ONNX2TF = "onnx2tf could not convert it (Unsupported op: NonMaxSuppression)"


def builtin_results(**common):
    """The built-in model on the digits (360 eval images), TF and LiteRT variants."""
    return machine_results(data="digits", eval_images=360, **common)


def onnx_results(**common):
    """A user's ONNX file: ONNX Runtime takes its NCHW input; two runs' reasons to union."""
    user = {
        "model": "mobilenetv2.onnx",
        "model_kind": "onnx",
        "model_sha256": SHA256,
        "normalize": "torch",
        "input_size": 64,
        "data": "imagefolder:images",
        "eval_images": 338,
        "run_id": "run-user",
        "finished_at": "2025-06-03T10:00:00Z",
        **common,
    }
    ort = machine_results(
        variants=("ort-fp32", "ort-int8"),
        input_layout="NCHW",
        variants_not_made={"tf-fp32": NO_TF_GRAPH, "tf-fakequant": NO_TF_GRAPH, "tflite-int8-qat": NO_QAT},
        **user,
    )
    litert = machine_results(
        variants=("tflite-fp32", "tflite-int8"),
        variants_not_made={"tf-fakequant": NO_TF_GRAPH, "tflite-fp16": ONNX2TF},
        **user,
    )
    return ort + litert


def console_text(report):
    console = Console(width=1000, record=True, file=io.StringIO(), color_system=None)
    render_report(report, console)
    return console.export_text()


def run_report(*argv):
    parser = argparse.ArgumentParser()
    cli.add_arguments(parser)
    return cli.run(parser.parse_args([str(arg) for arg in argv]))


def test_the_builtin_model_is_one_line():
    [entry] = build_models(builtin_results())
    assert entry.text == "model: resnet50 (built in, trained here) on digits (360 eval images, labelled)"
    assert (entry.kind, entry.sha256, entry.not_made) == ("builtin", "", [])


def test_results_before_schema_6_name_their_model_from_versions():
    old = builtin_results(versions={"model": "tiny"}, labelled=False)
    [entry] = build_models(old)
    assert entry.text == (
        "model: tiny (built in, trained here) on digits (360 eval images, unlabelled: no top-1)"
    )


def test_a_user_onnx_model_says_its_file_input_and_the_variants_not_made_by_reason():
    [entry] = build_models(onnx_results())
    assert entry.text == (
        "model: mobilenetv2.onnx (ONNX file, sha256 0123456789ab; input 64×64 NCHW (ONNX Runtime) / "
        "NHWC (LiteRT), pixels normalized 'torch') on imagefolder:images (338 eval images, labelled)"
    )
    # the union over its results, variants sharing a reason together, in the registry's order
    assert entry.not_made == [
        NotMade(variants=["tf-fp32", "tf-fakequant"], reason=NO_TF_GRAPH),
        NotMade(variants=["tflite-int8-qat"], reason=NO_QAT),
        NotMade(variants=["tflite-fp16"], reason=ONNX2TF),
    ]
    assert entry.not_made[0].text == f"not made: tf-fp32, tf-fakequant — {NO_TF_GRAPH}"


def test_a_keras_model_in_one_layout_reads_as_the_readme_says():
    keras = machine_results(
        model="mobilenetv2.keras",
        model_kind="keras",
        model_sha256=SHA256,
        normalize="tf",
        input_size=64,
        data="imagefolder:images",
        eval_images=338,
    )
    [entry] = build_models(keras)
    assert entry.text == (
        "model: mobilenetv2.keras (Keras file, sha256 0123456789ab; input 64×64 NHWC, pixels normalized "
        "'tf') on imagefolder:images (338 eval images, labelled)"
    )


def test_console_markdown_and_json_carry_the_block():
    report = build_report(LoadedResults(results=onnx_results()), ["results"])
    lines = console_text(report).splitlines()
    assert lines[1].startswith("model: mobilenetv2.onnx (ONNX file, sha256 0123456789ab;")
    assert lines[2] == f"  not made: tf-fp32, tf-fakequant — {NO_TF_GRAPH}"
    markdown = export.to_markdown(report)
    assert f"\n- {report.models[0].text}\n  - not made: tf-fp32, tf-fakequant — {NO_TF_GRAPH}\n" in markdown
    assert markdown.index("- model: mobilenetv2.onnx") < markdown.index("## Verdicts")
    [model] = json.loads(export.to_json(report))["models"]
    assert (model["name"], model["kind"], model["sha256"], model["sha256_short"]) == (
        "mobilenetv2.onnx",
        "onnx",
        SHA256,
        "0123456789ab",
    )
    assert model["layouts"] == {"NCHW": ["ort"], "NHWC": ["litert"]}
    assert model["not_made"][0] == {"variants": ["tf-fp32", "tf-fakequant"], "reason": NO_TF_GRAPH}
    assert (model["eval_images"], model["labelled"], model["normalize"]) == (338, True, ["torch"])


def test_the_builtin_report_gains_only_its_model_line(tmp_path):
    write_results(tmp_path, builtin_results())
    report = build_report(load_directories([tmp_path]), [str(tmp_path)])
    lines = console_text(report).splitlines()
    assert lines[1] == "model: resnet50 (built in, trained here) on digits (360 eval images, labelled)"
    assert not lines[2].startswith("  not made")
    assert report.file_warnings == []


@pytest.fixture
def two_models(tmp_path):
    """The built-in model in two runs (the second sets the first aside), then a user's model."""
    write_results(tmp_path, builtin_results(run_id="run-1", finished_at="2025-06-01T10:00:00Z"))
    write_results(tmp_path, builtin_results(run_id="run-2", finished_at="2025-06-02T10:00:00Z"))
    write_results(tmp_path, onnx_results())
    return tmp_path


def test_a_report_keeps_the_model_of_the_newest_run_and_says_what_it_left_out(two_models):
    loaded = load_directories([two_models])
    assert {result.model_name for result in loaded.results} == {"mobilenetv2.onnx"}
    assert loaded.superseded == 0  # the built-in model's older run is not counted: it was left out
    assert loaded.model_notes == [
        "results also hold 14 results of resnet50 (2 runs), left out: a report covers one model, here "
        f"mobilenetv2.onnx (the model of the newest run); 'quantbench report {two_models} --model "
        "resnet50' reports those"
    ]
    report = build_report(loaded, [str(two_models)])
    assert [model.name for model in report.models] == ["mobilenetv2.onnx"]
    assert loaded.model_notes[0] in report.file_warnings
    assert f"WARNING: {loaded.model_notes[0]}" in export.to_markdown(report)


def test_model_picks_the_other_model_and_merges_its_runs(two_models, capsys):
    loaded = load_directories([two_models], model="resnet50")
    assert {result.run_id for result in loaded.results} == {"run-2"}  # the merge rule, within the model
    assert loaded.superseded == 7
    assert loaded.model_notes == [
        "results also hold 4 results of mobilenetv2.onnx (1 run), left out: a report covers one model, "
        f"here resnet50 (--model resnet50); 'quantbench report {two_models} --model mobilenetv2.onnx' "
        "reports those"
    ]
    assert run_report(two_models, "--model", "resnet50") == 0
    text = capsys.readouterr().out
    assert "model: resnet50 (built in, trained here) on digits" in text
    assert "model: mobilenetv2.onnx" not in text


def test_an_unknown_model_is_a_user_error_naming_the_models_there(two_models):
    message = (
        f"no results of model 'resnet18' in {two_models}; they hold mobilenetv2.onnx (4 results, 1 run) "
        "and resnet50 (14 results, 2 runs): pass one of those to --model."
    )
    with pytest.raises(UserError) as raised:
        run_report(two_models, "--model", "resnet18")
    assert str(raised.value) == message
    parser = argparse.ArgumentParser()
    cli_explain.add_arguments(parser)
    explain_args = parser.parse_args([str(two_models), "--variant", "tflite-int8", "--model", "resnet18"])
    with pytest.raises(UserError, match="no results of model 'resnet18'"):
        cli_explain.run(explain_args)


def test_two_files_of_one_name_are_told_apart_by_their_sha256(tmp_path):
    other_sha256 = "fedcba9876543210" * 4
    write_results(tmp_path, onnx_results())
    retrained = onnx_results(model_sha256=other_sha256, run_id="run-2", finished_at="2025-06-04T10:00:00Z")
    write_results(tmp_path, retrained)
    newest = load_directories([tmp_path])
    assert {result.model_sha256 for result in newest.results} == {other_sha256}
    assert "--model mobilenetv2.onnx@0123456789ab' reports those" in newest.model_notes[0]
    older = load_directories([tmp_path], model="mobilenetv2.onnx@0123")
    assert {result.model_sha256 for result in older.results} == {SHA256}


def test_compare_reads_the_old_set_for_the_same_model(two_models, tmp_path):
    new = tmp_path / "new"
    write_results(new, onnx_results(run_id="run-new", finished_at="2025-06-05T10:00:00Z"))
    report = cli.show_report([new], compare=[two_models])
    assert report.comparison is not None
    assert {change.old_host for change in report.comparison.changes} == {"ci-amd64"}
    assert len(report.comparison.changes) == 4  # the user model's 4 results, not resnet50's
    assert report.comparison.file_warnings[0].startswith("old set: results also hold 14 results of resnet50")
    only_builtin = tmp_path / "builtin"
    write_results(only_builtin, builtin_results())
    with pytest.raises(UserError, match=r"--compare directory .* holds no results of model 'mobilenetv2"):
        cli.show_report([new], compare=[only_builtin])
