"""LiteRT stage profile: prefix models cut from the .tflite file, timed one by one.

The tiny model's stages take microseconds, so these tests check the cut, the stage plan and
the arithmetic, never which stage is slower.
"""

from __future__ import annotations

import numpy as np
import pytest

from harness.bench import manifest as mf
from harness.bench.eval_set import batch_images, load_eval_set
from harness.bench.runtimes import load_runner
from harness.bench.runtimes.litert.profile import (
    Stage,
    cut_after,
    plan_stages,
    read_graph,
    stage_differences,
    stage_in_name,
    stage_row,
)
from harness.op_profile import (
    METHOD_STAGES,
    PRECISION_CONVERT,
    PRECISION_FP32,
    PRECISION_INT8,
    PRECISION_INT16,
    PRECISION_MIXED,
)

STAGES = ["stem", "conv2", "conv3", "conv4", "conv5", "head"]


def runner_and_images(artifacts, variant: str, count: int = 8):
    manifest = mf.read_manifest(artifacts)
    entry = manifest.entry(variant)
    eval_images, _ = load_eval_set(artifacts / manifest.eval_file, count)
    return load_runner(entry.runtime, mf.verify_artifact(artifacts, entry), 1), batch_images(
        eval_images, count
    )


def artifact_bytes(artifacts, variant: str) -> bytes:
    manifest = mf.read_manifest(artifacts)
    return mf.verify_artifact(artifacts, manifest.entry(variant)).read_bytes()


@pytest.fixture(scope="module")
def profiles(tiny_artifacts):
    """Each variant's profile at batch 2, and its runner's predictions before and after."""
    found = {}
    for variant in ("tflite-fp32", "tflite-int8"):
        runner, images = runner_and_images(tiny_artifacts, variant)
        before = runner.predict(images)
        profile = runner.op_profile(2, images[:2])
        found[variant] = (profile, before, runner.predict(images), runner, images)
    return found


@pytest.mark.parametrize("variant", ["tflite-fp32", "tflite-int8"])
def test_stages_in_order(profiles, variant):
    profile = profiles[variant][0]
    assert profile.method == METHOD_STAGES
    assert profile.missing == ""
    assert [row.name for row in profile.rows] == STAGES
    assert profile.batch == 2 and profile.calls >= 3
    assert all(row.count > 0 and row.ms >= 0 for row in profile.rows)
    assert "prefix models cut at stage ends" in profile.tool


@pytest.mark.parametrize("variant", ["tflite-fp32", "tflite-int8"])
def test_stage_times_sum_to_the_full_model(profiles, variant):
    profile = profiles[variant][0]
    assert profile.wall_ms > 0
    # Each row is rounded to 4 decimals: six roundings at most.
    assert profile.accounted_ms == pytest.approx(profile.wall_ms, abs=6 * 5e-5)


def test_int8_stages_are_int8_and_fp32_stages_fp32(profiles):
    int8_rows = profiles["tflite-int8"][0].rows
    assert [row.precision for row in int8_rows] == [PRECISION_INT8] * len(STAGES)
    # The float input and output: a QUANTIZE in the stem, a DEQUANTIZE in the head.
    assert "1 QUANTIZE" in int8_rows[0].kernel and "1 DEQUANTIZE" in int8_rows[-1].kernel
    assert [row.precision for row in profiles["tflite-fp32"][0].rows] == [PRECISION_FP32] * len(STAGES)


@pytest.mark.parametrize("variant", ["tflite-fp32", "tflite-int8"])
def test_runner_is_untouched_by_the_profile(profiles, variant):
    _, before, after, runner, images = profiles[variant]
    np.testing.assert_array_equal(before, after)
    runner.prepare(1, images[:1])  # and still times
    runner.call()


def test_a_cut_prefix_computes_the_full_models_intermediate(tiny_artifacts):
    """Each stage's prefix, run with the builtin kernels, gives exactly the tensor the full
    model holds at that op: the cut keeps the right ops and nothing else changed."""
    from ai_edge_litert.interpreter import Interpreter, OpResolverType

    content = artifact_bytes(tiny_artifacts, "tflite-fp32")
    manifest = mf.read_manifest(tiny_artifacts)
    images = batch_images(load_eval_set(tiny_artifacts / manifest.eval_file, 2)[0], 2)
    builtin = OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES
    reference = Interpreter(
        model_content=content, experimental_op_resolver_type=builtin, experimental_preserve_all_tensors=True
    )
    reference.resize_tensor_input(reference.get_input_details()[0]["index"], [2, 32, 32, 3])
    reference.allocate_tensors()
    reference.set_tensor(reference.get_input_details()[0]["index"], images)
    reference.invoke()
    ops, names, _, inputs = read_graph(content)
    stages = plan_stages(ops, names, inputs)
    assert not isinstance(stages, str), stages
    for stage in stages[:-1]:
        prefix = Interpreter(
            model_content=cut_after(content, stage.end_op), experimental_op_resolver_type=builtin
        )
        assert len(prefix._get_ops_details()) == stage.end_op + 1
        prefix.resize_tensor_input(prefix.get_input_details()[0]["index"], [2, 32, 32, 3])
        prefix.allocate_tensors()
        prefix.set_tensor(prefix.get_input_details()[0]["index"], images)
        prefix.invoke()
        output = prefix.get_output_details()[0]
        expected_index = int(ops[stage.end_op]["outputs"][0])
        assert output["index"] == expected_index, stage.name
        np.testing.assert_array_equal(
            prefix.get_tensor(output["index"]), reference.get_tensor(expected_index)
        )


def test_stage_in_name_reads_fused_and_qat_names():
    assert stage_in_name("resnet_v2_tiny/conv1_pad/Pad") == 1
    assert stage_in_name("resnet_v2_tiny/quant_pool1_pool/MaxPool") == 1
    assert stage_in_name("m/conv3_block2_1_relu/Relu;m/conv3_block2_1_bn/FusedBatchNormV3") == 3
    assert stage_in_name("m/conv2_block3_out/add;m/conv3_block1_preact_bn/x") == 3  # the later stage
    assert stage_in_name("m/post_relu/Relu") == 1000 and stage_in_name("m/predictions/BiasAdd") == 1000
    assert stage_in_name("StatefulPartitionedCall:0") is None and stage_in_name("tfl.quantize") is None


def _op(index: int, op_name: str, inputs: list[int], output: int) -> dict:
    return {"index": index, "op_name": op_name, "inputs": inputs, "outputs": [output]}


def test_plan_inherits_unnamed_ops_and_refuses_lost_names():
    # input 0; weights 90+ are constants; a DEQUANTIZE of a weight sits at the top (fp16).
    ops = [
        _op(0, "DEQUANTIZE", [95], 96),
        _op(1, "QUANTIZE", [0], 1),
        _op(2, "CONV_2D", [1, 90], 2),
        _op(3, "CONV_2D", [2, 96], 3),
        _op(4, "ADD", [3, 2], 4),
        _op(5, "MEAN", [4, 91], 5),
        _op(6, "SOFTMAX", [5], 6),
    ]
    names = {1: "tfl.quantize", 2: "m/conv1_conv/Conv2D", 3: "m/conv2_block1_1_conv/Conv2D"}
    names |= {4: "m/conv2_block1_out/add", 5: "m/avg_pool/Mean", 6: "Identity", 96: "m/conv2_block1_1_conv/w"}
    stages = plan_stages(ops, names, {0})
    assert [(s.name, s.end_op, s.ops) for s in stages] == [
        ("stem", 2, (1, 2)),
        ("conv2", 4, (0, 3, 4)),  # the weight's DEQUANTIZE counts where it is used
        ("head", None, (5, 6)),
    ]
    # names that say nothing of stages (a user's model): runs of equal op counts, named by index
    parts = plan_stages(ops, {}, {0})
    assert [(s.name, s.end_op, s.ops) for s in parts] == [
        ("ops 1-2", 2, (1, 2)),
        ("ops 3-3", 3, (0, 3)),
        ("ops 4-5", 5, (4, 5)),
        ("ops 6-6", None, (6,)),
    ]
    shuffled = names | {4: "m/conv1_conv/x"}
    assert "does not follow the stages" in plan_stages(ops, shuffled, {0})


def test_stage_differences_never_negative_and_sum_to_the_full_model():
    assert stage_differences([1.0, 3.0, 6.0]) == [1.0, 2.0, 3.0]
    # The second prefix timed slower than the third: noise, lowered to the third's time.
    assert stage_differences([1.0, 4.0, 3.5, 6.0]) == [1.0, 2.5, 0.0, 2.5]
    assert sum(stage_differences([2.0, 1.0, 5.0])) == 5.0


def test_a_16x8_stage_is_int16_not_fp32_and_a_stage_of_two_kinds_is_mixed():
    """16x8 files compute in int16 activations: the stage says int16 (outside the int8
    kernels), not fp32; a stage holding int8 and float compute ops is mixed; converts and
    shape ops do not decide a stage's precision."""
    dtypes = {0: np.int16, 1: np.int8, 2: np.float32, 3: np.int32, 4: np.int16}
    ops = [
        {"op_name": "CONV_2D", "outputs": [0]},
        {"op_name": "CONV_2D", "outputs": [1]},
        {"op_name": "ADD", "outputs": [2]},
        {"op_name": "SHAPE", "outputs": [3]},
        {"op_name": "QUANTIZE", "outputs": [4]},
    ]

    def precision(*indices: int) -> str:
        return stage_row(Stage("conv2", None, indices), 1.0, ops, dtypes, "XNNPACK").precision

    assert precision(0, 3, 4) == PRECISION_INT16
    assert precision(1, 3, 4) == PRECISION_INT8
    assert precision(2, 3) == PRECISION_FP32
    assert precision(1, 2) == PRECISION_MIXED
    assert precision(3, 4) == PRECISION_CONVERT
