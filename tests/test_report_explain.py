"""quantbench explain and the report's "where the time goes" and thread scaling, on hand-made results."""

from __future__ import annotations

import pytest

from harness.errors import UserError
from harness.op_profile import OpProfile, OpRow, coverage_gap
from harness.report.explain import explain, report_lines
from harness.report.isa import int8_mac_limit
from harness.report.threads import build_scaling
from tests.helpers import run_cli
from tests.report_fixtures import make_result, write_results

AVX2 = ["avx2", "fma"]
VNNI = ["avx2", "fma", "avx512f", "avx512_vnni"]


def profile(batch: int, wall_ms: float, rows: list[OpRow], method: str = "per-op") -> dict:
    accounted = sum(row.ms for row in rows)
    return OpProfile(
        method, "test profiler", batch, 5, wall_ms, tuple(rows), "", coverage_gap(wall_ms, accounted)
    ).to_dict()


QDQ_ROWS = [
    OpRow("QLinearConv", "int8", 6.0, 40, "CPUExecutionProvider"),
    OpRow("Conv", "fp32", 2.5, 13, "CPUExecutionProvider"),
    OpRow("DequantizeLinear", "convert", 1.0, 14, "CPUExecutionProvider"),
    OpRow("QuantizeLinear", "convert", 0.5, 14, "CPUExecutionProvider"),
]
FLOAT_ROWS = [
    OpRow("Conv", "fp32", 19.0, 53, "CPUExecutionProvider"),
    OpRow("Add", "fp32", 1.0, 16, "CPUExecutionProvider"),
]


def ort_pair(isa=AVX2, int8_s=0.010, float_s=0.020, **common):
    kwargs = dict(batch=64, threads=2, rounds=4, isa_flags=isa, **common)
    return [
        make_result("ort-int8-qdq", median_s=int8_s, op_profile=profile(64, 10.5, QDQ_ROWS), **kwargs),
        make_result("ort-fp32", median_s=float_s, op_profile=profile(64, 20.4, FLOAT_ROWS), **kwargs),
    ]


def test_qdq_float_convs_count_as_time_outside_integer_kernels():
    explanation = explain(ort_pair(), "ort-int8-qdq")
    assert explanation.baseline.variant == "ort-fp32" and explanation.batch == 64
    # 2.5 fp32 + 1.5 convert of a 10.5 ms call
    assert explanation.variant.profile.outside_integer_share() == pytest.approx(4.0 / 10.5)
    assert explanation.variant.outside_integer().startswith("38% (fp32 24%, convert 14%)")
    assert explanation.baseline.outside_integer().startswith("98%")  # the float call: all fp32
    rows = explanation.rows()
    assert rows[0][0] == "QLinearConv" and rows[0][5] == "Conv"  # side by side, by rank


def test_the_roofline_line_names_the_isa_and_where_the_ratio_lies():
    near = explain(ort_pair(AVX2, int8_s=0.010, float_s=0.020), "ort-int8-qdq").roofline()
    assert "~2x" in near and "VPMADDUBSW" in near and "near the multiply-add limit" in near
    above = explain(ort_pair(AVX2, int8_s=0.005, float_s=0.020), "ort-int8-qdq").roofline()
    assert "above the multiply-add limit" in above and "weights" in above
    below = explain(ort_pair(VNNI, int8_s=0.010, float_s=0.020), "ort-int8-qdq").roofline()
    assert "~4x" in below and "VPDPBUSD" in below and "50% of the multiply-add limit" in below


@pytest.mark.parametrize(
    ("arch", "flags", "limit"),
    [
        ("amd64", ["avx2"], 2.0),
        ("amd64", ["avx2", "avx_vnni"], 4.0),
        ("amd64", ["avx512f", "avx512_vnni", "amx_int8"], 16.0),
        ("arm64", ["asimd"], 2.0),
        ("arm64", ["asimd", "asimddp"], 4.0),
        ("arm64", ["asimd", "asimddp", "i8mm"], 8.0),
        ("amd64", [], None),
    ],
)
def test_isa_limits(arch, flags, limit):
    assert int8_mac_limit(arch, flags)[0] == limit


def test_stages_are_aligned_by_name_with_their_float_to_int8_ratio():
    stages = ["stem", "conv2", "conv3", "conv4", "conv5", "head"]
    int8 = [
        OpRow(name, "int8", ms, 3) for name, ms in zip(stages, [0.1, 0.2, 0.3, 0.4, 0.2, 0.05], strict=True)
    ]
    fp32 = [
        OpRow(name, "fp32", ms, 3) for name, ms in zip(stages, [0.2, 0.8, 0.9, 1.2, 0.6, 0.1], strict=True)
    ]
    common = dict(batch=1, threads=2, rounds=4, isa_flags=AVX2)
    results = [
        make_result(
            "tflite-int8", median_s=0.00125, op_profile=profile(1, 1.25, int8, "stage-prefix"), **common
        ),
        make_result(
            "tflite-fp32", median_s=0.0038, op_profile=profile(1, 3.8, fp32, "stage-prefix"), **common
        ),
    ]
    explanation = explain(results, "tflite-int8")
    rows = explanation.rows()
    assert [row[0] for row in rows] == stages
    assert rows[1][-1] == "4.00x"  # conv2: 0.8 / 0.2
    # a stage holds its quantize ops with its int8 kernels: no share is invented for them
    assert explanation.variant.outside_integer().startswith("n/a per stage")
    assert "largest: tflite-int8 conv4 (int8) 32%, tflite-fp32 conv4 (fp32) 32%" in explanation.summary()


def test_explain_says_what_to_do_when_it_cannot():
    with pytest.raises(UserError, match="no native, ok result of openvino-int8"):
        explain(ort_pair(), "openvino-int8")
    with pytest.raises(UserError, match="unknown variant"):
        explain(ort_pair(), "ort-int9")
    with pytest.raises(UserError, match="it has: batch 64 with 2 threads"):
        explain(ort_pair(), "ort-int8-qdq", batch=1)
    emulated = [make_result("ort-int8-qdq", emulated=True), make_result("ort-fp32", emulated=True)]
    with pytest.raises(UserError, match="emulated results have no profile"):
        explain(emulated, "ort-int8-qdq")


def test_a_failed_profile_is_said_not_hidden():
    results = ort_pair()
    results[0].op_profile = {"error": "RuntimeError: no profiler"}
    explanation = explain(results, "ort-int8-qdq")
    assert explanation.variant.profile is None
    assert "the profiled pass failed: RuntimeError: no profiler" in explanation.summary()


def test_report_lines_one_per_profiled_full_integer_variant():
    lines = report_lines(ort_pair())
    assert len(lines) == 1 and lines[0].startswith("ci-amd64 amd64: ort-int8-qdq vs ort-fp32, batch 64")
    assert "outside integer kernels 38%" in lines[0] and "ISA limit ~2x" in lines[0]


def test_scaling_rows_only_with_several_thread_counts():
    one = [
        make_result("tflite-int8", threads=1, median_s=0.004),
        make_result("tflite-int8", threads=2, median_s=0.002),
    ]
    for result, (cpu, wall) in zip(one, [(1.0, 1.0), (1.9, 1.0)], strict=True):
        result.timed_cpu_s, result.timed_wall_s = cpu, wall
    rows = build_scaling(one)
    assert len(rows) == 1 and [p.threads for p in rows[0].points] == [1, 2]
    assert rows[0].speedup(rows[0].points[1]) == pytest.approx(2.0, rel=0.05)
    assert rows[0].points[1].parallelism == pytest.approx(1.9)
    assert build_scaling(one[:1]) == []


def test_the_explain_command_prints_both_sides_and_the_isa_line(tmp_path):
    write_results(tmp_path, ort_pair())
    proc = run_cli("explain", str(tmp_path), "--variant", "ort-int8-qdq", env={"COLUMNS": "160"})
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    assert "ort-int8-qdq vs ort-fp32" in out and "QLinearConv" in out and "DequantizeLinear" in out
    assert "outside integer kernels: ort-int8-qdq 38%" in out and "multiply-add limit" in out
    proc = run_cli("explain", str(tmp_path), "--variant", "openvino-int8")
    assert proc.returncode != 0 and "Traceback" not in proc.stderr and "no native, ok result" in proc.stderr
