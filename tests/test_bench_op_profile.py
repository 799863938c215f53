"""Per-op profiles (``Runner.op_profile``) of the tiny model: ONNX Runtime, OpenVINO, TensorFlow.

Each profile comes from a pass of its own; these tests check what its rows claim
(integer kernels where the graph is integer, per-call counts, the float convolutions
ORT leaves in the QDQ graph) and that the timed runner is untouched afterwards.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from harness.bench import manifest as mf
from harness.bench.eval_set import batch_images, load_eval_set
from harness.bench.runtimes import load_runner
from harness.op_profile import (
    COVERAGE_TOLERANCE,
    PRECISION_CONVERT,
    PRECISION_FP32,
    PRECISION_INT8,
    OpProfile,
)

BATCH = 2
THREADS = 1
PROFILED_VARIANTS = (
    "ort-fp32",
    "ort-int8",
    "ort-int8-qdq",
    "openvino-fp32",
    "openvino-int8",
    "tf-fp32",
    "tf-fakequant",
)
PRECISIONS = {PRECISION_INT8, PRECISION_CONVERT, PRECISION_FP32, "bf16", "fp16"}


def _load(artifacts: Path, variant: str):
    manifest = mf.read_manifest(artifacts)
    entry = manifest.entry(variant)
    return load_runner(entry.runtime, mf.verify_artifact(artifacts, entry), THREADS)


@pytest.fixture(scope="module")
def images(tiny_artifacts) -> np.ndarray:
    eval_images, _ = load_eval_set(tiny_artifacts / mf.read_manifest(tiny_artifacts).eval_file, None)
    return batch_images(eval_images, BATCH)


@pytest.fixture(scope="module")
def profiled(tiny_artifacts, images) -> dict[str, tuple[object, OpProfile]]:
    """Each variant's runner (prepared at BATCH, as the worker leaves it) and its profile."""
    loaded = {}
    for variant in PROFILED_VARIANTS:
        runner = _load(tiny_artifacts, variant)
        runner.prepare(BATCH, images)
        loaded[variant] = (runner, runner.op_profile(BATCH, images))
    return loaded


def _names(profile: OpProfile, precision: str) -> set[str]:
    return {row.name for row in profile.rows if row.precision == precision}


@pytest.mark.parametrize("variant", PROFILED_VARIANTS)
def test_profile_is_a_per_call_account_of_its_own_profiled_calls(profiled, variant):
    _, profile = profiled[variant]
    assert profile.batch == BATCH
    assert profile.calls >= 3  # warm-up calls are not among them
    assert profile.wall_ms > 0 and profile.rows and profile.note
    assert {row.precision for row in profile.rows} <= PRECISIONS
    assert all(row.ms >= 0 and row.count >= 1 for row in profile.rows)
    # accounted vs wall: within the tolerance, or the profile says what is missing
    gap = abs(profile.wall_ms - profile.accounted_ms) / profile.wall_ms
    assert gap <= COVERAGE_TOLERANCE or profile.missing
    assert OpProfile.from_dict(profile.to_dict()) == profile


def test_ort_int8_time_is_in_integer_kernels(profiled):
    _, profile = profiled["ort-int8"]
    assert "QLinearConv" in _names(profile, PRECISION_INT8)
    shares = profile.share_by_precision()
    assert shares[PRECISION_INT8] > 0.5 * profile.accounted_ms / profile.wall_ms
    assert "QuantizeLinear" in _names(profile, PRECISION_CONVERT)


def test_ort_counts_are_per_call_and_match_the_optimized_graph(profiled):
    for variant in ("ort-fp32", "ort-int8", "ort-int8-qdq"):
        runner, profile = profiled[variant]
        graph_ops = runner.kernel_path()["op_types"]
        counted: dict[str, int] = {}
        for row in profile.rows:
            counted[row.name] = counted.get(row.name, 0) + row.count
        assert counted == graph_ops, variant  # once per call, not once per profiled call


def test_ort_qdq_float_convolutions_show_as_fp32_rows(profiled):
    runner, profile = profiled["ort-int8-qdq"]
    float_ops = runner.kernel_path()["float_ops"]
    for op_type in set(float_ops):
        rows = [row for row in profile.rows if row.name == op_type and row.precision == PRECISION_FP32]
        assert sum(row.count for row in rows) == float_ops.count(op_type), op_type
    assert "QLinearConv" in _names(profile, PRECISION_INT8)


def test_openvino_int8_runs_integer_kernels_and_fp32_none(profiled):
    _, int8 = profiled["openvino-int8"]
    _, fp32 = profiled["openvino-fp32"]
    assert _names(int8, PRECISION_INT8)
    assert "Convolution" in _names(int8, PRECISION_INT8)
    assert not _names(fp32, PRECISION_INT8)
    assert "Convolution" in _names(fp32, PRECISION_FP32)
    assert all(not row.kernel.endswith(("_I8", "_FP32", "_f32")) for row in int8.rows + fp32.rows)


def test_tf_fake_quant_ops_are_convert_rows(profiled):
    _, fakequant = profiled["tf-fakequant"]
    _, fp32 = profiled["tf-fp32"]
    assert any("FakeQuant" in name for name in _names(fakequant, PRECISION_CONVERT))
    assert not _names(fp32, PRECISION_CONVERT) and not _names(fp32, PRECISION_INT8)
    assert any("Conv2D" in row.name for row in fp32.rows)  # Conv2D or Grappler's _FusedConv2D


@pytest.mark.parametrize("variant", PROFILED_VARIANTS)
def test_timed_runner_is_untouched_by_the_profile(profiled, images, variant):
    runner, _ = profiled[variant]
    before = runner.predict(images)
    runner.op_profile(1, images[:1])  # another batch than the prepared one
    runner.call()  # the prepared batch still runs
    runner.prepare(BATCH, images)
    runner.call()
    np.testing.assert_allclose(runner.predict(images), before, rtol=1e-5, atol=1e-6)
