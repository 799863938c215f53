"""prepare + measure end to end on the tiny model, and the CLI's answers to bad input."""

from __future__ import annotations

import json
import shutil

import pytest

from harness import schema
from harness.op_profile import OpProfile
from tests.helpers import assert_clean_user_error, run_cli

REQUIRED_FIELDS = [
    "schema_version",
    "variant",
    "runtime",
    "batch",
    "threads",
    "timings_s",
    "p50_s",
    "p90_s",
    "p99_s",
    "mean_s",
    "stdev_s",
    "throughput_ips",
    "top1",
    "agreement_with_float",
    "model_bytes",
    "load_s",
    "peak_rss_bytes",
    "arch",
    "emulated",
    "cpu_model",
    "isa_flags",
    "versions",
    "warnings",
]


def test_prepare_writes_every_variant_with_checksums(tiny_artifacts):
    manifest = json.loads((tiny_artifacts / "manifest.json").read_text())
    assert [v["name"] for v in manifest["variants"]] == list(schema.VARIANTS)
    for entry in manifest["variants"]:
        assert len(entry["sha256"]) == 64 and entry["size_bytes"] > 0
        assert (tiny_artifacts / entry["file"]).exists()
    assert manifest["versions"]["tensorflow"].startswith("2.")
    assert manifest["training"]["train_images"] > 0


def test_prepare_reuses_unchanged_artifacts(tiny_artifacts):
    proc = run_cli(
        "prepare", "--model", "tiny", "--data", "synthetic", "--epochs", "1", "--out", str(tiny_artifacts)
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "up to date" in proc.stderr  # the log (stdout holds the one-line summary)


def test_measure_writes_one_valid_result_per_variant_and_batch(tiny_results):
    from harness.bench.sysinfo import collect_system_info

    machine = collect_system_info()
    files = schema.find_result_files(tiny_results)
    assert len(files) == 2 * len(schema.VARIANTS)
    for path in files:
        raw = json.loads(path.read_text())
        missing = [f for f in REQUIRED_FIELDS if f not in raw]
        assert not missing, missing
        result = schema.Result.from_dict(raw)
        assert result.status == "ok" and len(result.timings_s) == 5
        assert result.p50_s == pytest.approx(schema.percentile(sorted(result.timings_s), 50))
        assert result.top1 is None  # synthetic data: accuracy is n/a, not invented
        assert 0.0 <= result.agreement_with_float <= 1.0
        # what this machine is, read as sysinfo reads it: machines change between sessions
        assert (result.arch, result.emulated) == (machine.arch, machine.emulated)
        assert result.isa_flags == machine.isa_flags and result.cpu_count == machine.cpu_count
        assert any("no real labels" in w for w in result.warnings)
        if result.variant == result.baseline_variant:
            assert result.agreement_with_float == 1.0
        if result.family == "litert":
            assert result.kernel_path["delegate"] == "xnnpack"
        if result.family in ("ort", "openvino") and result.precision != "fp32":
            # the graph the runtime actually runs computes in integers (read after its optimizer)
            assert result.kernel_path["integer_ops"] > 0, result.kernel_path
        if result.variant == "openvino-fp32":
            # pinned: on CPUs with bf16 or AMX OpenVINO would otherwise run "fp32" in bf16
            assert result.kernel_path["inference_precision"] == "f32"
            assert set(result.kernel_path["compute_layers"]) <= {
                "Convolution in f32", "GroupConvolution in f32", "FullyConnected in f32", "MatMul in f32"
            }  # fmt: skip
        # every float32 variant computes the trained float model (near-ties aside); others are not asked
        assert (result.float_model_agreement is not None) == (result.precision == "fp32")
        assert result.float_model_agreement is None or result.float_model_agreement >= 0.995
        # the threads it used over its timed calls, and where a call's time goes (natively)
        assert result.timed_wall_s > 0 and result.timed_cpu_s > 0
        if machine.emulated is False:
            profile = OpProfile.from_dict(result.op_profile)  # every runtime has a profiled pass
            assert profile.batch == result.batch and profile.rows and profile.wall_ms > 0, result.op_profile
            # the rows add up to the call, or the profile says what is missing
            assert abs(profile.accounted_ms - profile.wall_ms) <= 0.1 * profile.wall_ms or profile.missing


def test_measure_refuses_to_overwrite_and_resume_skips_finished(tiny_artifacts, tiny_results):
    args = [
        "measure",
        "--max-rounds",
        "0",
        "--artifacts",
        str(tiny_artifacts),
        "--variants",
        "tflite-int8",
        "--batch",
        "1",
        "--threads",
        "1",
        "--repeats",
        "3",
        "--out",
        str(tiny_results),
        "--run-id",
        "t1",
    ]
    before = {p: p.read_bytes() for p in schema.find_result_files(tiny_results)}
    assert_clean_user_error(run_cli(*args), "exists already")
    proc = run_cli(*args, "--resume")
    assert proc.returncode == 0 and "nothing to do" in proc.stderr
    assert {p: p.read_bytes() for p in schema.find_result_files(tiny_results)} == before


@pytest.mark.parametrize(
    ("extra", "phrase"),
    [
        (["--variants", "tflite-int4"], "unknown variant 'tflite-int4'"),
        (["--batch", "0"], "must be 1 or more"),
        (["--batch", "-3"], "must be 1 or more"),
        (["--batch", "100000000"], "would not fit in memory"),
        (["--threads", "two"], "'two' is not a whole number"),
    ],
)
def test_measure_bad_arguments(tiny_artifacts, tmp_path, extra, phrase):
    proc = run_cli(
        "measure", "--max-rounds", "0", "--artifacts", str(tiny_artifacts), "--out", str(tmp_path), *extra
    )
    assert_clean_user_error(proc, phrase)


def test_missing_artifacts_dir(tmp_path):
    proc = run_cli(
        "measure", "--max-rounds", "0", "--artifacts", str(tmp_path / "none"), "--out", str(tmp_path / "r")
    )
    assert_clean_user_error(proc, "does not exist", "prepare")


def test_checksum_mismatch_is_refused(tiny_artifacts, tmp_path):
    copy = tmp_path / "artifacts"
    shutil.copytree(tiny_artifacts, copy)
    model = copy / "tflite-int8.tflite"
    model.write_bytes(model.read_bytes()[:-1] + b"\0")
    proc = run_cli(
        "measure",
        "--max-rounds",
        "0",
        "--artifacts",
        str(copy),
        "--variants",
        "tflite-int8",
        "--out",
        str(tmp_path / "r"),
    )
    assert_clean_user_error(proc, "does not match its manifest")
    assert not list((tmp_path / "r").glob("*.json"))


def test_cifar_dir_missing_test(tmp_path):
    from tests.test_bench_data import write_cifar_dir

    root = write_cifar_dir(tmp_path / "cifar")
    (root / "test").unlink()
    proc = run_cli("prepare", "--model", "tiny", "--data", f"cifar100:{root}", "--out", str(tmp_path / "a"))
    assert_clean_user_error(proc, "no 'test' file")


def test_unknown_model(tmp_path):
    assert_clean_user_error(run_cli("prepare", "--model", "vgg", "--out", str(tmp_path)), "unknown model")


def test_a_worker_settles_for_its_warm_up_seconds_once_then_warms_each_batch_by_calls(tiny_artifacts, capsys):
    """The seconds floor is for a fresh process; a later batch gets the --warmup calls only."""
    from harness.bench import worker

    job = worker.WorkerJob(
        artifacts=str(tiny_artifacts),
        variant="tflite-int8",
        batches=(1, 2),
        threads=1,
        warmup=2,
        calls=1,
        process_index=0,
        warmup_s=0.3,
    )
    worker.run_job(job)
    events = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    warmed = {e["batch"]: e["warmup_calls"] for e in events if e["event"] == worker.EVENT_READY}
    assert warmed[2] == 2  # the calls asked for, no seconds floor
    assert warmed[1] > warmed[2]  # 0.3 s of tiny-model calls: many more than 2
