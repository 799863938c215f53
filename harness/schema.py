"""The versioned result schema: the only thing the bench and host halves share.

One JSON file holds one ``Result``: one variant at one batch size and thread
count in one run. Raw per-repeat timings are kept; every summary is derived
from them (``summarize_timings``), never stored instead of them.

Pure standard library: both halves import it (and the runtime declarations it
reads the variants from).
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
import statistics
import tempfile
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from harness.intervals import group_by_round, process_disagreement
from harness.runtime_registry import base_variant, variant_specs

SCHEMA_VERSION = 7
# Version 1 lacks the per-timing process and round (v2 adds fields only): still read,
# and compared unpaired. Version 3 adds fields only: the scenario, its runs, why rounds stopped.
# Version 4 adds fields only: the op profile, the CPU and wall time of the timed calls.
# Version 5 adds fields only: the input shape, the model's multiply-adds and weights at it.
# Version 6 adds fields only: which model (a user's Keras or ONNX file, or the built-in one), how
# its images were normalized, its input layout, and the variants its artifact set could not make.
# Version 7 adds fields only: a tuning candidate's recipe, and the search it came from.
READABLE_VERSIONS = (1, 2, 3, 4, 5, 6, 7)
RESULT_KIND = "quantbench.result"

STATUS_OK = "ok"
STATUS_FAILED = "failed"  # the run died, timed out, or produced wrong outputs
STATUS_INCOMPLETE = "incomplete"  # interrupted before every repeat ran
STATUSES = (STATUS_OK, STATUS_FAILED, STATUS_INCOMPLETE)

# Variant name -> (runtime family, precision, float baseline in the same family), from the
# runtime folders' declarations (harness/runtime_registry.py): no other list exists.
VARIANTS: dict[str, tuple[str, str, str]] = {
    name: (runtime.name, variant.precision, variant.baseline)
    for name, (runtime, variant) in variant_specs().items()
}


def variant_info(name: str) -> tuple[str, str, str]:
    """(runtime family, precision, float baseline) of a variant or a tuning candidate of one;
    KeyError for a name of no declared variant."""
    return VARIANTS[base_variant(name)]


def is_known_variant(name: str) -> bool:
    return base_variant(name) in VARIANTS


def in_table_order(names) -> list[str]:
    """Known variant names in table order: the declared variants' order, each variant's tuning
    candidates right after it in the order given."""
    order = {name: index for index, name in enumerate(VARIANTS)}
    known = [(order[base_variant(n)], position, n) for position, n in enumerate(names) if is_known_variant(n)]
    return [name for *_, name in sorted(known)]


# Stability thresholds. A speed claim is judged on the centre (its rounds' ratios of
# per-process medians, harness.intervals.round_disagreement), not on the per-call stdev: a
# sub-millisecond call has a long tail on a quiet machine (p99 ~3x p50 here), shown as jitter.
MIN_REPEATS = 10
# A result that asked for several threads and whose CPU time / wall time over the timed calls is
# below this used about one thread: it is warned about and flagged in the scaling table.
ONE_THREAD_PARALLELISM = 1.25
MIN_TIMING_S = 0.001
SEED_INPUT_SIZE = 32  # the seed's images (32×32×3): results before v5 were all this shape
# quantbench tune's folder of candidates and float32 baselines: an artifact set measure reads
TUNE_SET_FOLDER = "set"


class SchemaError(ValueError):
    """A result file that is not a valid result of this schema version."""


@dataclass
class Result:
    """One variant, one batch size, one thread count, one run."""

    variant: str
    runtime: str  # e.g. "tensorflow 2.21.0" or "ai-edge-litert 2.3.0"
    batch: int
    threads: int
    run_id: str
    status: str = STATUS_OK
    error: str | None = None
    schema_version: int = SCHEMA_VERSION
    kind: str = RESULT_KIND
    family: str = ""  # the runtime's registry name: "tf", "litert", ... (older results: "tflite")
    precision: str = ""
    baseline_variant: str = ""
    # timing: raw seconds per repeat (one call on `batch` images), then summaries
    warmup: int = 0
    repeats: int = 0
    timings_s: list[float] = field(default_factory=list)
    # where each timing came from (v2): worker process, round in it, place in the round's order;
    # variants of one family share (process, round) keys, which the report pairs on
    timing_process: list[int] = field(default_factory=list)
    timing_round: list[int] = field(default_factory=list)
    timing_position: list[int] = field(default_factory=list)
    processes: int = 1
    order_seed: int | None = None  # the run's seed of the round orders (each worker's derives from it)
    cpu_throttling: dict[str, float] | None = None  # CFS periods, throttled periods and seconds
    p50_s: float | None = None
    p90_s: float | None = None
    p99_s: float | None = None
    mean_s: float | None = None
    stdev_s: float | None = None
    min_s: float | None = None
    max_s: float | None = None
    throughput_ips: float | None = None  # images per second at the median
    jitter: float | None = None  # p99 / p50 of the calls: the tail a latency user sees (v3)
    # v3: "" for the fixed-batch loop, else the MLPerf LoadGen scenario ("SingleStream",
    # "Offline"); scenario_runs holds one harness.bench.scenarios.ScenarioRun per process round
    scenario: str = ""
    scenario_runs: list[dict[str, Any]] = field(default_factory=list)
    # v3: how many process rounds timed this result, and why measure stopped adding rounds
    rounds_stop_reason: str = ""
    # v5: the image side the network took (H = W; 32 = the seed's 32×32×3, 224 = ImageNet's), and
    # what one image costs there, counted from the model at prepare: multiply-adds of its conv and
    # dense layers, and the weights (parameters) a call reads: weight bytes = weight_count × the
    # bytes of the variant's weights (4 fp32, 1 int8). trained_input_size: the side its weights
    # were trained at (a top-1 at another side is the network used off its training scale)
    input_size: int = SEED_INPUT_SIZE
    macs_per_image: int | None = None
    weight_count: int | None = None
    trained_input_size: int | None = None
    # v6: the model measured: its name (the built-in "resnet50"/"tiny", or a user's file name such
    # as "mobilenetv2.keras"), where it came from ("builtin", "keras", "onnx"; "" before v6: the
    # built-in one), the sha256 of a user's file, the named normalization its images got
    # (harness.bench.preprocess), the layout of this variant's input ("NHWC" or "NCHW"), and the
    # variants its artifact set could not make, each with the converter's or runtime's reason
    model: str = ""
    model_kind: str = ""
    model_sha256: str = ""
    normalize: str = ""
    input_layout: str = "NHWC"
    variants_not_made: dict[str, str] = field(default_factory=dict)
    # v7 (quantbench tune): a candidate's recipe (its runtime's tool and settings: id, variant,
    # summary, options), and every candidate of the search whose set this result was measured from
    # (made or not and why, top-1, agreement with its float32, gate), with the gate's maximum drop
    # in points (None: the 99 % rule): the tune report is rebuilt from results alone
    recipe: dict[str, Any] = field(default_factory=dict)
    tune_search: list[dict[str, Any]] = field(default_factory=list)
    tune_max_drop: float | None = None
    # accuracy on the eval set (None when the data has no real labels)
    top1: float | None = None
    eval_images: int = 0
    agreement_with_float: float | None = None  # same top-1 as baseline_variant
    # fp32 variants: same top-1 as the trained float model (prepare's reference); below 99.5 % the
    # result is failed (the runtime changed what the model computes)
    float_model_agreement: float | None = None
    predictions: list[int] = field(default_factory=list)  # top-1 per eval image
    # class probabilities of the first eval images (32): what the emulated check compares with native
    output_sample: list[list[float]] = field(default_factory=list)
    # per reference (the float baseline; for QAT also "qat-float", its quantizers off): images
    # only the reference classified right, and only this variant ({"only_reference_right": b,
    # "only_variant_right": c}), the inputs of an exact McNemar test
    paired_correctness: dict[str, dict[str, int]] = field(default_factory=dict)
    data: str = ""
    # model and memory
    model_bytes: int = 0
    artifact_sha256: str = ""
    load_s: float | None = None
    peak_rss_bytes: int | None = None
    kernel_path: dict[str, Any] = field(default_factory=dict)
    # v4: where one call's time goes at this batch (harness.op_profile.OpProfile as a dict, or
    # {"error": why}), from a profiled pass of its own after the timed calls; native runs only
    op_profile: dict[str, Any] | None = None
    # v4: CPU time of the worker processes (all their threads) and wall time over the timed calls:
    # their ratio is the parallelism the runtime really used
    timed_cpu_s: float | None = None
    timed_wall_s: float | None = None
    # where it ran
    host: str = "local"
    arch: str = ""  # "amd64" or "arm64"
    emulated: bool | None = False  # None: the emulation probe failed (unknown, no speed verdict)
    cpu_model: str = ""
    cpu_count: int = 0
    isa_flags: list[str] = field(default_factory=list)
    versions: dict[str, str] = field(default_factory=dict)
    started_at: str = ""
    finished_at: str = ""
    warnings: list[str] = field(default_factory=list)

    def to_json(self) -> str:
        return json.dumps(dataclasses.asdict(self), indent=1, sort_keys=True)

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> Result:
        """Validate and build a Result; raise SchemaError saying what is wrong."""
        if not isinstance(raw, dict):
            raise SchemaError("not a JSON object")
        if raw.get("kind") != RESULT_KIND:
            raise SchemaError(f"kind is {raw.get('kind')!r}, not {RESULT_KIND!r}")
        if raw.get("schema_version") not in READABLE_VERSIONS:
            raise SchemaError(
                f"schema_version {raw.get('schema_version')!r} is not one of {READABLE_VERSIONS} "
                "(written by another quantbench version)"
            )
        names = {f.name for f in dataclasses.fields(cls)}
        missing = [n for n in ("variant", "runtime", "batch", "threads", "run_id") if n not in raw]
        if missing:
            raise SchemaError(f"missing fields: {', '.join(missing)}")
        result = cls(**{k: v for k, v in raw.items() if k in names})
        if result.status not in STATUSES:
            raise SchemaError(f"status {result.status!r} is not one of {STATUSES}")
        if not all(isinstance(t, (int, float)) and math.isfinite(t) for t in result.timings_s):
            raise SchemaError("timings_s holds a value that is not a finite number")
        for name in ("timing_process", "timing_round"):
            keys = getattr(result, name)
            if keys and len(keys) != len(result.timings_s):
                raise SchemaError(f"{name} has {len(keys)} entries for {len(result.timings_s)} timings")
        return result

    @property
    def model_name(self) -> str:
        """The model this result measured (results before v6: the name in its versions, else the
        built-in resnet50)."""
        return self.model or self.versions.get("model", "") or "resnet50"

    @property
    def effective_parallelism(self) -> float | None:
        """CPU time / wall time over the timed calls (None when not recorded)."""
        if self.timed_cpu_s is None or not self.timed_wall_s:
            return None
        return self.timed_cpu_s / self.timed_wall_s

    def file_name(self) -> str:
        """One file per (host, arch, variant, scenario, input size, batch, threads, run)."""
        scenario = f"_{self.scenario.lower()}" if self.scenario else ""
        shape = f"_s{self.input_size}" if self.input_size != SEED_INPUT_SIZE else ""
        return (
            f"{slug(self.host)}_{self.arch or 'unknown'}_{self.variant}{scenario}{shape}"
            f"_b{self.batch}_t{self.threads}_{slug(self.run_id)}.json"
        )


def set_aside(path: Path) -> Path:
    """Rename a result file that a new one replaces to ``<name>.<random>.superseded``, which no
    reader loads; a random part so that setting aside twice never overwrites the first."""
    aside = path.with_name(f"{path.name}.{uuid.uuid4().hex[:6]}.superseded")
    os.rename(path, aside)
    return aside


def slug(text: str) -> str:
    """text with every character that is not a letter, digit, - or . as -: safe in a file name."""
    return "".join(c if c.isalnum() or c in "-." else "-" for c in text)


def summarize_timings(timings_s: list[float], batch: int) -> dict[str, float | None]:
    """Percentiles (linear interpolation), mean, sample stdev and throughput."""
    if not timings_s:
        return dict.fromkeys(
            ("p50_s", "p90_s", "p99_s", "mean_s", "stdev_s", "min_s", "max_s", "throughput_ips", "jitter")
        )
    ordered = sorted(timings_s)
    p50 = percentile(ordered, 50)
    return {
        "p50_s": p50,
        "p90_s": percentile(ordered, 90),
        "p99_s": percentile(ordered, 99),
        "mean_s": statistics.fmean(ordered),
        "stdev_s": statistics.stdev(ordered) if len(ordered) > 1 else 0.0,
        "min_s": ordered[0],
        "max_s": ordered[-1],
        "throughput_ips": batch / p50 if p50 > 0 else None,
        "jitter": percentile(ordered, 99) / p50 if p50 > 0 else None,
    }


def percentile(ordered: list[float], pct: float) -> float:
    """Percentile of sorted values with linear interpolation (numpy's default)."""
    if not ordered:
        raise ValueError("percentile of no values")
    rank = (len(ordered) - 1) * pct / 100.0
    low = math.floor(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def stability_warnings(
    timings_s: list[float], processes: list[int] | None = None, variant: str = "this variant"
) -> list[str]:
    """What makes these timings rough, and the fix. None of these withholds a verdict: that is
    judged per comparison, on its rounds' ratios (``harness.intervals.round_disagreement``)."""
    warnings: list[str] = []
    if len(timings_s) < MIN_REPEATS:
        warnings.append(
            f"only {len(timings_s)} repeats (fewer than {MIN_REPEATS}): "
            "the percentiles are rough; rerun with more --repeats."
        )
    disagreement = process_disagreement(group_by_round(timings_s, processes or []))
    if disagreement is not None:
        warnings.append(disagreement.describe(variant))
    if timings_s and min(timings_s) < MIN_TIMING_S:
        warnings.append(
            f"shortest repeat is {1000 * min(timings_s):.3f} ms (under "
            f"{1000 * MIN_TIMING_S:.0f} ms): timer noise matters; use a larger --batch."
        )
    return warnings


def write_result(result: Result, directory: Path) -> Path:
    """Write atomically (temp file + link) and never overwrite an existing result.

    Raises FileExistsError when a result with the same name is already there.
    """
    directory.mkdir(parents=True, exist_ok=True)
    target = directory / result.file_name()
    payload = result.to_json().encode()
    fd, temp_name = tempfile.mkstemp(dir=directory, prefix=".tmp-", suffix=".json")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(payload)
            handle.flush()
            os.fsync(handle.fileno())
        os.link(temp_name, target)  # atomic, and fails if the target exists
    finally:
        os.unlink(temp_name)
    return target


def load_result(path: Path) -> Result:
    """Read one result file; raise SchemaError (with the reason) when it is not valid."""
    try:
        raw = json.loads(path.read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise SchemaError(f"cannot read JSON ({error})") from error
    return Result.from_dict(raw)


def find_result_files(directory: Path) -> list[Path]:
    """Every candidate result file below a directory: temp files and hidden folders (the host's
    own records, such as ``.verified/``) are skipped."""
    found = []
    for path in directory.rglob("*.json"):
        inside = path.relative_to(directory).parts
        if not path.name.startswith(".tmp-") and not any(part.startswith(".") for part in inside[:-1]):
            found.append(path)
    return sorted(found)


# --- progress events: what the bench tells the host while it works --------------------------
# With ``--events``, prepare and measure write one JSON line per event to stderr next to their
# free-text log; the host draws its bars from these and keeps the prose in the step's log file.
EVENT_KIND = "quantbench.event"
EVENT_VERSION = 1
EVENT_LEVELS = ("info", "warning", "error")


@dataclass(frozen=True)
class ProgressEvent:
    """How far one bench step is (done of total units), what it does now, or a message."""

    step: str  # "prepare" or "measure"
    done: int
    total: int
    detail: str = ""  # what it is doing now, a few words
    level: str = "info"  # "warning" and "error" are messages the console prints as well

    def to_line(self) -> str:
        return json.dumps({"kind": EVENT_KIND, "version": EVENT_VERSION, **dataclasses.asdict(self)})

    @classmethod
    def from_line(cls, line: str) -> ProgressEvent | None:
        """The event a line holds; None for any other line (free text, a foreign JSON line)."""
        text = line.strip()
        if not text.startswith("{") or EVENT_KIND not in text:
            return None
        try:
            raw = json.loads(text)
            if raw.pop("kind") != EVENT_KIND or raw.pop("version") != EVENT_VERSION:
                return None
            event = cls(**raw)
        except (ValueError, TypeError, KeyError, AttributeError):
            return None
        valid = isinstance(event.done, int) and isinstance(event.total, int) and event.level in EVENT_LEVELS
        return event if valid else None
