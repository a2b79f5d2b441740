"""Reads a .tflite flatbuffer into a list of operators with their MAC and output counts.

Why: the simulated board's clock is a declared cycle model (MACs x cycles/MAC + per-output and
per-op costs), so it needs each operator's work, computed the way TFLM kernels do it.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path

import numpy as np

from tinyperf.errors import ModelError

_MAC_OPS = {"CONV_2D", "DEPTHWISE_CONV_2D", "FULLY_CONNECTED"}


@dataclass(frozen=True)
class OpInfo:
    """One operator of the model's main subgraph."""

    index: int
    op_type: str
    macs: int
    output_elements: int


@dataclass(frozen=True)
class TensorSpec:
    shape: tuple[int, ...]
    dtype: str
    scale: float
    zero_point: int

    @property
    def nbytes(self) -> int:
        return int(np.prod(self.shape)) * np.dtype(self.dtype).itemsize


@dataclass(frozen=True)
class ModelInfo:
    ops: tuple[OpInfo, ...]
    input: TensorSpec
    output: TensorSpec
    parameter_bytes: int = 0  # constant tensors (weights, biases) stored in the flatbuffer

    @property
    def total_macs(self) -> int:
        return sum(op.macs for op in self.ops)


_TFLITE_DTYPES = {0: "float32", 2: "int32", 3: "uint8", 9: "int8", 7: "int16"}


@cache
def builtin_names() -> dict[int, str]:
    from tflite_micro.python.tflite_micro.runtime import schema_fb

    return {v: k for k, v in vars(schema_fb.BuiltinOperator).items() if not k.startswith("_")}


def tensor_shape(tensor) -> list[int]:  # type: ignore[no-untyped-def]
    """A scalar tensor has no shape vector in the flatbuffer."""
    return [] if tensor.shape is None else [int(d) for d in tensor.shape]


def tensor_quantization(tensor) -> tuple[float, int]:  # type: ignore[no-untyped-def]
    """(scale, zero point) of the tensor (its first channel's when per-channel), (0.0, 0) if none."""
    q = tensor.quantization
    scale = float(q.scale[0]) if q is not None and q.scale is not None and len(q.scale) else 0.0
    zp = int(q.zeroPoint[0]) if q is not None and q.zeroPoint is not None and len(q.zeroPoint) else 0
    return scale, zp


def _tensor_spec(tensor) -> TensorSpec:  # type: ignore[no-untyped-def]
    scale, zp = tensor_quantization(tensor)
    return TensorSpec(tuple(tensor_shape(tensor)), _TFLITE_DTYPES.get(tensor.type, "int8"), scale, zp)


def parse_flatbuffer(data: bytes, source: str):  # type: ignore[no-untyped-def]
    """The model's object tree; raises ModelError naming `source` if the bytes are not a .tflite."""
    from tflite_micro.python.tflite_micro import runtime

    if len(data) < 8 or data[4:8] != b"TFL3":
        raise ModelError(f"{source}: not a TensorFlow Lite flatbuffer (no 'TFL3' identifier)")
    try:
        model = runtime.convert_bytearray_to_object(bytearray(data))
        _ = model.subgraphs[0]  # a model without a subgraph is as unusable as a truncated one
    except Exception as e:  # flatbuffers raises assorted errors on truncated data
        raise ModelError(f"{source}: cannot parse the flatbuffer ({e}); is the file truncated?") from e
    return model


def op_type_of(model, op) -> str:  # type: ignore[no-untyped-def]
    """The builtin operator's name (CONV_2D...), or CUSTOM."""
    code = model.operatorCodes[op.opcodeIndex]
    return builtin_names().get(max(code.builtinCode, code.deprecatedBuiltinCode), "CUSTOM")


def _macs(op_type: str, out_elems: int, weights_shape: tuple[int, ...]) -> int:
    weights_shape = tuple(int(d) for d in weights_shape)
    if op_type == "CONV_2D":  # weights O,H,W,I: each output sums H*W*I products
        return out_elems * weights_shape[1] * weights_shape[2] * weights_shape[3]
    if op_type == "DEPTHWISE_CONV_2D":  # weights 1,H,W,O
        return out_elems * weights_shape[1] * weights_shape[2]
    if op_type == "FULLY_CONNECTED":  # weights O,I
        return out_elems * weights_shape[1]
    return 0


def read_model_info(data: bytes, source: str = "model") -> ModelInfo:
    """Parse a tflite flatbuffer; raises ModelError naming `source` if it is not one."""
    model = parse_flatbuffer(data, source)
    graph = model.subgraphs[0]
    ops = []
    for i, op in enumerate(graph.operators):
        op_type = op_type_of(model, op)
        out_elems = int(np.prod(tensor_shape(graph.tensors[op.outputs[0]])))
        weights = tuple(tensor_shape(graph.tensors[op.inputs[1]])) if op_type in _MAC_OPS else ()
        ops.append(OpInfo(i, op_type, _macs(op_type, out_elems, weights), out_elems))
    constant_buffers = {t.buffer for t in graph.tensors if t.buffer}
    parameter_bytes = sum(
        len(model.buffers[b].data) for b in constant_buffers if model.buffers[b].data is not None
    )
    return ModelInfo(
        ops=tuple(ops),
        parameter_bytes=int(parameter_bytes),
        input=_tensor_spec(graph.tensors[graph.inputs[0]]),
        output=_tensor_spec(graph.tensors[graph.outputs[0]]),
    )


def read_model_info_file(path: Path) -> ModelInfo:
    return read_model_info(path.read_bytes(), str(path))
