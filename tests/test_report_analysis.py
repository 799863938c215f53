"""Rows, speed-ups, verdicts, the accuracy gate, kernel-path flags and the 2018 row."""

import re

import pytest

from harness.report.analysis import GATE_FAIL, GATE_PASS, GATE_UNKNOWN, build_tables, kernel_flags, speedup
from harness.report.headline import build_headlines
from harness.report.isa import isa_label
from harness.report.stats import FASTER, NO_DIFFERENCE, SLOWER
from harness.report.verdicts import (
    NO_SPEED_VERDICT,
    NO_VERDICT,
    UNSTABLE,
    build_reproductions,
    build_verdicts,
)
from harness.schema import STATUS_FAILED
from tests.report_fixtures import machine_results, make_result


def verdicts_of(results):
    return build_verdicts(build_tables(results))


def test_faster_int8_verdict_names_machine_ratio_and_accuracy():
    [verdict] = verdicts_of(machine_results())
    assert verdict.outcome == FASTER
    assert verdict.speedup.ratio == pytest.approx(1 / 0.79, rel=0.03)
    assert verdict.speedup.low > 1.0
    assert verdict.text.startswith("amd64 (AVX2, no VNNI, native) on ci-amd64: full-integer int8 is 1.")
    assert "faster than float32 LiteRT at batch 8, 4 threads" in verdict.text
    assert "accuracy −0.2 pt top-1 (99% gate: pass)" in verdict.text


def test_interval_straddling_one_says_no_measurable_difference():
    results = machine_results(time_factor={"tflite-int8": 1.0}, spread=0.06)
    [verdict] = verdicts_of(results)
    assert verdict.speedup.low < 1.0 < verdict.speedup.high
    assert verdict.outcome == NO_DIFFERENCE
    assert "no measurable difference" in verdict.text
    assert "faster" not in verdict.text and "slower" not in verdict.text


def test_slower_int8_verdict_gives_the_likely_cause():
    results = machine_results(time_factor={"tflite-int8": 1.5})
    int8 = next(r for r in results if r.variant == "tflite-int8")
    int8.kernel_path = {**int8.kernel_path, "float_ops": ["DEQUANTIZE", "MEAN", "MEAN"]}
    [verdict] = verdicts_of(results)
    assert verdict.outcome == SLOWER
    assert 1 / verdict.speedup.ratio == pytest.approx(1.5, rel=0.03)
    claim = r"full-integer int8 is 1\.\d\d× \[1\.\d\d–1\.\d\d\] slower than float32 LiteRT"
    assert re.search(claim, verdict.text)
    assert "likely cause: still computes 3 op(s) in float: DEQUANTIZE, MEAN" in verdict.text
    assert "this CPU has no VNNI/AMX for int8 math" in verdict.text


def test_emulated_rows_never_enter_a_speed_verdict():
    native = machine_results()
    emulated = machine_results(
        arch="arm64", emulated=True, float_median_s=6.0, time_factor={"tflite-int8": 0.4}
    )
    verdicts = verdicts_of(native + emulated)
    by_arch = {v.arch: v for v in verdicts}
    assert by_arch["arm64"].outcome == NO_SPEED_VERDICT
    assert by_arch["arm64"].speedup is None
    assert "faster" not in by_arch["arm64"].text and "slower" not in by_arch["arm64"].text
    assert "emulated timings measure QEMU" in by_arch["arm64"].text
    assert all(v.speedup is None for v in verdicts if v.emulated)
    # Adding emulated results leaves the native verdict untouched.
    assert by_arch["amd64"].speedup == verdicts_of(native)[0].speedup


def test_emulated_baseline_is_never_compared_with_native_int8():
    native_int8 = machine_results(arch="arm64", host="box", variants=["tflite-int8"])
    emulated_all = machine_results(arch="arm64", host="box", emulated=True)
    tables = build_tables(native_int8 + emulated_all)
    native = next(t for t in tables if not t.emulated)
    assert native.rows[0].speedup is None
    [verdict] = [v for v in build_verdicts(tables) if not v.emulated]
    assert verdict.outcome == NO_VERDICT
    assert "no float32 LiteRT baseline" in verdict.text


def test_failed_results_are_listed_but_never_in_a_verdict():
    results = machine_results()
    int8 = next(r for r in results if r.variant == "tflite-int8")
    int8.status, int8.error = STATUS_FAILED, "interpreter crashed: SIGILL"
    tables = build_tables(results)
    row = tables[0].find("tflite-int8", 8, 4)
    assert row is not None and row.speedup is None
    assert row.top1_delta_pt is None and row.accuracy_gate == ""
    [verdict] = build_verdicts(tables)
    assert verdict.outcome == NO_VERDICT and verdict.speedup is None
    assert "tflite-int8 is failed: interpreter crashed: SIGILL" in verdict.text


def test_qat_int8_is_used_when_full_integer_int8_is_missing():
    results = machine_results(variants=["tflite-fp32", "tflite-int8-qat"])
    [verdict] = verdicts_of(results)
    assert verdict.variant == "tflite-int8-qat"
    assert "QAT int8 is" in verdict.text


@pytest.mark.parametrize(("delta", "gate"), [(-0.005, GATE_PASS), (-0.010, GATE_FAIL)])
def test_accuracy_gate_is_99_percent_of_float_top1(delta, gate):
    # float top-1 is 0.761, so the gate is 0.7534: 0.756 passes, 0.751 fails.
    tables = build_tables(machine_results(top1_delta={"tflite-int8": delta}))
    row = tables[0].find("tflite-int8", 8, 4)
    assert row.accuracy_gate == gate
    assert row.top1_delta_pt == pytest.approx(100 * delta)
    assert tables[0].find("tflite-fp32", 8, 4).accuracy_gate == ""  # no gate on the baseline


def test_without_labels_the_gate_is_unknown_and_agreement_is_reported():
    [verdict] = verdicts_of(machine_results(labelled=False))
    assert verdict.accuracy_gate == GATE_UNKNOWN
    assert "accuracy not measured (no labels); agrees with float on 98.5%" in verdict.text


def test_reproduction_row_states_what_fake_quant_is():
    [item] = build_reproductions(build_tables(machine_results()))
    assert item.fakequant_speedup.ratio == pytest.approx(1.1 / 1.8, rel=0.03)
    assert item.fakequant_speedup.high < 1.0
    assert item.int8_speedup.low > 1.0
    assert "float kernels plus quantize ops, no int8 arithmetic" in item.text


def test_emulated_machines_get_no_reproduction_row():
    native = machine_results(arch="amd64", host="a")
    emulated = machine_results(arch="arm64", host="a", emulated=True, time_factor={"tflite-int8": 0.1})
    items = build_reproductions(build_tables([*native, *emulated]))
    assert [(item.machine, item.emulated) for item in items] == [(items[0].machine, False)]
    assert items[0].machine.startswith("amd64")


def test_summaries_are_recomputed_from_raw_timings():
    result = make_result("tflite-fp32", median_s=0.4, p50_s=99.0, p90_s=99.0, throughput_ips=1.0)
    row = build_tables([result])[0].rows[0]
    assert row.p50_s == pytest.approx(0.4, rel=0.05)
    assert row.throughput_ips == pytest.approx(8 / row.p50_s)


def test_kernel_flags_name_what_leaves_the_fast_path():
    result = make_result(
        "tflite-int8",
        kernel_path={
            "delegate": "xnnpack",
            "xnnpack_partitions": 3,
            "ops_total": 80,
            "float_ops": ["HARD_SWISH"],
            "outside_delegate_ops": ["CUSTOM_A", "CUSTOM_B"],
        },
    )
    flags = kernel_flags(result)
    assert flags == [
        "still computes 1 op(s) in float: HARD_SWISH",
        "2 op(s) outside the xnnpack delegate: CUSTOM_A, CUSTOM_B",
        "graph split into 3 delegate partitions (data moves between kernels)",
    ]
    no_delegate = make_result("tflite-int8", kernel_path={"delegate": "none", "float_ops": []})
    assert kernel_flags(no_delegate) == ["no delegate: runs on the built-in reference kernels"]
    assert kernel_flags(make_result("tflite-fp32", kernel_path={"delegate": "none"})) == []


@pytest.mark.parametrize(
    ("arch", "flags", "label"),
    [
        ("amd64", ["avx2", "fma"], "AVX2, no VNNI"),
        ("amd64", ["avx2", "fma", "avx512f", "avx512_vnni", "amx_int8"], "AVX-512, AVX512-VNNI, AMX-INT8"),
        ("amd64", ["avx2", "fma", "avx_vnni"], "AVX2, AVX-VNNI"),
        ("amd64", ["sse4_2"], "no AVX2, no FMA, no VNNI"),
        ("arm64", ["asimd", "asimddp", "i8mm", "sve", "bf16"], "NEON, dotprod, i8mm, SVE, BF16"),
        ("arm64", ["asimd"], "NEON, no dotprod, no i8mm"),
        ("arm64", ["asimd", "asimddp", "sve", "sve2"], "NEON, dotprod, no i8mm, SVE2"),
        ("arm64", [], "ISA unknown"),
    ],
)
def test_isa_label(arch, flags, label):
    assert isa_label(arch, flags) == label


def test_a_verdict_on_processes_that_disagree_says_so_instead_of_faster():
    # one tflite-fp32 process ran 1.7x slower than the other for its whole life: the centre moved
    results = machine_results(rounds=2)
    base = next(r for r in results if r.variant == "tflite-fp32")
    base.timings_s = [
        t * (1.7 if p == 1 else 1.0) for t, p in zip(base.timings_s, base.timing_process, strict=True)
    ]
    [verdict] = verdicts_of(results)
    assert verdict.outcome == UNSTABLE
    assert "faster" not in verdict.text and "slower" not in verdict.text
    assert "unstable at batch 8, 4 threads, no speed claim" in verdict.text
    assert "unstable: the rounds disagree (0 of 2 within 1.25x" in verdict.text
    assert "tflite-fp32's processes moved while it was timed" in verdict.text


def test_a_long_tail_with_agreeing_process_medians_gets_a_verdict():
    # sub-millisecond calls: p99 ~3x p50 in every process (interrupts), medians agree
    results = machine_results(rounds=6, repeats=600, float_median_s=0.0006)
    for result in results:
        result.timings_s = [t * (3.0 if i % 50 == 0 else 1.0) for i, t in enumerate(result.timings_s)]
    [verdict] = verdicts_of(results)
    [row] = [row for row in build_tables(results)[0].rows if row.variant == "tflite-int8"]
    assert row.jitter > 2.0
    assert verdict.outcome == FASTER, verdict.text
    assert verdict.speedup.rounds == 6


def test_old_stdev_warnings_are_judged_again_from_the_raw_timings():
    results = machine_results(rounds=4)
    base = next(r for r in results if r.variant == "tflite-fp32")
    base.warnings = ["unstable: stdev is 31% of the mean (over 10%); close other programs, pin the CPU, ..."]
    [verdict] = verdicts_of(results)
    assert verdict.outcome == FASTER and "stdev" not in verdict.text


def test_with_fewer_than_five_timings_the_2018_row_still_shows_the_point_ratio():
    results = machine_results(repeats=3, batch=10_000)
    [item] = build_reproductions(build_tables(results))
    assert item.fakequant_speedup.ratio == pytest.approx(1.1 / 1.8, rel=0.1)
    assert not item.fakequant_speedup.has_interval
    assert "(no interval, n=3) of the TF float graph" in item.text
    [verdict] = verdicts_of(results)
    assert verdict.outcome == NO_VERDICT and "too few timings for a confidence interval (" in verdict.text


def test_rows_timed_in_the_same_rounds_are_compared_paired():
    results = machine_results(repeats=20)
    for result in results:
        result.timing_process = [i // 10 for i in range(20)]
        result.timing_round = [i % 10 for i in range(20)]
    row = build_tables(results)[0].find("tflite-int8", 8, 4)
    assert row.speedup.method == "paired" and row.speedup.samples == 20
    other_run = machine_results(repeats=20, variants=["tflite-int8"], run_id="run-2")[0]
    other_run.timing_process, other_run.timing_round = results[4].timing_process, results[4].timing_round
    base = next(r for r in results if r.variant == "tflite-fp32")
    assert speedup(base, other_run).method == "unpaired"  # rounds of another run are not partners


def test_unknown_emulation_gets_no_speed_verdict_and_no_2018_row():
    results = machine_results(emulated=None)
    tables = build_tables(results + machine_results(host="b"))
    unknown = next(t for t in tables if t.emulated is None)
    assert "emulation unknown" in unknown.label
    verdict = next(v for v in build_verdicts(tables) if v.emulated is None)
    assert verdict.outcome == NO_SPEED_VERDICT and "emulation probe failed" in verdict.text
    assert [item.machine for item in build_reproductions(tables)] == [tables[0].label]


FAKEQUANT_PROFILE = {
    "tool": "tensorflow 2.21.0 profiler (framework_op_stats)",
    "batch": 1,
    "calls": 3,
    "ms_per_call": 259.8,
    "top_ops": [
        {
            "type": "FakeQuantWithMinMaxVarsPerChannel",
            "share": 0.939,
            "ms_per_call": 244.0,
            "in_graph": 56,
            "on_weights": 56,
        },
        {"type": "_MklNativeFusedConv2D", "share": 0.031, "ms_per_call": 8.0, "in_graph": 0, "on_weights": 0},
    ],
}


def test_the_2018_row_carries_the_profiled_reason_for_the_fake_quant_cost():
    results = machine_results()
    [plain] = build_reproductions(build_tables(results))
    assert plain.fakequant_cost == ""  # no profile in the result: nothing is claimed
    fakequant = next(r for r in results if r.variant == "tf-fakequant")
    fakequant.kernel_path = {"fake_quant_ops": 149, "profile": FAKEQUANT_PROFILE}
    [item] = build_reproductions(build_tables(results))
    assert item.fakequant_cost == (
        "94% of a batch-1 call's op time (244 ms) is FakeQuantWithMinMaxVarsPerChannel (56 ops, all on "
        "weights): the weights are fake-quantized again on every call, whatever the batch"
    )
    assert item.text.endswith(item.fakequant_cost)
    fakequant.kernel_path["profile"] = {
        **FAKEQUANT_PROFILE,
        "top_ops": [{**FAKEQUANT_PROFILE["top_ops"][0], "on_weights": 20}],
    }
    [partial] = build_reproductions(build_tables(results))
    assert (
        "(56 ops, 20 of 56 on weights)" in partial.fakequant_cost
        and "every call" not in partial.fakequant_cost
    )


def test_the_accuracy_line_carries_the_paired_mcnemar_tests():
    results = machine_results()
    int8 = next(r for r in results if r.variant == "tflite-int8")
    int8.paired_correctness = {"tflite-fp32": {"only_reference_right": 9, "only_variant_right": 1}}
    [verdict] = verdicts_of(results)
    assert "vs tflite-fp32: 9 worse, 1 better, McNemar p=0.021 (differs significantly)" in verdict.text


def _scaled_rounds(results, variant: str, factors: dict[int, float]) -> None:
    """Scale variant's timings of each process round by factors[round] (the others as they are)."""
    row = next(r for r in results if r.variant == variant)
    row.timings_s = [t * factors.get(p, 1.0) for t, p in zip(row.timings_s, row.timing_process, strict=True)]


def test_rounds_that_agree_on_the_side_but_not_on_the_ratio_claim_the_side_only():
    # every round finds int8 faster, by 1.27x or 2.5x in turn (its processes ran 2x apart): no centre
    results = machine_results(rounds=8)
    _scaled_rounds(results, "tflite-int8", {p: (0.5 if p % 2 else 1.0) for p in range(8)})
    [verdict] = verdicts_of(results)
    assert verdict.outcome == FASTER and verdict.side is not None, verdict.text
    assert verdict.side.agreeing == verdict.side.rounds == 8 and verdict.side.p_value < 0.05
    assert "faster than float32 LiteRT at batch 8, 4 threads in every round (round ratios" in verdict.text
    assert "the magnitude is withheld: the rounds disagree" in verdict.text
    assert verdict.side.low < 1.5 < 2.3 < verdict.side.high  # the range of round ratios


def test_rounds_that_disagree_on_the_side_still_get_no_claim():
    # int8 is 1.27x faster in half the rounds and 1.5x slower in the others (its processes moved 1.9x)
    results = machine_results(rounds=8)
    _scaled_rounds(results, "tflite-int8", {p: (1.9 if p % 2 else 1.0) for p in range(8)})
    [verdict] = verdicts_of(results)
    assert verdict.outcome == UNSTABLE and verdict.side is None, verdict.text
    assert "no speed claim" in verdict.text and "faster than" not in verdict.text


def test_six_of_seven_rounds_on_one_side_is_not_enough():
    from harness.intervals import round_side, sign_test_p

    assert round_side([2.0, 3.0, 2.5, 4.0, 1.9, 3.1, 0.9]) is None  # p = 0.125
    assert sign_test_p(7, 7) == pytest.approx(2 / 128) and round_side([2.0] * 7 + [4.0]).faster
    assert round_side([0.5, 0.3, 0.45, 0.6, 0.2, 0.4]).faster is False  # all slower: p = 0.031


def test_the_headline_names_the_int8_variants_within_the_fastest_ones_interval():
    results = machine_results(rounds=6, variants=["tflite-fp32", "tflite-int8", "tflite-int8-qat"])
    qat = next(r for r in results if r.variant == "tflite-int8-qat")
    int8 = next(r for r in results if r.variant == "tflite-int8")
    wobble = [1.03, 0.98, 1.02, 0.99, 1.04, 0.97]  # per round: 1 % apart on average, 3 % either way
    qat.timings_s = [t * wobble[p] for t, p in zip(int8.timings_s, int8.timing_process, strict=True)]
    qat.timing_process, qat.timing_round = int8.timing_process, int8.timing_round
    [headline] = build_headlines(build_tables(results), results)
    assert headline.near_ties == ["tflite-int8-qat"], headline.text
    assert "within the fastest's interval: tflite-int8-qat" in headline.text
