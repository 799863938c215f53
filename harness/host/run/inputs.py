"""A user's model and images, checked on the host and sent into a volume the prepare container reads.

Containers run with no network and see no host folder: ``--model PATH`` (a file,
an ONNX file's external data beside it, or a SavedModel folder) and ``--data
imagefolder:DIR``, ``npz:FILE`` or ``cifar100:DIR`` are copied into one read-only
volume per run, under their own names (the report names them so). What the
files hold is checked by prepare; here only that they are there and of a kind
prepare reads, so a mistyped path costs no image build.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from harness.errors import UserError

if TYPE_CHECKING:
    import docker

MOUNT = "/mnt/data"
BUILTIN_MODELS = ("resnet50", "tiny")
MODEL_SUFFIXES = (".keras", ".h5", ".hdf5", ".onnx")
DATA_FILES = {"cifar100": "dir", "imagefolder": "dir", "npz": "file"}


@dataclass(frozen=True)
class Staged:
    """The --model and --data a prepare container is given, and the volume holding them (or None)."""

    model: str
    data: str
    volume: str | None = None


def model_path(model: str) -> Path | None:
    """The user's model file or folder (None: a built-in model); UserError when it cannot be one."""
    if model in BUILTIN_MODELS:
        return None
    path = Path(model).expanduser()
    if not path.exists():
        if "/" not in model and "." not in model:
            raise UserError(
                f"unknown model {model!r}; choose one of: {', '.join(BUILTIN_MODELS)}, or give the path of a "
                ".keras, .h5 or .onnx file or a TensorFlow SavedModel folder."
            )
        raise UserError(f"--model {model}: no such file or folder.")
    if path.is_dir() and (path / "saved_model.pb").is_file():
        return path.resolve()
    if path.is_file() and path.suffix.lower() in MODEL_SUFFIXES:
        return path.resolve()
    raise UserError(
        f"{path.name} is not a model quantbench reads: give a .keras, .h5 or .onnx file or a TensorFlow "
        "SavedModel folder."
    )


def data_path(data: str) -> Path | None:
    """The folder or file behind ``--data KIND:PATH`` (None: data in the image, e.g. digits)."""
    kind, _, text = data.partition(":")
    if kind not in DATA_FILES:
        return None
    if not text:
        raise UserError(f"--data {data!r} names no path; write it as {kind}:PATH.")
    path = Path(text).expanduser()
    wanted = DATA_FILES[kind]
    if (wanted == "dir" and not path.is_dir()) or (wanted == "file" and not path.is_file()):
        raise UserError(f"--data {data}: no such {'folder' if wanted == 'dir' else 'file'}.")
    return path.resolve()


def model_files(path: Path) -> dict[str, Path]:
    """What to copy for a model: the file (or folder), and an ONNX file's external data beside it."""
    files = {path.name: path}
    if path.suffix.lower() == ".onnx":
        from harness.bench.sources.onnx_file import external_data_files

        files.update({extra.name: extra for extra in external_data_files(path)})
    return files


def stage(client: docker.DockerClient, image: str, model: str, data: str, run_id: str) -> Staged:
    """Copy the user's model and data into a new volume; the arguments prepare then takes."""
    from harness.host.engine import volumes

    model_at, data_at = model_path(model), data_path(data)
    if model_at is None and data_at is None:
        return Staged(model, data)
    uploads: dict[str, Path] = {}
    staged_model, staged_data = model, data
    if model_at is not None:
        uploads.update({f"model/{name}": file for name, file in model_files(model_at).items()})
        staged_model = f"{MOUNT}/model/{model_at.name}"
    if data_at is not None:
        kind = data.partition(":")[0]
        uploads[f"data/{data_at.name}"] = data_at
        staged_data = f"{kind}:{MOUNT}/data/{data_at.name}"
    volume = volumes.create_volume(client, f"quantbench-inputs-{run_id}")
    try:
        volumes.upload(client, image, volume, uploads)
    except BaseException:
        volumes.remove_volume(client, volume)
        raise
    return Staged(staged_model, staged_data, volume)


def default_artifacts(model: str, repo_root: Path) -> Path:
    """Where a model's artifacts live on the host by default: ``artifacts/`` for the built-in one,
    ``artifacts-<file name>/`` for a user's (``artifacts-mobilenetv2.onnx``), so none replaces another's."""
    path = model_path(model)
    if path is None:
        return repo_root / "artifacts"
    name = "".join(c if c.isalnum() or c in "-_." else "-" for c in path.name)
    return repo_root / f"artifacts-{name}"
