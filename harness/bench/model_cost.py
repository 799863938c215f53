"""What one image costs the network at its input side, counted from the model itself.

``model_cost`` reads a built tf_keras model; ``onnx_model_cost`` reads an ONNX file (any
exporter's, NCHW or NHWC) through ONNX shape inference at one input shape.

Multiply-adds are those of its convolutions and its dense layer (the usual count:
BatchNorm, pooling and additions are left out; every runtime folds or fuses
them). Weights are those layers' kernels and biases: what a call reads, once per
call whatever its batch. Together they give a call's arithmetic intensity, the
fact that decides whether int8's 4× smaller weights or its multiply-add rate
matters more.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class ModelCost:
    """Multiply-adds of one image and the weights of one call."""

    macs_per_image: int
    weight_count: int


def model_cost(model) -> ModelCost:
    """Count a built tf_keras model's Conv2D, DepthwiseConv2D and Dense layers (static shapes)."""
    import tf_keras as keras

    macs = weights = 0
    for layer in model.layers:
        if isinstance(layer, keras.layers.DepthwiseConv2D):
            kernel_h, kernel_w, channels, multiplier = layer.depthwise_kernel.shape
            _, out_h, out_w, _ = layer.output_shape
            macs += out_h * out_w * kernel_h * kernel_w * channels * multiplier
        elif isinstance(layer, keras.layers.Conv2D):
            kernel_h, kernel_w, in_per_group, out_channels = layer.kernel.shape
            _, out_h, out_w, _ = layer.output_shape
            macs += out_h * out_w * kernel_h * kernel_w * in_per_group * out_channels
        elif isinstance(layer, keras.layers.Dense):
            inputs, outputs = layer.kernel.shape
            macs += inputs * outputs
        else:
            continue
        weights += sum(int(w.shape.num_elements()) for w in layer.weights)
    return ModelCost(int(macs), int(weights))


# op type: (kernel's input index, bias's input index or None)
_CONVS = {"Conv": (1, 2), "ConvTranspose": (1, 2), "ConvInteger": (1, None), "QLinearConv": (3, 8)}
# op type: (A's input index, B's input index, bias's input index or None)
_MATMULS = {"Gemm": (0, 1, 2), "MatMul": (0, 1, None), "MatMulInteger": (0, 1, None)}
_MATMULS["QLinearMatMul"] = (0, 3, None)
# ops that hand a constant on with as many elements: a weight behind them is still a weight
_CARRIERS = {"DequantizeLinear", "Identity", "Cast", "Transpose", "Reshape", "Squeeze", "Unsqueeze"}
# an initializer over this many elements is no shape or axis: shape inference needs only its type
_LARGEST_SHAPE_CONSTANT = 1024


def onnx_model_cost(path: Path, input_shape: tuple[int, ...]) -> ModelCost:
    """Count an ONNX image classifier's convolutions and matrix products at input_shape (batch 1).

    Counted: Conv (any group), ConvTranspose, Gemm, and MatMul with a constant operand, with their
    integer forms (ConvInteger, QLinearConv, MatMulInteger, QLinearMatMul); an Add of a constant
    straight after one of them is its bias (Keras and tf2onnx write a dense layer as MatMul, Add).
    A weight is an initializer or a Constant, also behind DequantizeLinear, Identity, Cast or a
    reshaping op; each is counted once however many nodes read it. Left out, as for Keras: every
    other op (normalisation, pooling, activations, additions), quantization scales and zero points,
    products of two activations (attention's), nodes inside If/Loop/Scan bodies and ops of other
    domains (ONNX Runtime's QOperator QLinearAdd...: shape inference stops there). An exporter that
    folds a BatchNorm into the conv before it gives that conv a bias, which Keras's count lacks.

    The model's one input is set to input_shape on the loaded copy (the file is not touched) and
    ONNX shape inference gives every node's output; a shape it cannot settle raises ValueError
    naming the node.
    """
    import onnx

    input_shape = tuple(input_shape)
    if not input_shape or input_shape[0] != 1 or min(input_shape) < 1:
        raise ValueError(f"input_shape {input_shape} is not a batch-1 shape such as (1, 3, 224, 224).")
    model = onnx.load(str(path), load_external_data=True)  # external data: from the file's folder
    if model.functions:  # a local function's nodes are the model's too
        from onnx import inliner

        model = inliner.inline_local_functions(model)
    graph = model.graph
    constants = {tensor.name: tuple(tensor.dims) for tensor in graph.initializer}
    for node in graph.node:
        if node.op_type == "Constant" and node.domain in ("", "ai.onnx"):
            constants[node.output[0]] = _constant_shape(node)
    _set_input_shape(path, graph, constants, input_shape)
    shapes = {**constants, **_inferred_shapes(model)}
    producers = {output: node for node in graph.node for output in node.output}

    def known(node, name: str, shape: tuple | None) -> tuple[int, ...]:
        if shape is None or None in shape:
            label = node.name or f"{node.op_type} -> {node.output[0]}"
            raise ValueError(f"{path.name}: the shape of {name!r} at node {label!r} stays unknown.")
        return shape

    def weight(name: str) -> str | None:
        """The constant that name is or carries on, if any."""
        while name not in constants:
            producer = producers.get(name)
            if producer is None or producer.op_type not in _CARRIERS:
                return None
            name = producer.input[0]
        return name

    macs, read, layer_outputs = 0, set(), set()
    for node in (node for node in graph.node if node.domain in ("", "ai.onnx")):
        inputs = list(node.input)
        if node.op_type in _CONVS:
            kernel_at, bias_at = _CONVS[node.op_type]
            kernel = known(node, inputs[kernel_at], shapes.get(inputs[kernel_at]))
            # each output element (ConvTranspose: each input element) meets C/group × kH × kW weights
            spread = inputs[0] if node.op_type == "ConvTranspose" else node.output[0]
            macs += math.prod(known(node, spread, shapes.get(spread))) * math.prod(kernel[1:])
            operands = [kernel_at, bias_at]
        elif node.op_type in _MATMULS:
            a_at, b_at, bias_at = _MATMULS[node.op_type]
            if weight(inputs[a_at]) is None and weight(inputs[b_at]) is None:
                continue  # activations times activations: no weights of its own
            depth = _inner_depth(node, shapes.get(inputs[a_at]), shapes.get(inputs[b_at]))
            rows_by_columns = known(node, node.output[0], shapes.get(node.output[0]))
            macs += math.prod(rows_by_columns) * known(node, inputs[a_at], (depth,))[0]
            operands = [a_at, b_at, bias_at]
        elif node.op_type == "Add" and layer_outputs.intersection(inputs):
            read.update(filter(None, map(weight, inputs)))  # the bias of the layer before
            continue
        elif node.op_type in ("QuantizeLinear", "DequantizeLinear") and inputs[0] in layer_outputs:
            layer_outputs.update(node.output)  # a QDQ model quantizes a layer's output before its bias
            continue
        else:
            continue
        layer_outputs.update(node.output)
        named = [inputs[at] for at in operands if at is not None and at < len(inputs)]
        read.update(filter(None, map(weight, named)))
    return ModelCost(int(macs), int(sum(math.prod(constants[name]) for name in read)))


def _constant_shape(node) -> tuple[int, ...]:
    import onnx

    value = onnx.helper.get_attribute_value(node.attribute[0])
    if isinstance(value, (onnx.TensorProto, onnx.SparseTensorProto)):
        return tuple(value.dims)
    return (len(value),) if isinstance(value, list) else ()


def _set_input_shape(path: Path, graph, constants: dict, input_shape: tuple[int, ...]) -> None:
    """Give the one input input_shape; take large initializers out of shape inference's way."""
    import onnx

    images = [value for value in graph.input if value.name not in constants]
    if len(images) != 1:
        names = ", ".join(value.name for value in images)
        raise ValueError(f"{path.name} has {len(images)} inputs ({names}); an image classifier has one.")
    dims = images[0].type.tensor_type.shape.dim
    fixed = tuple(dim.dim_value or side for dim, side in zip(dims, input_shape, strict=False))  # 0: free
    if dims and (len(dims) != len(input_shape) or fixed != input_shape):
        raise ValueError(f"{path.name}: input {images[0].name!r} cannot take the shape {input_shape}.")
    del dims[:]
    for side in input_shape:
        images[0].type.tensor_type.shape.dim.add().dim_value = side
    # inference then neither copies the weights nor meets protobuf's 2 GB limit
    listed, typed = {value.name for value in graph.input}, onnx.helper.make_tensor_value_info
    for index in reversed(range(len(graph.initializer))):
        tensor = graph.initializer[index]
        if math.prod(tensor.dims) > _LARGEST_SHAPE_CONSTANT:
            if tensor.name not in listed:
                graph.input.append(typed(tensor.name, tensor.data_type, tensor.dims))
            del graph.initializer[index]
    del graph.value_info[:]  # an exporter's own shapes (unk__ dims) must not outlive the new input


def _inferred_shapes(model) -> dict[str, tuple[int | None, ...]]:
    import onnx

    inferred = onnx.shape_inference.infer_shapes(model, check_type=False, strict_mode=False, data_prop=True)
    shapes = {}
    for value in (*inferred.graph.input, *inferred.graph.value_info, *inferred.graph.output):
        if value.type.tensor_type.HasField("shape"):
            dims = value.type.tensor_type.shape.dim
            shapes[value.name] = tuple(dim.dim_value if dim.HasField("dim_value") else None for dim in dims)
    return shapes


def _inner_depth(node, a_shape, b_shape) -> int | None:
    """K of a matrix product (rows × K by K × columns), from whichever operand's shape is known."""
    flags = {attribute.name: attribute.i for attribute in node.attribute}
    if node.op_type == "Gemm":
        a_at, b_at = (0 if flags.get("transA") else 1), (1 if flags.get("transB") else 0)
    else:
        a_at, b_at = -1, (-2 if b_shape and len(b_shape) > 1 else 0)
    for shape, at in ((a_shape, a_at), (b_shape, b_at)):
        if shape and shape[at] is not None:
            return shape[at]
    return None
