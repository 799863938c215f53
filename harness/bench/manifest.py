"""The artifacts directory: every variant's file, its checksum, and how it was made.

``prepare`` writes it once; ``measure`` (on any architecture) refuses any
artifact whose sha256 no longer matches.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from harness.errors import UserError
from harness.schema import SEED_INPUT_SIZE

MANIFEST_NAME = "manifest.json"
MANIFEST_VERSION = 1
EVAL_FILE = "eval.npz"
CALIBRATION_FILE = "calibration.npz"  # the int8 files' calibration images (uint8) and labels


@dataclass
class ArtifactEntry:
    """One variant's artifact."""

    name: str
    runtime: str  # the runtime's registry name ("tf", "litert", ...)
    file: str  # relative to the artifacts directory
    sha256: str
    size_bytes: int
    conversion_s: float
    input_layout: str = "NHWC"  # of the file's input: a user's NCHW ONNX model keeps its layout
    recipe: dict[str, Any] = field(default_factory=dict)  # a tuning candidate's recipe (tune/recipe.py)


@dataclass
class Manifest:
    """What prepare made, from which inputs, with which tools."""

    model: str
    data: str
    data_fingerprint: str
    has_labels: bool
    num_classes: int
    epochs: int
    qat_epochs: int
    inputs_key: str  # hash of everything that decides the artifacts
    versions: dict[str, str]
    training: dict[str, Any]
    variants: list[ArtifactEntry] = field(default_factory=list)
    eval_file: str = EVAL_FILE
    manifest_version: int = MANIFEST_VERSION
    # the image side of this set (H = W) and the side its weights were trained at: a set at
    # another side (prepare --input-size) lives in the subfolder shape_folder(side)
    input_size: int = SEED_INPUT_SIZE
    trained_input_size: int = SEED_INPUT_SIZE
    # one image's multiply-adds and the weights of one call at this side (model_cost.py); 0: unknown
    macs_per_image: int = 0
    weight_count: int = 0
    # the seed set's trained float and QAT weights, which other sides' sets are made from
    source_weights: str = ""
    source_weights_sha256: str = ""
    # where the model came from ("builtin", or a user's "keras" or "onnx" file), the sha256 of a
    # user's file(s), its input as given, how its pixels are normalized (preprocess.py), whether it
    # outputs probabilities or logits, the variants this set could not make (variant -> the reason,
    # one sentence) and how the data was split into calibration and eval images
    model_kind: str = "builtin"
    model_sha256: str = ""
    input_layout: str = "NHWC"
    input_channels: int = 3
    normalize: str = "0-1"
    output_kind: str = "probabilities"
    not_made: dict[str, str] = field(default_factory=dict)
    data_split: dict[str, Any] = field(default_factory=dict)
    # a tune set (quantbench tune): every candidate the search tried, how it went (tune/recipe.py's
    # CandidateRecord as a dict), and the gate's maximum drop (None: the 99 % rule)
    tune_search: list[dict[str, Any]] = field(default_factory=list)
    tune_max_drop: float | None = None

    def entry(self, variant: str) -> ArtifactEntry:
        for entry in self.variants:
            if entry.name == variant:
                return entry
        if variant in self.not_made:
            raise UserError(f"variant {variant} was not made from {self.model}: {self.not_made[variant]}.")
        raise UserError(
            f"variant {variant!r} is not in this artifacts directory (it has: "
            f"{', '.join(e.name for e in self.variants)}); rerun prepare."
        )


def path_sha256(path: Path) -> str:
    """sha256 of a file, or of a directory's files (sorted relative names and contents)."""
    digest = hashlib.sha256()
    files = sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
    for file in files:
        if path.is_dir():
            digest.update(str(file.relative_to(path)).encode() + b"\0")
        with file.open("rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
    return digest.hexdigest()


def combined_sha256(paths: list[Path]) -> str:
    """sha256 of several files or folders: each one's name and content hash, in order."""
    digest = hashlib.sha256()
    for path in paths:
        digest.update(path.name.encode() + b"\0" + path_sha256(path).encode())
    return digest.hexdigest()


def path_size(path: Path) -> int:
    if path.is_dir():
        return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())
    return path.stat().st_size


def write_manifest(manifest: Manifest, directory: Path) -> Path:
    """Write atomically so a crash never leaves a half-written manifest."""
    target = directory / MANIFEST_NAME
    temp = directory / f".{MANIFEST_NAME}.tmp"
    temp.write_text(json.dumps(asdict(manifest), indent=1, sort_keys=True))
    os.replace(temp, target)
    return target


def read_manifest(directory: Path) -> Manifest:
    """Load a manifest; UserError with the fix when it is missing or unreadable."""
    path = directory / MANIFEST_NAME
    if not directory.is_dir():
        raise UserError(
            f"artifacts directory {directory} does not exist; run "
            f"'python -m harness prepare --out {directory}' first."
        )
    if not path.is_file():
        raise UserError(f"{directory} has no {MANIFEST_NAME}; run 'python -m harness prepare' into it.")
    try:
        raw = json.loads(path.read_text())
        if raw.get("manifest_version") != MANIFEST_VERSION:
            raise UserError(
                f"{path} has manifest_version {raw.get('manifest_version')!r}, not "
                f"{MANIFEST_VERSION}; rerun prepare with this quantbench."
            )
        raw["variants"] = [ArtifactEntry(**entry) for entry in raw["variants"]]
        return Manifest(**raw)
    except (json.JSONDecodeError, KeyError, TypeError) as error:
        raise UserError(f"{path} is corrupt ({error}); rerun prepare.") from error


def verify_artifact(directory: Path, entry: ArtifactEntry) -> Path:
    """Return the artifact's path after checking it exists and its sha256 matches."""
    path = directory / entry.file
    if not path.exists():
        raise UserError(f"artifact {path} for {entry.name} is missing; rerun prepare.")
    actual = path_sha256(path)
    if actual != entry.sha256:
        raise UserError(
            f"artifact {path} for {entry.name} does not match its manifest (sha256 "
            f"{actual[:12]}… vs {entry.sha256[:12]}…): it changed or is corrupt; rerun prepare."
        )
    return path


def shape_folder(input_size: int) -> str:
    """The subfolder of the artifacts directory that holds the set of another input side ("" for
    the seed's, which is the directory itself)."""
    return "" if input_size == SEED_INPUT_SIZE else f"{input_size}x{input_size}"


_SHAPE_FOLDER = re.compile(r"^(\d+)x\1$")


def folder_input_size(name: str) -> int | None:
    """The input side a subfolder named by ``shape_folder`` holds a set of (None: not such a name)."""
    match = _SHAPE_FOLDER.match(name)
    return int(match.group(1)) if match else None


def set_directory(artifacts: Path, input_size: int) -> Path:
    """Where the set of one input side is."""
    folder = shape_folder(input_size)
    return artifacts / folder if folder else artifacts


def verify_source_weights(directory: Path, manifest: Manifest) -> Path:
    """The seed set's source weights, checked against the manifest; UserError with the fix."""
    if not manifest.source_weights:
        raise UserError(f"{directory} was prepared without source weights; rerun prepare.")
    return verify_artifact(
        directory,
        ArtifactEntry("source weights", "", manifest.source_weights, manifest.source_weights_sha256, 0, 0.0),
    )


def intact_manifest(directory: Path, key: str, need_weights: bool = False) -> Manifest | None:
    """The manifest in directory if it was made from inputs ``key`` and every file it names is
    there and matches (its source weights too, with need_weights); else None (prepare again)."""
    try:
        existing = read_manifest(directory)
        if existing.inputs_key != key:
            return None
        for entry in existing.variants:
            verify_artifact(directory, entry)
        if need_weights:
            verify_source_weights(directory, existing)
    except UserError:
        return None
    return existing if (directory / existing.eval_file).is_file() else None
