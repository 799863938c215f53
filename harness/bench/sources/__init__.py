"""Where the model comes from, one module per kind (as ``runtimes/`` holds one folder per runtime):

- ``builtin``: the ResNet v2 quantbench trains itself (``--model resnet50``, ``tiny``);
- ``keras_file``: a user's ``.keras`` / ``.h5`` file or SavedModel folder;
- ``onnx_file``: a user's ``.onnx`` file.

Each gives prepare the same things (``base.Made``): the model's graphs in the
forms the converters start from, its own float scores as the reference, and what
it cannot be converted to (``base.NotMade``). The converters never ask which
source they hold. Adding a kind of file is one module with ``matches(path)`` and
a ``UserModel`` subclass, and one line in ``FILE_SOURCES``.
"""

from __future__ import annotations

from pathlib import Path

from harness.bench.model import MODEL_CONFIGS
from harness.errors import UserError

# module name -> the class it defines (imported only when a file of its kind is opened)
FILE_SOURCES = {"keras_file": "KerasFile", "onnx_file": "OnnxFile"}
KNOWN_FILES = ".keras, .h5 or .onnx file, or a TensorFlow SavedModel folder"


def is_user_model(model: str) -> bool:
    """Whether ``--model`` names a file or folder (a user's model), not a built-in model."""
    return model not in MODEL_CONFIGS


def open_user_model(model: str):
    """The user's model behind ``--model PATH``, loaded and checked; UserError with the fix when
    the path is missing or is not a model quantbench reads."""
    import importlib

    path = Path(model).expanduser()
    if not path.exists():
        if "/" not in model and "." not in model:
            raise UserError(
                f"unknown model {model!r}; choose one of: {', '.join(MODEL_CONFIGS)}, or give the path of a "
                f"{KNOWN_FILES}."
            )
        raise UserError(f"--model {model}: no such file or folder.")
    for module_name, class_name in FILE_SOURCES.items():
        module = importlib.import_module(f"harness.bench.sources.{module_name}")
        if module.matches(path):
            return getattr(module, class_name)(path.resolve())
    raise UserError(f"{path.name} is not a model quantbench reads: give a {KNOWN_FILES}.")
