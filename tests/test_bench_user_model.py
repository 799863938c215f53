"""A user's Keras and ONNX models through prepare and measure, on an image folder and an .npz."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from harness import schema
from harness.bench import manifest as mf
from tests.helpers import run_cli
from tests.user_models import CLASSES, SIDE

pytest.importorskip("keras")
pytest.importorskip("onnx2tf")

QAT_VARIANTS = {"tf-fakequant", "tflite-int8-qat"}


def prepare(model: Path, data: str, out: Path, *extra: str) -> mf.Manifest:
    proc = run_cli("prepare", "--model", str(model), "--data", data, "--out", str(out), *extra)
    assert proc.returncode == 0, proc.stderr[-4000:]
    return mf.read_manifest(out)


@pytest.fixture(scope="module")
def keras_set(user_models, user_images, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("keras-set")
    prepare(
        user_models / "tiny.keras",
        f"imagefolder:{user_images}",
        out,
        "--normalize",
        "tf",
        "--calibration-images",
        "12",
    )
    return out


def test_a_keras_model_makes_every_variant_but_the_qat_ones_and_keeps_its_split(keras_set, user_images):
    manifest = mf.read_manifest(keras_set)
    assert (
        manifest.model == "tiny.keras" and manifest.model_kind == "keras" and len(manifest.model_sha256) == 64
    )
    assert (manifest.input_size, manifest.input_layout, manifest.normalize) == (SIDE, "NHWC", "tf")
    assert set(manifest.not_made) == QAT_VARIANTS
    assert all("quantization-aware" in reason for reason in manifest.not_made.values())
    made = {entry.name for entry in manifest.variants}
    assert made == set(schema.VARIANTS) - QAT_VARIANTS
    assert manifest.output_kind == "probabilities" and manifest.num_classes == CLASSES
    split = manifest.data_split
    assert split["calibration_images"] == 12 and split["eval_images"] == 3 * 12 - 12
    assert not set(split["calibration"]) & set(split["eval"])  # disjoint, by file name
    assert set(split["calibration"]) | set(split["eval"]) == {
        f"{p.parent.name}/{p.name}" for p in user_images.rglob("*.png")
    }
    with np.load(keras_set / manifest.eval_file) as archive:
        assert archive["images"].shape == (24, SIDE, SIDE, 3) and archive["images"].dtype == np.uint8
    # counted from the model's ONNX graph: conv 3x3x3->8 at 8x8, depthwise 3x3x8 at 8x8, dense 8->3
    assert manifest.macs_per_image == 8 * 8 * 8 * 27 + 8 * 8 * 8 * 9 + 8 * CLASSES


def test_its_variants_are_measured_and_every_float32_one_computes_the_model(keras_set, tmp_path):
    out = tmp_path / "results"
    proc = run_cli(
        *(
            "measure",
            "--max-rounds",
            "0",
            "--artifacts",
            str(keras_set),
            "--variants",
            "all",
            "--batch",
            "1,4",
            "--threads",
            "1",
        ),
        *("--warmup", "1", "--repeats", "4", "--min-seconds", "0", "--warmup-seconds", "0", "--no-profile"),
        *("--out", str(out)),
    )
    assert proc.returncode == 0, proc.stderr[-4000:]
    results = [schema.load_result(path) for path in schema.find_result_files(out)]
    assert len(results) == 2 * (len(schema.VARIANTS) - len(QAT_VARIANTS))
    assert all(r.status == schema.STATUS_OK for r in results), [(r.variant, r.error) for r in results]
    for result in results:
        assert (result.model, result.model_kind, result.normalize, result.input_size) == (
            "tiny.keras",
            "keras",
            "tf",
            SIDE,
        )
        assert set(result.variants_not_made) == QAT_VARIANTS
        if result.precision == "fp32":
            assert result.float_model_agreement == 1.0, result.variant
    report = run_cli("report", str(out), "--json", str(tmp_path / "report.json"))
    assert report.returncode == 0, report.stderr[-3000:]
    assert "model: tiny.keras (Keras file" in report.stdout
    (model,) = json.loads((tmp_path / "report.json").read_text())["models"]
    assert model["name"] == "tiny.keras" and model["labelled"] is True


def test_an_nchw_onnx_model_keeps_its_layout_for_onnx_runtime_and_openvino(
    user_models, user_images, tmp_path
):
    out = tmp_path / "onnx-set"
    manifest = prepare(
        user_models / "nchw.onnx",
        f"imagefolder:{user_images}",
        out,
        "--normalize=-1-1",
        "--input-size",
        str(SIDE),
    )
    assert manifest.model_kind == "onnx" and manifest.input_layout == "NCHW" and manifest.normalize == "tf"
    layouts = {entry.name: entry.input_layout for entry in manifest.variants}
    assert {layouts[v] for v in ("ort-fp32", "ort-int8", "openvino-fp32", "openvino-int8")} == {"NCHW"}
    assert {layouts[v] for v in ("tflite-fp32", "tflite-int8")} == {"NHWC"}  # through onnx2tf
    assert set(manifest.not_made) == QAT_VARIANTS
    results = tmp_path / "results"
    proc = run_cli(
        *(
            "measure",
            "--max-rounds",
            "0",
            "--artifacts",
            str(out),
            "--variants",
            "ort-fp32,tflite-fp32,tflite-int8,openvino-fp32",
        ),
        *("--batch", "1", "--threads", "1", "--warmup", "1", "--repeats", "2", "--processes", "1"),
        *("--min-seconds", "0", "--warmup-seconds", "0", "--no-profile", "--out", str(results)),
    )
    assert proc.returncode == 0, proc.stderr[-4000:]
    found = {r.variant: r for r in map(schema.load_result, schema.find_result_files(results))}
    assert all(r.status == schema.STATUS_OK for r in found.values()), [
        (r.variant, r.error) for r in found.values()
    ]
    assert found["ort-fp32"].input_layout == "NCHW" and found["tflite-fp32"].input_layout == "NHWC"
    assert found["tflite-fp32"].float_model_agreement == 1.0 == found["openvino-fp32"].float_model_agreement


def test_an_npz_of_unlabelled_images_is_split_and_fitted(tmp_path):
    from harness.bench.data_files import ImageRequest, load_images

    rng = np.random.default_rng(0)
    path = tmp_path / "batch.npz"
    np.savez(path, images=rng.integers(0, 256, (40, 24, 32), dtype=np.uint8))  # grey, not square
    dataset = load_images(f"npz:{path}", ImageRequest(SIDE, SIDE, 3, "center-crop", 8, 20, seed=3))
    assert dataset.train_images.shape == (8, SIDE, SIDE, 3) and dataset.eval_images.shape == (
        20,
        SIDE,
        SIDE,
        3,
    )
    assert not dataset.has_labels and dataset.split["seed"] == 3
    assert not set(dataset.split["calibration"]) & set(dataset.split["eval"])
    again = load_images(f"npz:{path}", ImageRequest(SIDE, SIDE, 3, "center-crop", 8, 20, seed=3))
    assert np.array_equal(again.eval_images, dataset.eval_images)  # seeded: the same split again
