"""The model and data block: which model the results measured, on which images, and which
variants its artifact set could not make.

One ``ModelEntry`` per distinct model (name, kind, sha256 of a user's file), from the results
alone; the console and markdown print its ``text`` and one line per reason some variants were
not made, and the JSON export carries the entries as they are.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from harness.report import fmt
from harness.runtime_registry import runtimes
from harness.schema import STATUS_OK, VARIANTS, Result

BUILTIN = "builtin"
KIND_NAMES = {BUILTIN: "built in, trained here", "keras": "Keras file", "onnx": "ONNX file"}
SHA256_SHOWN = 12  # hex digits of a user file's sha256 the report prints

ModelKey = tuple[str, str, str]  # (model name, kind, sha256)


@dataclass
class NotMade:
    """Variants the artifact set could not make for one reason."""

    variants: list[str]
    reason: str

    @property
    def text(self) -> str:
        return f"not made: {', '.join(self.variants)} — {self.reason}"


@dataclass
class ModelEntry:
    """One model among the results: where it came from, the data it was measured on, its input."""

    name: str  # "resnet50", "tiny", or a user's file name such as "mobilenetv2.keras"
    kind: str  # "builtin", "keras" or "onnx"
    sha256: str  # the user's file's sha256 ("" for the built-in model)
    sha256_short: str  # its first SHA256_SHOWN hex digits
    data: list[str]  # e.g. ["digits"], ["imagefolder:images"] ([] when no result names it)
    eval_images: int  # the largest eval set among its results (emulated runs evaluate fewer)
    labelled: bool  # some ok result has a top-1: the data has labels
    input_sizes: list[int]  # image sides (H = W) it was measured at
    layouts: dict[str, list[str]]  # input layout -> the runtimes (families) whose variants take it
    normalize: list[str]  # the named normalizations its images got ([] before schema 6)
    not_made: list[NotMade] = field(default_factory=list)
    text: str = ""  # the block's line, e.g. "model: resnet50 (built in, trained here) on digits (…)"

    @property
    def builtin(self) -> bool:
        return self.kind == BUILTIN


def model_key(result: Result) -> ModelKey:
    """Which model a result measured; results before schema 6 measured a built-in one."""
    return (result.model_name, result.model_kind or BUILTIN, result.model_sha256)


def build_models(results: Sequence[Result]) -> list[ModelEntry]:
    """One entry per distinct model among the results, in order of name."""
    by_model: dict[ModelKey, list[Result]] = {}
    for result in results:
        by_model.setdefault(model_key(result), []).append(result)
    entries = [_entry(key, group) for key, group in sorted(by_model.items())]
    for entry in entries:
        entry.text = model_text(entry)
    return entries


def model_text(entry: ModelEntry) -> str:
    """The model line: what the model is (a user's: its file, input and normalization), and the
    data it was measured on."""
    details = KIND_NAMES.get(entry.kind, f"{entry.kind} file")
    if not entry.builtin:
        sha256 = f", sha256 {entry.sha256_short}" if entry.sha256_short else ""
        normalized = " / ".join(f"'{name}'" for name in entry.normalize)
        pixels = f", pixels normalized {normalized}" if normalized else ""
        details += f"{sha256}; {_input_text(entry)}{pixels}"
    data = ", ".join(entry.data) if entry.data else "unnamed data"
    labels = "labelled" if entry.labelled else "unlabelled: no top-1"
    return f"model: {entry.name} ({details}) on {data} ({entry.eval_images} eval images, {labels})"


def _entry(key: ModelKey, results: list[Result]) -> ModelEntry:
    name, kind, sha256 = key
    layouts: dict[str, list[str]] = {}
    for result in results:
        families = layouts.setdefault(result.input_layout or "NHWC", [])
        if result.family and result.family not in families:
            families.append(result.family)
    return ModelEntry(
        name=name,
        kind=kind,
        sha256=sha256,
        sha256_short=sha256[:SHA256_SHOWN],
        data=_distinct(result.data for result in results),
        eval_images=max(result.eval_images for result in results),
        labelled=any(result.status == STATUS_OK and result.top1 is not None for result in results),
        input_sizes=sorted({result.input_size for result in results}),
        layouts=dict(sorted(layouts.items())),
        normalize=_distinct(result.normalize for result in results),
        not_made=_not_made(results),
    )


def _not_made(results: list[Result]) -> list[NotMade]:
    """The union of the results' variants_not_made (a newer run's reason wins for a variant),
    grouped by identical reason, variants in the registry's order."""
    reasons: dict[str, str] = {}
    for result in sorted(results, key=lambda r: (r.finished_at or r.started_at or "", r.run_id)):
        reasons.update(result.variants_not_made)
    order = {name: index for index, name in enumerate(VARIANTS)}
    grouped: dict[str, list[str]] = {}
    for variant in sorted(reasons, key=lambda name: (order.get(name, len(order)), name)):
        grouped.setdefault(reasons[variant].strip(), []).append(variant)
    return [NotMade(variants=variants, reason=reason) for reason, variants in grouped.items()]


def _input_text(entry: ModelEntry) -> str:
    """ "input 64×64 NHWC"; with variants in several layouts, which runtimes take which: "input
    224×224 NCHW (ONNX Runtime, OpenVINO) / NHWC (LiteRT)". (Results do not record channels.)"""
    sides = " and ".join(fmt.shape(size) for size in entry.input_sizes)
    if len(entry.layouts) == 1:
        return f"input {sides} {next(iter(entry.layouts))}"
    labels = {runtime.name: runtime.label for runtime in runtimes()}
    parts = [
        f"{layout} ({', '.join(labels.get(family, family) for family in families)})"
        for layout, families in entry.layouts.items()
    ]
    return f"input {sides} {' / '.join(parts)}"


def _distinct(values: Iterable[str]) -> list[str]:
    """The non-empty values, each once, in sorted order."""
    return sorted({value for value in values if value})
