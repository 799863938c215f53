"""Finding, validating and merging result files from several directories."""

import json

import pytest

from harness.errors import UserError
from harness.report.load import REPORT_KIND, load_directories
from harness.schema import STATUS_FAILED
from tests.report_fixtures import machine_results, make_result, write_results


def test_two_directories_merge_into_one_set(tmp_path):
    write_results(tmp_path / "amd64", machine_results())
    write_results(tmp_path / "arm64", machine_results(arch="arm64", host="ci-arm64"))
    loaded = load_directories([tmp_path / "amd64", tmp_path / "arm64"])
    assert len(loaded.results) == 14
    assert {(r.host, r.arch) for r in loaded.results} == {("ci-amd64", "amd64"), ("ci-arm64", "arm64")}
    assert loaded.file_warnings == []


def test_nested_and_repeated_directories_count_each_file_once(tmp_path):
    write_results(tmp_path / "ci" / "amd64", machine_results())
    same_folder_spelled_differently = tmp_path / "ci" / ".." / "ci"
    loaded = load_directories([tmp_path, same_folder_spelled_differently, tmp_path / "ci" / "amd64"])
    assert len(loaded.results) == 7
    assert loaded.superseded == 0


def test_newest_complete_run_wins(tmp_path):
    old = make_result("tflite-int8", run_id="run-1", finished_at="2025-06-01T10:00:00Z", median_s=0.5)
    new = make_result("tflite-int8", run_id="run-2", finished_at="2025-06-02T10:00:00Z", median_s=0.3)
    newest_failed = make_result(
        "tflite-fp32", run_id="run-3", finished_at="2025-06-03T10:00:00Z", status=STATUS_FAILED
    )
    older_ok = make_result("tflite-fp32", run_id="run-1", finished_at="2025-06-01T10:00:00Z")
    write_results(tmp_path / "a", [old, older_ok])
    write_results(tmp_path / "b", [new, newest_failed])
    loaded = load_directories([tmp_path])
    kept = {r.variant: r.run_id for r in loaded.results}
    assert kept == {"tflite-int8": "run-2", "tflite-fp32": "run-1"}
    assert loaded.superseded == 2


def test_bad_files_become_warnings_naming_them(tmp_path):
    write_results(tmp_path, machine_results())
    (tmp_path / "corrupt.json").write_text("{not json")
    future = json.loads(make_result("tflite-int8", run_id="x").to_json())
    future["schema_version"] = 99
    (tmp_path / "future.json").write_text(json.dumps(future))
    shaped = json.loads(make_result("tflite-int8", run_id="y").to_json())
    shaped["batch"] = "eight"
    (tmp_path / "shaped.json").write_text(json.dumps(shaped))
    (tmp_path / "other.json").write_text(json.dumps({"kind": "something.else"}))
    loaded = load_directories([tmp_path])
    assert len(loaded.results) == 7
    warnings = "\n".join(loaded.file_warnings)
    assert len(loaded.file_warnings) == 4
    assert "corrupt.json: cannot read JSON" in warnings
    assert "future.json: schema_version 99" in warnings
    assert "shaped.json: batch is str" in warnings
    assert "other.json: kind is 'something.else'" in warnings


def test_the_reports_own_json_is_skipped_quietly(tmp_path):
    write_results(tmp_path, machine_results())
    (tmp_path / "report.json").write_text(json.dumps({"kind": REPORT_KIND, "tables": []}))
    loaded = load_directories([tmp_path])
    assert loaded.file_warnings == []
    assert loaded.files_read == 8


def test_missing_directory_is_a_user_error(tmp_path):
    with pytest.raises(UserError, match="does not exist"):
        load_directories([tmp_path / "nope"])


def test_empty_directory_is_a_user_error(tmp_path):
    with pytest.raises(UserError, match="holds no result files"):
        load_directories([tmp_path])


def test_directory_without_valid_results_is_a_user_error(tmp_path):
    (tmp_path / "notes.json").write_text("[1, 2]")
    with pytest.raises(UserError, match=r"no valid quantbench result .*notes\.json"):
        load_directories([tmp_path])


def test_a_file_instead_of_a_directory_is_a_user_error(tmp_path):
    path = tmp_path / "one.json"
    path.write_text("{}")
    with pytest.raises(UserError, match="is not a directory"):
        load_directories([path])
