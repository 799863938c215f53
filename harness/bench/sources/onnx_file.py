"""A user's ONNX model: ONNX Runtime and OpenVINO take it as it is, LiteRT through onnx2tf.

The reference (what every float32 variant must compute) is ONNX Runtime with
every graph optimization off: the plainest run of the file.

LiteRT's variants, and ``tf-fp32``, start from a TensorFlow model made by
``onnx2tf`` (NCHW inputs become NHWC, as LiteRT users ship them), converted from ONNX Runtime's
basic-optimized graph (constants folded, BatchNorm fused into the convolutions,
Transposes cancelled): onnx2tf refuses tf2onnx's own exports of Keras models
as they are (measured: a Keras MobileNetV2's BatchNorm left as Mul/Add beside
Transposes). The TensorFlow model must give the ONNX model's scores on the
calibration images, or the LiteRT variants are not made.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np

from harness.bench.sources.base import QAT, InputSpec, NotMade, first_sentence
from harness.bench.sources.keras_graphs import save_serving_graph
from harness.bench.sources.user_model import UserModel, image_input
from harness.errors import UserError

SUFFIXES = (".onnx",)
PREDICT_BATCH = 64
# onnx2tf's float graph against the ONNX model's, relative to the largest score
MAX_CONVERSION_DIFFERENCE = 1e-3
CHECK_IMAGES = 16
NO_QAT = (
    "needs a quantization-aware model, which quantbench makes only for the model it trains itself "
    "(a user's model is measured as given)"
)


def matches(path: Path) -> bool:
    return path.suffix.lower() in SUFFIXES


class OnnxFile(UserModel):
    """An ONNX file (its external data in its own folder), checked without running anything."""

    kind = "onnx"

    def __init__(self, path: Path) -> None:
        super().__init__(path)
        import onnx

        try:
            self._proto = onnx.load(str(path), load_external_data=False)
        except Exception as error:  # protobuf's DecodeError, OSError...
            raise UserError(f"{path.name} is not an ONNX model ({first_sentence(error)}).") from error
        if not self._proto.graph.node:
            raise UserError(f"{path.name} is not an ONNX model: it holds no graph.")
        self._external = _external_files(path, self._proto)
        initializers = {tensor.name for tensor in self._proto.graph.initializer}
        self._inputs = [value for value in self._proto.graph.input if value.name not in initializers]
        self._session = None

    def files(self) -> list[Path]:
        return [self.path, *self._external]

    def input_spec(self, requested: int | None) -> InputSpec:
        if len(self._inputs) != 1:
            raise UserError(
                f"{self.name} takes {len(self._inputs)} inputs; quantbench measures image classifiers "
                "with one "
                "input, an image batch."
            )
        import onnx

        tensor = self._inputs[0].type.tensor_type
        shape = tuple(d.dim_value if d.HasField("dim_value") else None for d in tensor.shape.dim)
        dtype = onnx.helper.tensor_dtype_to_np_dtype(tensor.elem_type).name if tensor.elem_type else "?"
        return image_input(self.name, shape, dtype, requested)

    def graphs(self, spec: InputSpec, calibration: np.ndarray) -> OnnxGraphs:
        return OnnxGraphs(self, spec, calibration)

    @property
    def input_name(self) -> str:
        return self._inputs[0].name

    def scores(self, inputs: np.ndarray) -> np.ndarray:
        """ONNX Runtime's scores with every graph optimization off, for float32 NHWC inputs."""
        import onnxruntime as ort

        if self._session is None:
            options = ort.SessionOptions()
            options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
            options.log_severity_level = 3
            self._session = ort.InferenceSession(str(self.path), options, providers=["CPUExecutionProvider"])
        layout = self.input_spec(inputs.shape[1]).layout
        fed = inputs.transpose(0, 3, 1, 2) if layout == "NCHW" else inputs
        chunks = []
        for start in range(0, len(fed), PREDICT_BATCH):
            chunk = np.ascontiguousarray(fed[start : start + PREDICT_BATCH], dtype=np.float32)
            chunks.append(self._session.run(None, {self.input_name: chunk})[0])
        return np.concatenate(chunks)

    def params(self) -> int:
        return int(sum(np.prod(tensor.dims) for tensor in self._proto.graph.initializer))


class OnnxGraphs:
    """The ONNX file for ONNX Runtime and OpenVINO; onnx2tf's TensorFlow model for LiteRT."""

    def __init__(self, source: OnnxFile, spec: InputSpec, check_inputs: np.ndarray) -> None:
        self._source = source
        self._spec = spec
        self.onnx_layout = spec.layout
        self._converted = None  # onnx2tf's tf_keras model, or the NotMade it raised
        self._check_inputs = check_inputs  # float32 NHWC images the conversion must match on

    def onnx(self, target: Path) -> None:
        """The file with its external data inside, its image sides static (a dynamic height and
        width fixed at the measured side: OpenVINO compiles static shapes)."""
        import onnx

        model = onnx.load(str(self._source.path), load_external_data=True)
        (value,) = [v for v in model.graph.input if v.name == self._source.input_name]
        dims = value.type.tensor_type.shape.dim
        sides = (1, 2, 3) if self._spec.layout == "NHWC" else (2, 3, 1)
        sizes = (self._spec.height, self._spec.width, self._spec.channels)
        for index, size in zip(sides, sizes, strict=True):
            if not dims[index].HasField("dim_value"):
                dims[index].dim_value = size
        onnx.save(model, str(target))

    def saved_model(self, role: str, target: Path) -> None:
        if role == QAT:
            raise NotMade(NO_QAT)
        model = self._tensorflow_model()
        save_serving_graph(model, target)

    def _tensorflow_model(self):
        if isinstance(self._converted, NotMade):
            raise self._converted
        if self._converted is None:
            try:
                self._converted = self._convert()
            except NotMade as not_made:
                self._converted = not_made
                raise
        return self._converted

    def _convert(self):
        with tempfile.TemporaryDirectory(prefix="quantbench-onnx2tf-") as scratch:
            folder = Path(scratch)
            self.onnx(folder / "model.onnx")
            optimized = _basic_optimized(folder / "model.onnx", folder / "optimized.onnx")
            try:
                import onnx2tf

                keep = [self._source.input_name] if self._spec.layout == "NHWC" else None
                model = onnx2tf.convert(
                    input_onnx_file_path=str(optimized),
                    output_folder_path=str(folder / "out"),
                    disable_model_save=True,
                    not_use_onnxsim=True,
                    non_verbose=True,
                    keep_shape_absolutely_input_names=keep,
                )
            except (Exception, SystemExit) as error:  # onnx2tf raises (or exits) on an op it cannot convert
                raise NotMade(f"onnx2tf could not convert it ({first_sentence(error)})") from error
        self._check(model)
        return model

    def _check(self, model) -> None:
        """onnx2tf's model must compute the ONNX model's scores (its input is NHWC)."""
        images = self._check_inputs[:CHECK_IMAGES]
        expected = self._source.scores(images)
        got = np.asarray(model(images, training=False))
        if got.shape != expected.shape:
            raise NotMade(
                f"onnx2tf's TensorFlow model gives scores of shape {got.shape}, not {expected.shape}"
            )
        difference = float(np.max(np.abs(got - expected)) / max(1.0, float(np.max(np.abs(expected)))))
        if difference > MAX_CONVERSION_DIFFERENCE:
            raise NotMade(
                f"onnx2tf's TensorFlow model differs from the ONNX model by {difference:.2g} on "
                f"{len(images)} calibration images (more than {MAX_CONVERSION_DIFFERENCE:g})"
            )


def _basic_optimized(source: Path, target: Path) -> Path:
    """ONNX Runtime's basic-level optimized graph, saved (constant folding, BatchNorm fusion)."""
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_BASIC
    options.optimized_model_filepath = str(target)
    options.log_severity_level = 3
    try:
        ort.InferenceSession(str(source), options, providers=["CPUExecutionProvider"])
    except Exception as error:
        raise NotMade(f"ONNX Runtime could not optimize it for onnx2tf ({first_sentence(error)})") from error
    return target


def external_data_files(path: Path) -> list[Path]:
    """The external data files an ONNX file names (each checked to be inside its folder)."""
    import onnx

    try:
        proto = onnx.load(str(path), load_external_data=False)
    except Exception as error:  # protobuf's DecodeError, OSError...
        raise UserError(f"{path.name} is not an ONNX model ({first_sentence(error)}).") from error
    return _external_files(path, proto)


def _external_files(path: Path, proto) -> list[Path]:
    """The external data files an ONNX model names, each inside its folder; UserError otherwise."""
    folder = path.parent.resolve()
    files: dict[Path, None] = {}
    tensors = list(proto.graph.initializer)
    for tensor in tensors:
        if tensor.data_location != 1:  # onnx.TensorProto.EXTERNAL
            continue
        location = next((entry.value for entry in tensor.external_data if entry.key == "location"), "")
        resolved = (folder / location).resolve()
        if not resolved.is_relative_to(folder):
            raise UserError(
                f"{path.name}'s tensor {tensor.name!r} keeps its data at {location!r}, outside the model's "
                f"folder {folder}; quantbench reads external data only from that folder: move the file there "
                "and save the model again (onnx.save_model(..., location='NAME.data'))."
            )
        if not resolved.is_file():
            raise UserError(
                f"{path.name}'s tensor {tensor.name!r} keeps its data in {location!r}, which is not in "
                f"{folder}; copy that file beside the model."
            )
        files[resolved] = None
    return list(files)
