"""The per-image counts behind the McNemar test, as the result writer derives them."""

from __future__ import annotations

import numpy as np
import pytest

from harness.bench import manifest as mf
from harness.bench.result_writer import QAT_FLOAT_REFERENCE, EvalTruth, VariantFacts, paired_correctness


def facts_with(name: str, predictions: list[int]) -> VariantFacts:
    entry = mf.ArtifactEntry(name, "litert", f"{name}.tflite", "0" * 64, 1, 0.0)
    return VariantFacts(name, entry, predictions=np.asarray(predictions))


LABELS = np.asarray([0, 1, 2, 3, 4, 5])
FLOAT = facts_with("tflite-fp32", [0, 1, 2, 3, 9, 9])  # right on images 0-3
QAT = facts_with("tflite-int8-qat", [0, 1, 9, 9, 4, 9])  # right on 0, 1, 4
QAT_FLOAT = np.asarray([0, 1, 2, 9, 4, 5])  # right on 0, 1, 2, 4, 5


def test_counts_against_the_float_baseline_and_the_qat_float_graph():
    facts = {"tflite-fp32": FLOAT, "tflite-int8-qat": QAT}
    truth = EvalTruth(LABELS, {QAT_FLOAT_REFERENCE: QAT_FLOAT})
    counts = paired_correctness("tflite-int8-qat", "tflite-fp32", "int8-qat", QAT, facts, truth)
    assert counts == {
        "tflite-fp32": {"only_reference_right": 2, "only_variant_right": 1},  # images 2, 3 vs 4
        QAT_FLOAT_REFERENCE: {"only_reference_right": 2, "only_variant_right": 0},  # images 2, 5
    }


def test_a_post_training_variant_is_not_tested_against_the_qat_graph_and_a_baseline_not_at_all():
    ptq = facts_with("tflite-int8", [0, 1, 2, 3, 4, 9])
    facts = {"tflite-fp32": FLOAT, "tflite-int8": ptq}
    truth = EvalTruth(LABELS, {QAT_FLOAT_REFERENCE: QAT_FLOAT})
    assert list(paired_correctness("tflite-int8", "tflite-fp32", "int8", ptq, facts, truth)) == [
        "tflite-fp32"
    ]
    assert paired_correctness("tflite-fp32", "tflite-fp32", "fp32", FLOAT, facts, truth) == {}


def test_an_fp32_variant_that_does_not_compute_the_float_model_is_failed():
    from harness.bench.output_checks import FLOAT_MODEL_REFERENCE
    from harness.bench.result_writer import check_float32

    reference = np.arange(400) % 10
    faithful = facts_with("tflite-fp32", list(reference))
    faithful.runtime_name, faithful.kernel_path = "ai-edge-litert 2.3.0", {"delegate": "xnnpack"}
    truth = EvalTruth(reference, {FLOAT_MODEL_REFERENCE: reference})
    assert check_float32("tflite-fp32", "fp32", faithful, truth, 2) == (1.0, None)
    changed = reference.copy()
    changed[:3] = (changed[:3] + 1) % 10  # 3 of 400 flipped: 99.25 %, under 99.5 %
    rewritten = facts_with("tflite-fp32", list(changed))
    rewritten.runtime_name, rewritten.kernel_path = "ai-edge-litert 2.3.0", {"delegate": "xnnpack"}
    share, problem = check_float32("tflite-fp32", "fp32", rewritten, truth, 2)
    assert share == pytest.approx(0.9925)
    assert problem.startswith("tflite-fp32 (ai-edge-litert 2.3.0, delegate xnnpack, 2 threads) agrees with")
    assert check_float32("tflite-int8", "int8", rewritten, truth, 2) == (None, None)  # int8 has its own gate
