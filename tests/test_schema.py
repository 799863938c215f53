"""The shared result schema: statistics, stability warnings, atomic never-overwrite writes."""

from __future__ import annotations

import json

import pytest

from harness import schema


def make_result(**overrides) -> schema.Result:
    base = dict(variant="tflite-int8", runtime="ai-edge-litert 2.3.0", batch=1, threads=2, run_id="r1")
    return schema.Result(**{**base, **overrides})


def test_percentiles_match_linear_interpolation():
    values = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0, 10.0]
    assert schema.percentile(values, 50) == pytest.approx(5.5)
    assert schema.percentile(values, 90) == pytest.approx(9.1)
    assert schema.percentile(values, 99) == pytest.approx(9.91)
    summary = schema.summarize_timings([0.3, 0.1, 0.2], batch=64)
    assert summary["p50_s"] == pytest.approx(0.2)
    assert summary["throughput_ips"] == pytest.approx(320.0)
    assert summary["stdev_s"] == pytest.approx(0.1)


def test_stability_warnings_say_what_to_do():
    steady = [0.010] * 20
    assert schema.stability_warnings(steady) == []
    # a long tail alone is not instability; two processes 1.7x apart are, named
    tail = [0.010] * 19 + [0.040]
    assert schema.stability_warnings(tail * 2, [0] * 20 + [1] * 20) == []
    moved = schema.stability_warnings([0.010] * 20 + [0.017] * 20, [0] * 20 + [1] * 20, "tflite-int8")
    assert any(
        w.startswith("tflite-int8's processes disagree: process 1 at 10 ms") and "process 2 at 17 ms" in w
        for w in moved
    )
    assert any("only 3 repeats" in w for w in schema.stability_warnings([0.01] * 3))
    assert any("larger --batch" in w for w in schema.stability_warnings([0.0001] * 20))


def test_write_is_atomic_and_never_overwrites(tmp_path):
    result = make_result(timings_s=[0.1, 0.2])
    path = schema.write_result(result, tmp_path)
    assert schema.load_result(path) == result
    with pytest.raises(FileExistsError):
        schema.write_result(make_result(timings_s=[9.9]), tmp_path)
    assert schema.load_result(path).timings_s == [0.1, 0.2]
    assert [p.name for p in tmp_path.iterdir()] == [path.name]  # no temp file left


def test_invalid_files_say_why(tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    with pytest.raises(schema.SchemaError, match="cannot read JSON"):
        schema.load_result(bad)
    raw = json.loads(make_result().to_json())
    bad.write_text(json.dumps({**raw, "schema_version": 99}))
    with pytest.raises(schema.SchemaError, match="schema_version 99"):
        schema.load_result(bad)
    bad.write_text(json.dumps({**raw, "timings_s": [0.1, "x"]}))
    with pytest.raises(schema.SchemaError, match="finite"):
        schema.load_result(bad)


def test_file_name_separates_runs_hosts_and_arches():
    names = {
        make_result().file_name(),
        make_result(run_id="r2").file_name(),
        make_result(host="box").file_name(),
        make_result(arch="arm64").file_name(),
        make_result(batch=64).file_name(),
    }
    assert len(names) == 5


def test_setting_a_result_aside_twice_keeps_both_and_no_reader_sees_them(tmp_path):
    path = tmp_path / "r.json"
    asides = []
    for content in ("first", "second"):
        path.write_text(content)
        asides.append(schema.set_aside(path))
    assert sorted(a.read_text() for a in asides) == ["first", "second"]  # nothing overwritten
    assert not path.exists() and list(schema.find_result_files(tmp_path)) == []
