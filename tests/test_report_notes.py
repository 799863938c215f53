"""The notes under a machine table: one per kind of warning, its rows each with their own numbers,
the advice once; and the rule that leaves columns out of a narrow console."""

from __future__ import annotations

import re

import pytest

from harness import schema
from harness.bench.result_writer import thread_use_warning, throttling_warning
from harness.report import cells
from harness.report.analysis import MachineTable, Row
from harness.report.fit import fit_columns
from harness.report.warning_kinds import split_warning

NUMBER = re.compile(r"(?<![\w.\-])\d+(?:\.\d+)?")  # a whole number of its own: "0.137", not int8's 8
OLD_STDEV_ADVICE = "close other programs, pin the CPU, or raise --repeats and --warmup"


def row(variant: str, batch: int = 1, warnings: list[str] | None = None) -> Row:
    return Row(
        variant,
        "litert",
        "int8",
        "ai-edge-litert 2.3.0",
        batch,
        2,
        "ok",
        "r",
        "tflite-fp32",
        warnings=warnings or [],
    )


def table(rows: list[Row]) -> MachineTable:
    return MachineTable("box", "amd64", False, "AVX2, no VNNI", ["avx2"], "CPU", rows)


# The same kind of warning on two rows, as today's producers write it, with different numbers.
PRODUCED = {
    "few repeats": [schema.stability_warnings([0.01] * n)[0] for n in (3, 7)],
    "processes disagree": [
        schema.stability_warnings([0.010] * 20 + [f] * 20, [0] * 20 + [1] * 20, variant)[0]
        for f, variant in ((0.017, "tflite-int8"), (0.025, "ort-int8"))
    ],
    "short repeats": [schema.stability_warnings([s] * 20)[0] for s in (0.0001, 0.0004)],
    "throttled": [
        throttling_warning({"periods": n * 10, "throttled_periods": n, "throttled_s": n / 10})[0]
        for n in (3, 40)
    ],
    "one thread used": [
        thread_use_warning(v, 4, cpu, 10.0)[0] for v, cpu in (("tflite-int8", 10.5), ("ort-int8", 11.0))
    ],
    # host/run/verify.py's sentence for an emulated int8 output whose native reference is inexact
    "native strays": [
        f"emulated outputs NOT verified: they differ from native by {by}, but it is the native output "
        "that strays: the native CPU is x86 without VNNI, where onnxruntime 1.31.1's int8 kernels are "
        f"not exact (native {native}, emulated 0.0241 from ort-fp32); there is no exact reference here."
        for by, native in (("0.137", "0.114"), ("0.0745", "0.112"))
    ],
}


@pytest.mark.parametrize("kind", list(PRODUCED))
def test_two_rows_of_one_kind_share_its_title_and_advice_and_keep_their_own_numbers(kind):
    (first, second), variants = PRODUCED[kind], ("tflite-int8", "ort-int8")
    one, two = split_warning(first, variants[0]), split_warning(second, variants[1])
    assert one.kind == two.kind and one.detail != two.detail
    for split, text, other in ((one, first, second), (two, second, first)):
        own = set(NUMBER.findall(text)) - set(NUMBER.findall(other))  # the numbers only this row has
        assert own and all(number in split.detail for number in own), (own, split)
        assert not any(number in split.title + split.advice for number in own)


def test_old_plain_warning_strings_on_ten_rows_give_one_note_with_the_advice_once():
    # results written before the stdev rule was dropped: no raw timings to judge again, so
    # their warnings are shown as written; ten rows, each with its own percentage
    warnings = [
        f"unstable: stdev is {11 + n}% of the mean (over 10%); {OLD_STDEV_ADVICE}." for n in range(10)
    ]
    rows = [row(f"v{n}", batch=1 + n % 2, warnings=[warning]) for n, warning in enumerate(warnings)]
    notes = [
        note for note in cells.machine_notes(table([*rows, row("tflite-fp32")])) if note.kind == "warning"
    ]
    assert len(notes) == 1
    [note] = notes
    assert note.text.count(OLD_STDEV_ADVICE) == 1 and note.text.endswith(f" — {OLD_STDEV_ADVICE}")
    assert note.text.startswith(
        "WARNING: unstable: batch 1, 2 thr: v0 (stdev is 11% of the mean (over 10%)), v2"
    )
    assert all(f"v{n} (stdev is {11 + n}% of the mean" in note.text for n in range(10))


def test_rows_with_the_same_numbers_are_named_together_and_all_rows_once():
    repeats = schema.stability_warnings([0.01])[0]
    rows = [row(v, warnings=[repeats]) for v in ("tflite-fp32", "tflite-int8", "ort-int8")]
    [note] = cells.machine_notes(table(rows))
    said = "WARNING: the percentiles are rough: all rows (only 1 repeats (fewer than 10))"
    assert note.text == f"{said} — rerun with more --repeats"
    rows.append(row("ort-fp32"))
    [note] = cells.machine_notes(table(rows))
    assert "batch 1, 2 thr: tflite-fp32, tflite-int8, ort-int8 (only 1 repeats" in note.text


def test_a_warning_of_no_known_shape_is_shown_whole():
    [note] = cells.machine_notes(table([row("tflite-int8", warnings=["something odd"]), row("tflite-fp32")]))
    assert note.text == "WARNING: something odd: batch 1, 2 thr: tflite-int8"


def test_columns_are_left_out_in_order_until_the_measured_width_fits():
    widths = {"variant": 16, "size": 7, "peak mem": 8, "speed-up": 18, "runtime": 8}
    headers = list(widths)
    measure = lambda shown: sum(widths[headers[i]] for i in shown) + len(shown) - 1  # noqa: E731
    assert measure(tuple(range(5))) == 61
    fitted = fit_columns(headers, ("size", "peak mem", "runtime"), 50, measure)
    assert fitted.dropped == ("size", "peak mem") and fitted.full_width == 61  # 53, then 44
    assert [headers[i] for i in fitted.shown] == ["variant", "speed-up", "runtime"]
    assert fit_columns(headers, ("size",), 61, measure).dropped == ()
    # past the order, the columns it does not name stay: the console squeezes them instead
    assert fit_columns(headers, ("size",), 10, measure).dropped == ("size",)
    # columns that go together leave together
    assert fit_columns(headers, (("size", "peak mem"),), 60, measure).dropped == ("size", "peak mem")
