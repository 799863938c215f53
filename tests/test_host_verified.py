"""Verify once: the key of an emulated check, and its results carried into a later run."""

from __future__ import annotations

from harness import schema
from harness.host.run import verified
from harness.host.run.profiles import QUICK, measure_command
from tests.report_fixtures import make_result


def command(run_id: str, host: str, out: str = "/o") -> list[str]:
    return measure_command(
        QUICK.emulated[0], artifacts="/a", out=out, threads=2, host_label=host, run_id=run_id
    )


def test_the_key_is_the_image_the_files_and_the_pass_not_the_run():
    key = verified.check_key("arm64", "sha256:aa", "k1", command("R1", "local"))
    assert key == verified.check_key("arm64", "sha256:aa", "k1", command("R2", "other", "/x"))
    assert key != verified.check_key("arm64", "sha256:bb", "k1", command("R1", "local"))  # a new image
    assert key != verified.check_key("arm64", "sha256:aa", "k2", command("R1", "local"))  # new files
    other_pass = measure_command(
        QUICK.native[0], artifacts="/a", out="/o", threads=2, host_label="local", run_id="R1"
    )
    assert key != verified.check_key("arm64", "sha256:aa", "k1", other_pass)


def test_a_recorded_check_is_carried_into_a_later_run_only_while_its_results_are_ok(tmp_path):
    results = [
        make_result(v, arch="arm64", emulated=True, run_id="R1") for v in ("tflite-fp32", "tflite-int8")
    ]
    for result in results:
        schema.write_result(result, tmp_path)
    verified.remember(tmp_path, "key1", "sha256:aa", results)
    # the record sits beside the results; whoever reads the results never takes it for one
    assert {p.name for p in schema.find_result_files(tmp_path)} == {r.file_name() for r in results}
    record, earlier = verified.earlier(tmp_path, "key1")
    assert record["run_id"] == "R1" and {r.variant for r in earlier} == {"tflite-fp32", "tflite-int8"}
    carried = verified.carried_over(earlier[0], "R2", record)
    assert carried.run_id == "R2" and carried.file_name() != earlier[0].file_name()
    assert "outputs verified in run R1 on " in carried.warnings[-1] and "--reverify" in carried.warnings[-1]
    assert verified.earlier(tmp_path, "other") is None
    (tmp_path / results[1].file_name()).unlink()  # a result of that check is gone: check again
    assert verified.earlier(tmp_path, "key1") is None
