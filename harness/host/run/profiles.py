"""Run profiles: which batch sizes, how many repeats, natively and under emulation.

A profile is a list of measure passes; each pass is one ``measure`` container
(one --repeats for all its batch sizes, so a huge batch gets its own pass with
fewer repeats). Under QEMU ResNet-50 runs 10-250x slower, so emulated passes
time fewer repeats on the first ``--eval-limit`` eval images only: they exist
to check that the arm64 build runs and agrees with native, not to be fast.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from harness.bench.manifest import shape_folder  # plain JSON + hashlib: no TensorFlow
from harness.bench.rounds import DEFAULT_MAX_ROUNDS, DEFAULT_ROUNDS_BUDGET_S  # standard library only
from harness.errors import UserError
from harness.schema import SEED_INPUT_SIZE


@dataclass(frozen=True)
class MeasurePass:
    """One measure container: its batch sizes and how hard it times them."""

    batches: tuple[int, ...]
    warmup: int
    repeats: int  # timed calls per variant and batch (at least), shared out over the processes
    eval_limit: int | None = None
    processes: int = 2  # process rounds: each variant gets one worker process per round
    # untimed and timed seconds per worker and batch, at least (None: measure's defaults)
    warmup_seconds: float | None = None
    min_seconds: float | None = None
    # rounds added for the comparisons a verdict rests on, while wide (measure --max-rounds ...)
    max_rounds: int = 0
    rounds_budget_s: float = 0.0
    # an MLPerf LoadGen scenario pass (measure --scenario): "SingleStream" (batches must be (1,))
    # or "Offline", each run lasting at least both minimums
    scenario: str = ""
    scenario_min_duration_s: float = 0.0
    scenario_min_queries: int = 0
    threads: int | None = None  # threads per call (None: the container's CPU limit)
    input_size: int = SEED_INPUT_SIZE  # the image side: which artifact set it measures


@dataclass(frozen=True)
class Profile:
    """What a run measures, natively and emulated."""

    name: str
    native: tuple[MeasurePass, ...]
    emulated: tuple[MeasurePass, ...]
    note: str = ""

    def passes(self, emulated: bool) -> tuple[MeasurePass, ...]:
        return self.emulated if emulated else self.native

    def input_sizes(self) -> tuple[int, ...]:
        """Every image side a pass measures (prepare makes a set for each), the seed's first."""
        return tuple(sorted({SEED_INPUT_SIZE} | {p.input_size for p in self.native + self.emulated}))


# Emulated passes exist to prove the image runs and computes what native does (verify.py
# compares the class probabilities of the first eval images), never to be timed usefully:
# - 16 images: a wrong kernel moves probabilities by tenths on every image; top-1 on all 384
#   cost 653 s of a 21-minute make all-arch and missed outputs that are wrong but keep top-1;
# - one process round (a worker imports TensorFlow in 17-30 s under QEMU), one timed call, no
#   warm-up calls and no time floors: a float call takes 0.3-2.3 s there;
# - the quick profile times batch 1 only: timing batch 64 was 750 s of a 1572 s emulated step.
EMULATED_EVAL_LIMIT = 16
EMULATED_REPEATS = 1
EMULATED = {"warmup_seconds": 0.0, "min_seconds": 0.0, "processes": 1, "eval_limit": EMULATED_EVAL_LIMIT}

# Natively, the comparisons a verdict rests on (each runtime's verdict pair, the headline pair) get
# rounds after the base ones while their interval is wider than +-5 %, up to ADDED_ROUNDS_BUDGET_S
# (measure --max-rounds/--rounds-budget): the interval's precision comes from rounds, not calls.
MAX_ROUNDS = DEFAULT_MAX_ROUNDS
ADDED_ROUNDS_BUDGET_S = DEFAULT_ROUNDS_BUDGET_S


def scenario_pass(scenario: str, *, batch: int, min_queries: int) -> MeasurePass:
    """A scenario pass of 3 process rounds, each run lasting at least 2 s and min_queries."""
    return MeasurePass(
        (batch,),
        warmup=3,
        repeats=3,
        processes=3,
        scenario=scenario,
        scenario_min_duration_s=2.0,
        scenario_min_queries=min_queries,
    )


def other_size_passes(input_size: int) -> tuple[MeasurePass, MeasurePass]:
    """The native and the emulated pass of a side other than the seed's (224: ImageNet's).

    At 224 one image is 49x the multiply-adds of a 32×32 one (a batch-1 float call ~40-60 ms
    here): natively batch 1 and 16 (batch 64 would make the pass ~4x longer for no new fact),
    the first 128 eval images evaluated. Under QEMU a 224 call is ~50x a 32×32 one: the
    emulated pass checks the outputs of 2 images and times one batch-1 call, nothing more.
    """
    native = MeasurePass(
        (1, 16),
        warmup=3,
        repeats=20,
        eval_limit=OTHER_SIZE_EVAL_LIMIT,
        max_rounds=MAX_ROUNDS,
        rounds_budget_s=ADDED_ROUNDS_BUDGET_S,
        input_size=input_size,
    )
    emulated = MeasurePass(
        (1,), warmup=0, repeats=EMULATED_REPEATS, input_size=input_size, **OTHER_SIZE_EMULATED
    )
    return native, emulated


OTHER_SIZE_EVAL_LIMIT = 128
OTHER_SIZE_EMULATED = {**EMULATED, "eval_limit": 2}
IMAGENET_INPUT_SIZE = 224
IMAGENET_NATIVE, IMAGENET_EMULATED = other_size_passes(IMAGENET_INPUT_SIZE)

QUICK = Profile(
    "quick",
    native=(
        MeasurePass(
            (1, 64), warmup=3, repeats=20, max_rounds=MAX_ROUNDS, rounds_budget_s=ADDED_ROUNDS_BUDGET_S
        ),
    ),
    emulated=(MeasurePass((1,), warmup=0, repeats=EMULATED_REPEATS, **EMULATED),),
)
FULL = Profile(
    "full",
    native=(
        MeasurePass(
            (1, 64), warmup=3, repeats=20, max_rounds=MAX_ROUNDS, rounds_budget_s=ADDED_ROUNDS_BUDGET_S
        ),
        # The 2018 measurement: one call is ~10^4 images (1.5-8 s here). 3 calls in each of 2
        # process rounds give 6 timings per variant: enough for an interval (at least 5).
        MeasurePass((10_000,), warmup=1, repeats=6),
        # MLPerf-style scenarios, far shorter than MLPerf's 600 s (the report says so): 3 process
        # rounds of a 2 s run per variant give the paired interval of each scenario's verdict
        scenario_pass("SingleStream", batch=1, min_queries=64),
        scenario_pass("Offline", batch=64, min_queries=256),
        # the shape people run: ResNet-50 at 224×224 beside the seed's 32×32
        IMAGENET_NATIVE,
    ),
    emulated=(MeasurePass((1, 64), warmup=0, repeats=EMULATED_REPEATS, **EMULATED), IMAGENET_EMULATED),
    note="batch 10000 is not run under emulation (hours per float call under QEMU, and emulated "
    "timings say nothing about a real arm64 CPU); at 224×224 the emulated pass checks 2 images",
)
PROFILES = {profile.name: profile for profile in (QUICK, FULL)}


def with_repeats(profile: Profile, repeats: int | None) -> Profile:
    """profile with every pass timing ``repeats`` calls (None: unchanged)."""
    if repeats is None:
        return profile
    return replace(
        profile,
        native=tuple(replace(p, repeats=repeats) for p in profile.native),
        emulated=tuple(replace(p, repeats=repeats) for p in profile.emulated),
    )


def with_threads(profile: Profile, threads: tuple[int, ...]) -> Profile:
    """profile with each native pass run once per thread count (a sweep; () or one count:
    unchanged but for that count). Emulated passes keep one count: their timings are not compared."""
    if not threads:
        return profile
    native = tuple(replace(p, threads=count) for p in profile.native for count in threads)
    return replace(profile, native=native)


def with_input_sizes(profile: Profile, sizes: tuple[int, ...]) -> Profile:
    """profile measuring exactly these image sides: its passes at them, and for a side it has
    no pass for, that side's default passes (``other_size_passes``); () leaves it unchanged."""
    if not sizes:
        return profile
    native = [p for p in profile.native if p.input_size in sizes]
    emulated = [p for p in profile.emulated if p.input_size in sizes]
    for size in sizes:
        if not any(p.input_size == size for p in profile.native + profile.emulated):
            extra_native, extra_emulated = other_size_passes(size)
            native.append(extra_native)
            emulated.append(extra_emulated)
    return replace(profile, native=tuple(native), emulated=tuple(emulated))


def for_user_model(profile: Profile) -> Profile:
    """profile for a user's model: its passes of the root set (the model's own side; the seed's
    32 names it in passes), without the other sides the built-in model's weights make."""
    return replace(
        profile,
        native=tuple(p for p in profile.native if p.input_size == SEED_INPUT_SIZE),
        emulated=tuple(p for p in profile.emulated if p.input_size == SEED_INPUT_SIZE),
        note="",
    )


# host tune times a set of ~20 files (each runtime's float32 and every candidate that passed): a
# fixed 90 s for added rounds left 3 rounds on a 2-core Zen 4 for the built-in ResNet-50's 17
# candidates, intervals of ±50 % and more. The candidates get the time the variants' verdicts get.
TUNE_ROUNDS_BUDGET_S = 360.0


def for_tune(profile: Profile) -> Profile:
    """profile for host tune: its fixed-batch passes of the root set only (no scenario, no batch
    of 10,000), natively with the candidates' larger budget for added rounds."""

    def kept(p: MeasurePass) -> bool:
        return p.input_size == SEED_INPUT_SIZE and not p.scenario and max(p.batches) <= 256

    native = tuple(
        replace(p, rounds_budget_s=max(p.rounds_budget_s, TUNE_ROUNDS_BUDGET_S))
        for p in profile.native
        if kept(p)
    )
    return replace(profile, native=native, emulated=tuple(p for p in profile.emulated if kept(p)), note="")


@dataclass(frozen=True)
class ImageOptions:
    """How prepare makes a user's model's inputs (prepare's options of the same names)."""

    normalize: str | None = None
    resize: str | None = None
    calibration_images: int | None = None
    eval_images: int | None = None
    split_seed: int | None = None
    input_size: int | None = None  # a dynamic input's side

    def arguments(self) -> list[str]:
        names = {
            "--normalize": self.normalize,
            "--resize": self.resize,
            "--calibration-images": self.calibration_images,
            "--eval-images": self.eval_images,
            "--split-seed": self.split_seed,
            "--input-size": self.input_size,
        }
        # --normalize=VALUE: a value such as -1-1 would read as an option
        return [f"{name}={value}" for name, value in names.items() if value is not None]


def get_profile(name: str) -> Profile:
    """The profile called name; UserError listing the known ones."""
    try:
        return PROFILES[name]
    except KeyError:
        raise UserError(f"unknown profile {name!r}; use one of {', '.join(PROFILES)}.") from None


def measure_command(
    measure_pass: MeasurePass,
    *,
    artifacts: str,
    out: str,
    threads: int,
    host_label: str,
    run_id: str,
    resume: bool = False,
) -> list[str]:
    """The bench ``measure`` arguments for one pass (the image's entrypoint runs them)."""
    folder = shape_folder(measure_pass.input_size)
    command = [
        "measure",
        "--artifacts",
        f"{artifacts}/{folder}" if folder else artifacts,
        "--variants",
        "all",
        "--batch",
        ",".join(str(batch) for batch in measure_pass.batches),
        "--threads",
        str(threads),
        "--warmup",
        str(measure_pass.warmup),
        "--repeats",
        str(measure_pass.repeats),
        "--processes",
        str(measure_pass.processes),
        "--out",
        out,
        "--host",
        host_label,
        "--run-id",
        run_id,
        "--events",
    ]
    if measure_pass.eval_limit is not None:
        command += ["--eval-limit", str(measure_pass.eval_limit)]
    if measure_pass.warmup_seconds is not None:
        command += ["--warmup-seconds", f"{measure_pass.warmup_seconds:g}"]
    if measure_pass.min_seconds is not None:
        command += ["--min-seconds", f"{measure_pass.min_seconds:g}"]
    # always said: measure's own defaults add rounds (as the quick profile), which a pass may not want
    adaptive = bool(measure_pass.max_rounds and measure_pass.rounds_budget_s)
    command += ["--max-rounds", str(measure_pass.max_rounds if adaptive else 0)]
    command += ["--rounds-budget", f"{measure_pass.rounds_budget_s if adaptive else 0:g}"]
    if measure_pass.scenario:
        command += ["--scenario", measure_pass.scenario.lower()]
        command += ["--min-duration", f"{measure_pass.scenario_min_duration_s:g}"]
        command += ["--min-queries", str(measure_pass.scenario_min_queries)]
    if resume:
        command.append("--resume")
    return command


def prepare_command(
    model: str,
    data: str,
    epochs: int | None,
    qat_epochs: int | None,
    out: str,
    input_sizes: tuple[int, ...] = (SEED_INPUT_SIZE,),
    images: ImageOptions | None = None,
) -> list[str]:
    """The bench ``prepare`` arguments (None: the bench's default schedule; ``images``: a user's
    model's input options, which replace the built-in model's input sizes)."""
    command = ["prepare", "--model", model, "--data", data, "--out", out, "--events"]
    if images is not None:
        command += images.arguments()
    elif tuple(input_sizes) != (SEED_INPUT_SIZE,):
        command += ["--input-size", ",".join(map(str, input_sizes))]
    if epochs is not None:
        command += ["--epochs", str(epochs)]
    if qat_epochs is not None:
        command += ["--qat-epochs", str(qat_epochs)]
    return command
