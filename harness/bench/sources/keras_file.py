"""A user's Keras model: a ``.keras`` file (Keras 3), a legacy ``.h5``, or a SavedModel folder.

Loaded with Keras's safe mode: no code from the file runs. A model that needs
custom code (a registered custom layer, a ``Lambda``) is refused, naming the
layer. The model is measured as given: no rewrite, no training, so the variants
that need quantization-aware training here (``tf-fakequant``, ``tflite-int8-qat``)
are not made; every other variant is converted from it.
"""

from __future__ import annotations

import json
import zipfile
from pathlib import Path
from typing import Any

import numpy as np

from harness.bench.sources.base import FLOAT, QAT, TRAINED, InputSpec, NotMade
from harness.bench.sources.keras_graphs import INPUT_NAME, KerasGraphs
from harness.bench.sources.user_model import UserModel, image_input
from harness.errors import UserError

SUFFIXES = (".keras", ".h5", ".hdf5")
NO_QAT = (
    "needs a quantization-aware model, which quantbench makes only for the model it trains itself "
    "(a user's model is measured as given)"
)
PREDICT_BATCH = 64


def matches(path: Path) -> bool:
    return path.suffix.lower() in SUFFIXES or (path.is_dir() and (path / "saved_model.pb").is_file())


class KerasFile(UserModel):
    """A Keras model file or SavedModel folder, loaded once."""

    kind = "keras"

    def __init__(self, path: Path) -> None:
        super().__init__(path)
        self._model = _load(path)
        self._serve = None if hasattr(self._model, "inputs") else _signature(path, self._model)

    def input_spec(self, requested: int | None) -> InputSpec:
        if self._serve is None:
            if len(self._model.inputs) != 1:
                raise UserError(
                    f"{self.name} takes {len(self._model.inputs)} inputs; quantbench measures image "
                    "classifiers with one input, an image batch."
                )
            shape, dtype = tuple(self._model.inputs[0].shape), str(self._model.inputs[0].dtype)
        else:
            (spec,) = self._serve.structured_input_signature[1].values()
            shape, dtype = tuple(spec.shape), spec.dtype.name
        return image_input(self.name, shape, dtype, requested, layouts=("NHWC",))

    def graphs(self, spec: InputSpec, calibration: np.ndarray) -> KerasGraphs:
        if self._serve is not None:
            return _SavedModelGraphs(self._serve, self._model, spec)
        missing = {QAT: NO_QAT}
        return KerasGraphs({FLOAT: self._model, TRAINED: self._model}, missing)

    def scores(self, inputs: np.ndarray) -> np.ndarray:
        if self._serve is None:
            return np.asarray(self._model.predict(inputs, batch_size=PREDICT_BATCH, verbose=0))
        chunks = [
            _call(self._serve, inputs[i : i + PREDICT_BATCH]) for i in range(0, len(inputs), PREDICT_BATCH)
        ]
        return np.concatenate(chunks)

    def params(self) -> int:
        if self._serve is None:
            return int(self._model.count_params())
        return int(sum(np.prod(v.shape) for v in self._model.variables))


def _load(path: Path):
    """The model (Keras 3, safe mode) or, for a SavedModel folder, the loaded TensorFlow object."""
    if path.is_dir():
        import tensorflow as tf

        try:
            return tf.saved_model.load(str(path))
        except Exception as error:  # TensorFlow raises many kinds for a broken folder
            raise UserError(
                f"{path} is not a loadable TensorFlow SavedModel ({_first_line(error)})."
            ) from error
    import keras

    custom = _custom_layers(path)
    if custom:
        raise UserError(
            f"{path.name} needs custom code to load ({'; '.join(custom[:3])}); quantbench loads Keras files "
            "in safe mode and runs no code from them: rebuild those layers from Keras's own layers, or "
            "export the model to ONNX (model.export('model.onnx', format='onnx')) and pass that."
        )
    try:
        return keras.saving.load_model(str(path), safe_mode=True, compile=False)
    except Exception as error:  # Keras raises ValueError, TypeError, OSError... for a bad file
        raise UserError(
            f"{path.name} is not a Keras model quantbench can load ({_first_line(error)})."
        ) from error


def _custom_layers(path: Path) -> list[str]:
    """Layers of a .keras or .h5 file's config that only custom code can build (by name)."""
    config = _file_config(path)
    found = []
    for layer in _layers(config):
        module = str(layer.get("module") or "")
        name = layer.get("config", {}).get("name", "?") if isinstance(layer.get("config"), dict) else "?"
        kind = layer.get("class_name", "?")
        registered = layer.get("registered_name")
        if kind == "Lambda":
            found.append(f"layer {name!r} is a Lambda (Python code)")
        # Keras's own layers come from its modules and are registered under their class name, if at all
        elif (registered and registered != kind) or (module and not module.startswith("keras")):
            where = f" from module {module!r}" if module else ""
            found.append(f"layer {name!r} is the custom class {registered or kind!r}{where}")
    return found


def _file_config(path: Path) -> dict[str, Any]:
    """The model config a .keras zip or an .h5 file holds ({} when it cannot be read: load says why)."""
    try:
        if path.suffix.lower() == ".keras":
            with zipfile.ZipFile(path) as archive:
                return json.loads(archive.read("config.json"))
        import h5py

        with h5py.File(path, "r") as handle:
            raw = handle.attrs.get("model_config")
            return json.loads(raw.decode() if isinstance(raw, bytes) else raw) if raw is not None else {}
    except (OSError, KeyError, ValueError, zipfile.BadZipFile):
        return {}


def _layers(config: Any):
    """Every layer dict in a (nested) Keras model config."""
    if isinstance(config, dict):
        inner = config.get("config")
        if isinstance(inner, dict) and isinstance(inner.get("layers"), list):
            for layer in inner["layers"]:
                yield layer
                yield from _layers(layer)
    elif isinstance(config, list):
        for item in config:
            yield from _layers(item)


def _signature(path: Path, loaded):
    """The SavedModel's ``serving_default`` signature: one image input, one output."""
    signature = getattr(loaded, "signatures", {}).get("serving_default")
    if signature is None:
        raise UserError(f"the SavedModel {path} has no 'serving_default' signature; export it with one.")
    inputs = signature.structured_input_signature[1]
    if len(inputs) != 1 or len(signature.structured_outputs) != 1:
        raise UserError(
            f"the SavedModel {path}'s serving signature takes {len(inputs)} input(s) and gives "
            f"{len(signature.structured_outputs)} output(s); quantbench measures one image batch in, "
            "class scores out."
        )
    return signature


def _call(signature, images: np.ndarray) -> np.ndarray:
    import tensorflow as tf

    (name,) = signature.structured_input_signature[1]
    (output,) = signature(**{name: tf.constant(images)}).values()
    return output.numpy()


class _SavedModelGraphs(KerasGraphs):
    """A SavedModel folder's serving function, re-saved with the ``serve`` name every runner calls."""

    def __init__(self, signature, loaded, spec: InputSpec) -> None:
        super().__init__({}, {QAT: NO_QAT})
        self._signature, self._loaded, self._spec = signature, loaded, spec

    def _function(self):
        import tensorflow as tf

        shape = [None, self._spec.height, self._spec.width, self._spec.channels]
        return tf.function(
            lambda images: _call_tensor(self._signature, images),
            input_signature=[tf.TensorSpec(shape, tf.float32, name=INPUT_NAME)],
        )

    def saved_model(self, role: str, target: Path) -> None:
        import tensorflow as tf

        if role == QAT:
            raise NotMade(NO_QAT)
        module = tf.Module()
        module.loaded = self._loaded
        module.serve = self._function()
        tf.saved_model.save(module, str(target))

    def onnx(self, target: Path) -> None:
        import tf2onnx

        function = self._function()
        tf2onnx.convert.from_function(
            function, input_signature=function.input_signature, opset=17, output_path=str(target)
        )


def _call_tensor(signature, images):
    (name,) = signature.structured_input_signature[1]
    (output,) = signature(**{name: images}).values()
    return output


def _first_line(error: BaseException) -> str:
    lines = [line.strip() for line in str(error).splitlines() if line.strip()]
    return (lines[0][:300] if lines else "") or type(error).__name__
