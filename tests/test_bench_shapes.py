"""The 224×224 set beside the seed's 32×32 one: prepare --input-size and measure at 224 (tiny model)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from harness import schema
from harness.bench import manifest as mf
from tests.helpers import measure_args, run_cli

PREPARE = ("prepare", "--model", "tiny", "--data", "synthetic", "--epochs", "1")


@pytest.fixture(scope="module")
def set_224(tiny_artifacts) -> tuple[Path, str]:
    """The 224 set made beside the session's tiny 32 set, and prepare's log."""
    proc = run_cli(*PREPARE, "--input-size", "32,224", "--out", str(tiny_artifacts))
    assert proc.returncode == 0, proc.stderr[-3000:]
    return tiny_artifacts / "224x224", proc.stderr


def test_the_224_set_is_made_from_the_32_weights_without_training_again(tiny_artifacts, set_224):
    folder, log = set_224
    assert "are up to date" in log and "training tiny" not in log  # the 32 set was reused, not retrained
    seed, big = mf.read_manifest(tiny_artifacts), mf.read_manifest(folder)
    assert [e.name for e in big.variants] == [e.name for e in seed.variants] == list(schema.VARIANTS)
    for entry in big.variants:
        mf.verify_artifact(folder, entry)
    assert (seed.input_size, big.input_size, big.trained_input_size) == (32, 224, 32)
    assert big.weight_count == seed.weight_count > 0
    assert big.macs_per_image > 40 * seed.macs_per_image  # 49x the positions, the classifier alike
    with np.load(folder / big.eval_file) as archive:
        images = archive["images"]
    with np.load(tiny_artifacts / seed.eval_file) as archive:
        small = archive["images"]
    assert images.shape[1:] == (224, 224, 3) and len(images) == len(small)
    assert np.array_equal(images[:, ::7, ::7], small)  # the same images, upscaled 7x
    assert big.training["calibration_images"] > 0 and "nothing trained" in big.training["weights"]


def test_measure_at_224_records_the_side_and_its_float32_variants_compute_the_model(set_224, tmp_path):
    folder, _ = set_224
    extra = ("--batch", "1", "--repeats", "2", "--processes", "1", "--eval-limit", "8", "--no-profile")
    proc = run_cli(*measure_args(folder, tmp_path, *extra))
    assert proc.returncode == 0, proc.stderr[-3000:]
    paths = schema.find_result_files(tmp_path)
    results = [schema.load_result(path) for path in paths]
    assert len(results) == len(schema.VARIANTS)
    assert all("_s224_b1_" in path.name for path in paths)
    manifest = mf.read_manifest(folder)
    for result in results:
        assert result.status == schema.STATUS_OK, (result.variant, result.error)
        assert (result.input_size, result.trained_input_size) == (224, 32)
        cost = (manifest.macs_per_image, manifest.weight_count)
        assert (result.macs_per_image, result.weight_count) == cost
        assert len(result.output_sample) == 8 and len(result.output_sample[0]) == 100
        if result.precision == "fp32":
            assert result.float_model_agreement >= 0.995, result.variant


def test_a_seed_set_made_again_drops_the_224_set_of_the_old_weights(tmp_path):
    from harness.bench.prepare_shape import drop_stale, shape_key

    old = mf.Manifest("tiny", "synthetic", "f", False, 10, 1, 1, "old-key", {}, {})
    new = mf.Manifest("tiny", "synthetic", "f", False, 10, 1, 1, "new-key", {}, {})
    for size, seed in ((224, old), (64, new)):
        folder = tmp_path / mf.shape_folder(size)
        folder.mkdir()
        made = mf.Manifest("tiny", "synthetic", "f", False, 10, 1, 1, shape_key(seed, size), {}, {})
        mf.write_manifest(made, folder)
    (tmp_path / "notes").mkdir()
    drop_stale(tmp_path, new)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["64x64", "notes"]
    assert json.loads((tmp_path / "64x64" / "manifest.json").read_text())["inputs_key"] == shape_key(new, 64)
