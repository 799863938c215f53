"""Unit tests of the host run's pure logic: --host parsing, profiles, verification, results.

No Docker engine needed.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import subprocess
import sys

import pytest

from harness import schema
from harness.cli_args import parse_memory
from harness.errors import UserError
from harness.host.engine import runner
from harness.host.engine import targets as hosts
from harness.host.engine.emulation import EmulationOptions
from harness.host.run import collect, profiles, verify
from tests.helpers import REPO, assert_clean_user_error, run_cli

# --- --host ARCH=TARGET ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("amd64=unix:///tmp/x/docker.sock", ("amd64", "unix:///tmp/x/docker.sock")),
        ("arm64=tcp://armbox:2375", ("arm64", "tcp://armbox:2375")),
        ("arm64=ssh://me@armbox", ("arm64", "ssh://me@armbox")),
        ("arm64=ssh://me@armbox:2222", ("arm64", "ssh://me@armbox:2222")),
        ("arm64=graviton", ("arm64", "graviton")),
        (" arm64 = my-ctx.1 ", ("arm64", "my-ctx.1")),
    ],
)
def test_host_option_accepts_urls_and_context_names(text, expected):
    assert hosts.parse_host_option(text) == expected


@pytest.mark.parametrize(
    ("text", "phrase"),
    [
        ("arm64", "is not ARCH=TARGET"),
        ("=ssh://box", "is not ARCH=TARGET"),
        ("arm64=", "is not ARCH=TARGET"),
        ("riscv64=ssh://box", "names architecture 'riscv64'"),
        ("arm64=http://box:2375", "scheme 'http'"),
        ("arm64=unix://", "absolute socket path"),
        ("arm64=unix://relative.sock", "absolute socket path"),
        ("arm64=tcp://box", "needs a host and a port"),
        ("arm64=tcp://box:notaport", "needs a host and a port"),
        ("arm64=tcp://:2375", "needs a host and a port"),
        ("arm64=ssh://", "needs a host"),
        ("arm64=not a context!", "neither an engine URL nor a Docker context name"),
    ],
)
def test_malformed_host_option_is_one_sentence_with_an_example(text, phrase):
    with pytest.raises(UserError) as caught:
        hosts.parse_host_option(text)
    message = str(caught.value)
    assert phrase in message
    assert "e.g." in message or "for example" in message or "use one of" in message


def test_two_engines_for_one_arch_is_refused():
    assert hosts.parse_host_options(["arm64=ssh://a", "arm64=ssh://a"]) == {"arm64": "ssh://a"}
    with pytest.raises(UserError, match="two engines for arm64"):
        hosts.parse_host_options(["arm64=ssh://a", "arm64=ssh://b"])


def test_a_host_for_an_arch_that_does_not_run_is_refused():
    with pytest.raises(UserError, match="which --arch does not run"):
        hosts.engine_targets(["amd64"], {"arm64": "ssh://box"})


def test_targets_default_to_the_local_engine_and_name_the_results():
    local, remote = hosts.engine_targets(["amd64", "arm64"], {"arm64": "tcp://box:2375"})
    assert local.is_local and local.label == "local" and local.base_url is None
    assert not remote.is_local and remote.label == "tcp://box:2375" and remote.base_url == "tcp://box:2375"


def test_a_context_name_resolves_through_the_cli_context_store(tmp_path):
    meta = tmp_path / "contexts" / "meta" / hashlib.sha256(b"armbox").hexdigest()
    meta.mkdir(parents=True)
    (meta / "meta.json").write_text(
        json.dumps({"Name": "armbox", "Endpoints": {"docker": {"Host": "ssh://me@armbox"}}})
    )
    assert hosts.resolve_context("armbox", tmp_path) == "ssh://me@armbox"
    assert hosts.resolve_context("default", tmp_path) is None
    with pytest.raises(UserError, match=r"no Docker context 'nosuch'.*docker context ls"):
        hosts.resolve_context("nosuch", tmp_path)


def test_malformed_host_on_the_command_line_exits_2_without_a_traceback():
    proc = run_cli("host", "run", "--arch", "arm64", "--host", "arm64=http://box", timeout=120)
    assert proc.returncode == 2
    assert_clean_user_error(proc, "scheme 'http'", "for example")


def test_the_cli_module_imports_only_the_standard_library():
    code = (
        "import sys, harness.host.cli;"
        "assert 'run' in harness.host.cli.SUBCOMMANDS and 'all-arch' in harness.host.cli.SUBCOMMANDS;"
        "bad = [m for m in ('docker', 'rich', 'tensorflow', 'requests') if m in sys.modules];"
        "assert not bad, bad"
    )
    subprocess.run([sys.executable, "-c", code], cwd=REPO, check=True, env={"PYTHONPATH": str(REPO)})


# --- profiles ---------------------------------------------------------------------------


def test_quick_profile_times_fewer_repeats_on_fewer_images_when_emulated():
    quick = profiles.get_profile("quick")
    (native,) = quick.passes(emulated=False)
    (emulated,) = quick.passes(emulated=True)
    assert native.batches == (1, 64) and emulated.batches == (1,)  # emulated b64 timings mean nothing
    assert (native.warmup, native.repeats, native.eval_limit) == (3, 20, None)
    # emulated timings are never compared: the check of the outputs is what the pass is for
    assert emulated.repeats < native.repeats and emulated.warmup < native.warmup
    assert emulated.eval_limit == profiles.EMULATED_EVAL_LIMIT


def test_full_profile_adds_batch_10000_natively_with_fewer_repeats():
    full = profiles.get_profile("full")
    seed = [p for p in full.passes(emulated=True) if p.input_size == 32]
    assert [p.batches for p in seed] == [(1, 64)]
    batches = [p.batches for p in full.passes(emulated=False) if not p.scenario and p.input_size == 32]
    assert batches == [(1, 64), (10_000,)]
    big = full.passes(emulated=False)[1]
    assert big.repeats < full.passes(emulated=False)[0].repeats
    assert all(10_000 not in p.batches for p in full.passes(emulated=True))
    assert "10000" in full.note


def test_full_profile_measures_224_beside_32_and_checks_few_images_under_emulation():
    full = profiles.get_profile("full")
    assert full.input_sizes() == (32, 224)
    (native,) = [p for p in full.passes(emulated=False) if p.input_size == 224]
    (emulated,) = [p for p in full.passes(emulated=True) if p.input_size == 224]
    assert 1 in native.batches and 10_000 not in native.batches  # the 2018 row stays at 32×32
    assert emulated.batches == (1,) and emulated.repeats == 1 and emulated.eval_limit == 2
    command = profiles.measure_command(
        emulated, artifacts="/a", out="/o", threads=2, host_label="h", run_id="r"
    )
    assert command[command.index("--artifacts") + 1] == "/a/224x224"
    assert profiles.get_profile("quick").input_sizes() == (32,)  # the quick profile keeps its time


def test_input_sizes_pick_passes_and_add_a_side_the_profile_lacks():
    quick = profiles.with_input_sizes(profiles.get_profile("quick"), (32, 224))
    assert quick.input_sizes() == (32, 224)
    assert [p.input_size for p in quick.native] == [32, 224]
    assert [p.input_size for p in quick.emulated] == [32, 224]
    only_seed = profiles.with_input_sizes(profiles.get_profile("full"), (32,))
    assert only_seed.input_sizes() == (32,)
    assert profiles.with_input_sizes(quick, ()) == quick
    prepare = profiles.prepare_command("tiny", "digits", 1, 1, "/out", quick.input_sizes())
    assert prepare[prepare.index("--input-size") + 1] == "32,224"
    assert "--input-size" not in profiles.prepare_command("tiny", "digits", 1, 1, "/out")


def test_unknown_profile_is_a_user_error():
    with pytest.raises(UserError, match="quick, full"):
        profiles.get_profile("fast")


def bench_args(command: list[str], module) -> argparse.Namespace:
    """command as the bench's own parser reads it (the command name first)."""
    parser = argparse.ArgumentParser()
    module.add_arguments(parser)
    return parser.parse_args(command[1:])


def test_a_thread_sweep_runs_each_native_pass_once_per_count_and_emulated_ones_once():
    swept = profiles.with_threads(profiles.QUICK, (1, 2))
    assert [(p.batches, p.threads) for p in swept.native] == [
        (p.batches, t) for p in profiles.QUICK.native for t in (1, 2)
    ]
    assert swept.emulated == profiles.QUICK.emulated  # emulated timings are never compared
    assert profiles.with_threads(profiles.QUICK, ()) == profiles.QUICK
    command = profiles.measure_command(
        swept.native[1], artifacts="/a", out="/o", threads=swept.native[1].threads, host_label="h", run_id="r"
    )
    assert command[command.index("--threads") + 1] == "2"


def test_measure_command_carries_the_pass_and_the_run():
    from harness.bench import cli_measure

    command = profiles.measure_command(
        profiles.QUICK.emulated[0],
        artifacts="/a",
        out="/o",
        threads=2,
        host_label="local",
        run_id="R1",
        resume=True,
    )
    assert command[0] == "measure"
    args = bench_args(command, cli_measure)
    assert (args.batch, args.repeats, args.warmup, args.processes) == ((1,), 1, 0, 1)
    assert (args.eval_limit, args.run_id, args.host) == (profiles.EMULATED_EVAL_LIMIT, "R1", "local")
    assert args.resume and args.events  # the host draws its bar from the events
    # under emulation no time floors: calls there take ~0.4 s and their timings are never compared
    assert args.warmup_seconds == 0 and args.min_seconds == 0
    native = profiles.measure_command(
        profiles.QUICK.native[0], artifacts="/a", out="/o", threads=2, host_label="l", run_id="R"
    )
    defaults = bench_args(["measure", "--artifacts", "/a", "--out", "/o"], cli_measure)
    args = bench_args(native, cli_measure)
    assert (args.warmup_seconds, args.min_seconds) == (defaults.warmup_seconds, defaults.min_seconds)
    assert not args.resume and args.events
    # measure by hand earns its verdicts as the quick profile does: the same round policy by default
    assert (defaults.max_rounds, defaults.rounds_budget) == (
        profiles.MAX_ROUNDS,
        profiles.ADDED_ROUNDS_BUDGET_S,
    )
    assert (args.max_rounds, args.rounds_budget) == (defaults.max_rounds, defaults.rounds_budget)
    emulated = bench_args(
        profiles.measure_command(
            profiles.QUICK.emulated[0], artifacts="/a", out="/o", threads=2, host_label="l", run_id="R"
        ),
        cli_measure,
    )
    assert (emulated.max_rounds, emulated.rounds_budget) == (0, 0)  # no rounds added under QEMU


def test_prepare_command_is_one_the_bench_parses():
    from harness.bench import cli_prepare

    args = bench_args(profiles.prepare_command("tiny", "synthetic", None, 1, "/out"), cli_prepare)
    assert (args.model, args.data, args.epochs, args.qat_epochs, str(args.out)) == (
        "tiny",
        "synthetic",
        None,
        1,
        "/out",
    )
    assert args.events


@pytest.mark.parametrize(
    ("text", "size"),
    [("8g", 8 * 2**30), ("512m", 512 * 2**20), ("16GiB", 16 * 2**30), ("2.5G", int(2.5 * 2**30))],
)
def test_memory_sizes_parse_like_docker(text, size):
    assert parse_memory(text) == size


@pytest.mark.parametrize("text", ["lots", "0", "-1g", "10k", "5x"])
def test_bad_memory_sizes_are_user_errors(text):
    with pytest.raises(UserError, match="like 8g"):
        parse_memory(text)


# --- verification of emulated outputs ---------------------------------------------------


def _result(
    variant="tflite-int8", *, emulated=False, predictions=(), status="ok", sha="s1", run="R", at="", sample=()
):
    return schema.Result(
        output_sample=[list(row) for row in sample],
        precision=schema.VARIANTS[variant][1],
        variant=variant,
        runtime="ai-edge-litert 2.3.0",
        batch=1,
        threads=2,
        run_id=run,
        status=status,
        predictions=list(predictions),
        artifact_sha256=sha,
        emulated=emulated,
        arch="arm64" if emulated else "amd64",
        finished_at=at,
    )


def test_agreement_is_measured_on_the_common_prefix():
    assert verify.top1_agreement([1, 2, 3], [1, 2, 3, 4, 5]) == (1.0, 3)
    assert verify.top1_agreement([1, 2, 0, 0], [1, 2, 3, 4]) == (0.5, 4)
    assert verify.top1_agreement([], [1]) == (0.0, 0)


def test_emulated_result_that_agrees_stays_ok_and_records_the_agreement():
    native = [i % 10 for i in range(200)]
    emulated = native[:64]
    emulated[5] = 9 if emulated[5] != 9 else 8  # 63/64 = 98.4%: below 99%
    references = verify.native_references([_result(predictions=native)])
    checked = verify.check_emulated(_result(emulated=True, predictions=native[:64]), references)
    assert checked.status == "ok" and checked.kernel_path["native_agreement"] == 1.0
    assert checked.kernel_path["native_agreement_images"] == 64
    failed = verify.check_emulated(_result(emulated=True, predictions=emulated), references)
    assert failed.status == "failed"
    assert failed.error == (
        "emulated outputs disagree with native: 98.4% top-1 agreement (1 of 64 images differ)"
    )
    assert failed.kernel_path["native_agreement"] == pytest.approx(63 / 64)


def test_the_threshold_is_99_percent_inclusive():
    native = [0] * 100
    emulated = [0] * 99 + [1]
    references = verify.native_references([_result(predictions=native)])
    assert verify.check_emulated(_result(emulated=True, predictions=emulated), references).status == "ok"
    emulated[0] = 1
    assert verify.check_emulated(_result(emulated=True, predictions=emulated), references).status == "failed"


def test_reference_must_be_native_ok_and_of_the_same_artifact():
    references = verify.native_references(
        [
            _result(predictions=[0] * 10, sha="other"),
            _result(predictions=[0] * 10, emulated=True),
            _result(predictions=[0] * 10, status="failed"),
        ]
    )
    checked = verify.check_emulated(_result(emulated=True, predictions=[1] * 10), references)
    assert checked.status == "ok" and "NOT verified" in checked.warnings[-1]
    assert "native_agreement" not in checked.kernel_path


def test_probabilities_within_the_precisions_tolerance_pass_and_beyond_it_fail():
    native_sample = [[0.9, 0.1], [0.2, 0.8]]
    references = verify.native_references([_result(predictions=[0, 1], sample=native_sample)])
    close = [[0.9 + 0.004, 0.1 - 0.004], [0.2, 0.8]]  # one int8 SOFTMAX step apart
    checked = verify.check_emulated(_result(emulated=True, predictions=[0, 1], sample=close), references)
    assert checked.status == "ok" and checked.kernel_path["native_difference_images"] == 2
    assert checked.kernel_path["native_max_abs_difference"] == pytest.approx(0.004)
    # same top-1 everywhere, yet a wrong output: top-1 alone would have let it pass
    wrong = [[0.6, 0.4], [0.2, 0.8]]
    failed = verify.check_emulated(_result(emulated=True, predictions=[0, 1], sample=wrong), references)
    assert failed.status == "failed"
    assert failed.error == (
        "emulated outputs differ from native: max |Δ probability| 0.3 over 2 images (tolerance 0.01 for int8)"
    )
    loose = verify.check_emulated(
        _result("tflite-dynamic", emulated=True, predictions=[0, 1], sample=[[0.93, 0.07], [0.2, 0.8]]),
        verify.native_references([_result("tflite-dynamic", predictions=[0, 1], sample=native_sample)]),
    )
    assert loose.status == "ok"  # 0.03: within dynamic-range int8's tolerance


def test_an_int8_file_with_layers_in_float_on_the_emulated_arch_gets_the_fake_quant_tolerance():
    """OpenVINO's arm64 plugin lacks int8 kernels for some layers: float math on quantized values."""
    native = _result("openvino-int8", predictions=[0, 1], sample=[[0.9, 0.1], [0.2, 0.8]])
    native.kernel_path = {"float_op_count": 0}
    references = verify.native_references([native])
    sample = [[0.95, 0.05], [0.2, 0.8]]  # 0.05 apart
    same_kernels = _result("openvino-int8", emulated=True, predictions=[0, 1], sample=sample)
    same_kernels.kernel_path = {"float_op_count": 0}
    assert verify.check_emulated(same_kernels, references).status == "failed"
    floats_here = _result("openvino-int8", emulated=True, predictions=[0, 1], sample=sample)
    floats_here.kernel_path = {"float_op_count": 31}
    checked = verify.check_emulated(floats_here, references)
    assert checked.status == "ok" and checked.kernel_path["native_tolerance"] == verify.TOLERANCE["fakequant"]
    floats_here.output_sample = [[0.6, 0.4], [0.2, 0.8]]  # a wrong kernel is still caught
    failed = verify.check_emulated(floats_here, references)
    assert failed.status == "failed" and "31 float layers here, 0 natively" in failed.error


def test_newest_native_run_is_the_reference_and_native_results_pass_through():
    old = _result(predictions=[1] * 10, run="old", at="2026-01-01T00:00:00+00:00")
    new = _result(predictions=[2] * 10, run="new", at="2026-02-01T00:00:00+00:00")
    references = verify.native_references([new, old])
    assert references[("tflite-int8", "s1")].predictions == (2,) * 10
    native = _result(predictions=[7] * 10)
    assert verify.check_emulated(native, references) is native


# --- results on the host ----------------------------------------------------------------


def _expected(run_id="R", arch="arm64", emulated=True):
    artifacts = collect.Artifacts(
        "tiny",
        "synthetic",
        (
            collect.Artifact("tf-fp32", "tensorflow 2.21.0", "a" * 64, 10),
            collect.Artifact("tflite-int8", "ai-edge-litert 2.3.0", "b" * 64, 5),
        ),
    )
    return collect.Expected(run_id, "local", arch, emulated, 2, (1, 64), artifacts)


def test_every_undelivered_pair_gets_a_failed_result_with_the_reason(tmp_path):
    expected = _expected()
    delivered = [schema.Result("tf-fp32", "x", 1, 2, "R", arch="arm64")]
    missing = collect.undelivered(expected, delivered, done=set())
    assert missing == [("tflite-int8", 1), ("tf-fp32", 64), ("tflite-int8", 64)]
    result = collect.missing_result(expected, "tflite-int8", 64, "killed by signal SIGKILL (exit 137)")
    assert (result.status, result.error, result.arch, result.emulated) == (
        "failed",
        "killed by signal SIGKILL (exit 137)",
        "arm64",
        True,
    )
    assert result.artifact_sha256 == "b" * 64 and result.precision == "int8"
    path = schema.write_result(result, tmp_path)
    assert schema.load_result(path) == result
    assert path.name == expected.file_name("tflite-int8", 64)


def test_store_never_overwrites_and_resume_sets_unfinished_results_aside(tmp_path):
    first = schema.Result("tf-fp32", "x", 1, 2, "R", status="failed", error="exit 1", arch="amd64")
    assert collect.store(first, tmp_path) == collect.WRITTEN
    assert collect.store(first, tmp_path) == collect.UNCHANGED
    second = schema.Result("tf-fp32", "x", 1, 2, "R", arch="amd64", timings_s=[0.1])
    assert collect.store(second, tmp_path) == collect.KEPT_EXISTING
    assert schema.load_result(tmp_path / first.file_name()).status == "failed"
    assert collect.store(second, tmp_path, replace_unfinished=True) == collect.WRITTEN
    assert schema.load_result(tmp_path / first.file_name()).status == "ok"
    assert len(list(tmp_path.glob("*.superseded"))) == 1
    third = schema.Result("tf-fp32", "x", 1, 2, "R", arch="amd64", timings_s=[0.2])
    assert collect.store(third, tmp_path, replace_unfinished=True) == collect.KEPT_EXISTING  # ok stays
    assert not list(tmp_path.glob(".tmp-*"))


def test_finished_pairs_and_latest_run_id(tmp_path):
    expected = _expected()
    ok = schema.Result("tf-fp32", "x", 1, 2, "R", host="local", arch="arm64")
    bad = schema.Result("tflite-int8", "x", 1, 2, "R", host="local", arch="arm64", status="incomplete")
    for result in (ok, bad):
        schema.write_result(result, tmp_path)
    assert collect.finished_pairs(tmp_path, expected) == {("tf-fp32", 1)}
    assert collect.latest_run_id(tmp_path) == "R"
    assert collect.latest_run_id(tmp_path / "none") is None


# --- the container's settings and how it ended -----------------------------------------


def test_container_settings_are_hygienic_and_keep_the_emulation_fixes():
    emulation = EmulationOptions(
        arch="arm64",
        emulated=True,
        platform="linux/arm64",
        environment={"QEMU_CPU": "neoverse-n1"},
        volumes={"/host/cpuinfo": {"bind": "/proc/cpuinfo", "mode": "ro"}},
        init=True,
        ulimits=[{"Name": "core", "Soft": 0, "Hard": 0}],
    )
    spec = runner.ContainerSpec(
        image="quantbench:arm64",
        command=["measure"],
        name="qb-test",
        limits=runner.Limits(cpus=1.5, memory_bytes=2**30),
        labels={"quantbench.run": "R"},
        mounts=[
            runner.VolumeMount("art", "/mnt/store", read_only=True),
            runner.VolumeMount("res", "/mnt/results", read_only=False),
        ],
        emulation=emulation,
    )
    kwargs = runner.container_kwargs(spec)
    assert kwargs["network_mode"] == "none" and kwargs["user"] == "10001:10001"
    assert kwargs["security_opt"] == ["no-new-privileges"] and kwargs["cap_drop"] == ["ALL"]
    assert kwargs["nano_cpus"] == 1_500_000_000 and kwargs["mem_limit"] == 2**30
    assert kwargs["labels"] == {"quantbench": "1", "quantbench.run": "R"}
    assert kwargs["volumes"] == {
        "/host/cpuinfo": {"bind": "/proc/cpuinfo", "mode": "ro"},
        "art": {"bind": "/mnt/store", "mode": "ro"},
        "res": {"bind": "/mnt/results", "mode": "rw"},
    }
    assert kwargs["environment"] == {"QEMU_CPU": "neoverse-n1"}
    assert kwargs["platform"] == "linux/arm64" and kwargs["init"] is True
    assert kwargs["ulimits"] == [{"Name": "core", "Soft": 0, "Hard": 0}]


class FakeEngineClient:
    def __init__(self, cpus: int):
        self.cpus = cpus

    def info(self) -> dict:
        return {"NCPU": self.cpus, "MemTotal": 8 * 2**30}


@pytest.mark.parametrize(
    ("machine_cpus", "cpus", "expected"),
    [
        (2, None, {}),
        (2, 2.0, {}),
        (4, 8.0, {}),
        (2, 1.0, {"cpuset_cpus": "1"}),
        (8, 2.0, {"cpuset_cpus": "6-7"}),
        (8, 2.5, {"cpuset_cpus": "6-7"}),
    ],
)
def test_a_container_gets_a_cpuset_of_its_threads_or_the_whole_machine_never_a_quota(
    machine_cpus, cpus, expected
):
    """A CFS quota throttles spinning thread pools: a cpuset on a bigger machine, no CPU limit
    when the container may use every CPU (a quota of all of them limits nothing but throttles)."""
    from harness.host.run.plan import RunConfig, limits_for

    limits = limits_for(FakeEngineClient(machine_cpus), RunConfig(arches=("amd64",), cpus=cpus))
    assert runner.cpu_limit_kwargs(limits) == expected
    assert int(limits.cpus) == int(cpus or machine_cpus)  # the bench runs that many threads


def test_an_explicit_share_of_the_cpus_is_a_quota():
    kwargs = runner.cpu_limit_kwargs(runner.Limits(cpus=1.5, memory_bytes=2**30))
    assert kwargs == {"nano_cpus": 1_500_000_000}


@pytest.mark.parametrize(
    ("state", "kind", "phrase"),
    [
        ({"exit_code": 0}, runner.OK, "ok"),
        ({"exit_code": 2}, runner.EXITED, "exit 2"),
        ({"exit_code": 137}, runner.SIGNALLED, "killed by signal SIGKILL (exit 137)"),
        ({"exit_code": 139}, runner.SIGNALLED, "SIGSEGV"),
        ({"exit_code": 137, "oom_killed": True}, runner.OOM_KILLED, "OOM-killed"),
        ({"exit_code": 137, "timed_out": True, "timeout_s": 60}, runner.TIMED_OUT, "timed out after 60 s"),
        ({"exit_code": 130, "interrupted": True}, runner.INTERRUPTED, "interrupted"),
    ],
)
def test_outcomes_are_classified_with_a_reason(state, kind, phrase):
    exit_code = state.pop("exit_code")
    got_kind, reason = runner.classify(exit_code, memory_bytes=2**30, **state)
    assert got_kind == kind and phrase in reason


def test_the_full_profile_runs_both_scenarios_natively_with_short_minimums():
    from harness.bench import cli_measure

    scenario_passes = [p for p in profiles.FULL.native if p.scenario]
    assert {p.scenario for p in scenario_passes} == {"SingleStream", "Offline"}
    assert not any(p.scenario for p in profiles.FULL.emulated + profiles.QUICK.native)
    for measure_pass in scenario_passes:
        command = profiles.measure_command(
            measure_pass, artifacts="/a", out="/o", threads=2, host_label="l", run_id="R"
        )
        args = bench_args(command, cli_measure)
        scenario, duration, queries = cli_measure._scenario_settings(args)
        assert scenario == measure_pass.scenario and args.processes >= 3
        assert (duration, queries) == (
            measure_pass.scenario_min_duration_s,
            measure_pass.scenario_min_queries,
        )


def test_ort_int8_from_an_x86_cpu_without_vnni_is_no_reference_for_emulated_outputs():
    """ONNX Runtime's U8S8 kernels saturate 16-bit sums without VNNI: the native output is off."""
    float_sample = [[0.9, 0.1], [0.2, 0.8]]

    def native_pair(flags):
        native_float = _result("ort-fp32", predictions=[0, 1], sample=float_sample, sha="f")
        native_int8 = _result("ort-int8", predictions=[1, 1], sample=[[0.6, 0.4], [0.2, 0.8]], sha="i")
        for result in (native_float, native_int8):
            result.family, result.isa_flags = "ort", flags
        return verify.native_references([native_float, native_int8])

    def emulated(sample):
        result = _result("ort-int8", emulated=True, predictions=[0, 1], sample=sample, sha="i")
        result.family, result.baseline_variant = "ort", "ort-fp32"
        return result

    avx2 = native_pair(["avx2", "fma"])
    checked = verify.check_emulated(emulated([[0.88, 0.12], [0.2, 0.8]]), avx2)
    assert checked.status == "ok"
    [warning] = [w for w in checked.warnings if "NOT verified" in w]
    assert "x86 without VNNI" in warning and "native 0.3, emulated 0.02 from ort-fp32" in warning
    # a wrong emulated kernel strays further from float32 than the native output: still failed
    assert verify.check_emulated(emulated([[0.1, 0.9], [0.9, 0.1]]), avx2).status == "failed"
    # with VNNI the native kernels are exact: the same difference fails
    vnni = native_pair(["avx2", "avx512_vnni"])
    assert verify.check_emulated(emulated([[0.88, 0.12], [0.2, 0.8]]), vnni).status == "failed"
