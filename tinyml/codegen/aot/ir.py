"""Graph IR of the AOT compiler: a plain, TF-free view of one int8 .tflite subgraph.

Built by `reader.read_tflite`; consumed by the memory planner and the op lowerings
(`ops/`). Everything is plain Python/NumPy so lowerings stay easy to test.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ...model.tflite_file import layer_from_tensor_name


@dataclass
class Tensor:
    """One tensor of the subgraph.

    index       position in the .tflite subgraph's tensor list (stable id)
    name        tensor name from the converter, e.g. "sequential/conv1/Relu"
    shape       tuple of ints (NHWC for 4-D activations)
    dtype       "int8", "int32", "int16", "float32", ... (numpy dtype name)
    scale       float32 array (len 1 per-tensor, len C per-channel); empty if unquantized
    zero_point  int64 array, same length as scale
    quant_axis  quantized dimension for per-channel tensors
    data        NumPy array (dtype, shape) for constant tensors, else None
    """

    index: int
    name: str
    shape: tuple[int, ...]
    dtype: str
    scale: np.ndarray = field(default_factory=lambda: np.zeros(0, np.float32))
    zero_point: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    quant_axis: int = 0
    data: np.ndarray | None = None

    @property
    def is_const(self) -> bool:
        return self.data is not None

    @property
    def size(self) -> int:
        """Element count."""
        return int(np.prod(self.shape, dtype=np.int64)) if self.shape else 1

    @property
    def nbytes(self) -> int:
        return self.size * np.dtype(self.dtype).itemsize

    @property
    def layer(self) -> str:
        """The Keras layer that produced this tensor, by the project's one naming rule
        (tinyml.model.tflite_file.layer_from_tensor_name); a name it cannot place (e.g. a
        model output "StatefulPartitionedCall:0") is returned as is."""
        return layer_from_tensor_name(self.name) or self.name

    def scalar_scale(self) -> float:
        """Per-tensor scale as a Python float (float32 value, like TFLM's params.scale)."""
        return float(self.scale[0])

    def scalar_zp(self) -> int:
        return int(self.zero_point[0])


@dataclass
class Op:
    """One operator.

    index    position in the subgraph's operator list (execution order)
    builtin  builtin op name, e.g. "CONV_2D"
    options  builtin options as a dict with snake_case keys, e.g.
             {"padding": "SAME", "stride_h": 2, "stride_w": 2, "dilation_h": 1,
              "dilation_w": 1, "fused_activation": "RELU6"}
    inputs   list of Tensor (None for an omitted optional input, e.g. no bias)
    outputs  list of Tensor
    source_layer  the layer tinyml.model.tflite_file names for this op (also from the
             signature and the weights' names), so compiler errors and check.json agree
    """

    index: int
    builtin: str
    options: dict[str, Any]
    inputs: list[Tensor | None]
    outputs: list[Tensor]
    source_layer: str | None = None

    @property
    def layer(self) -> str:
        if self.source_layer:
            return self.source_layer
        return self.outputs[0].layer if self.outputs else "?"


@dataclass
class Graph:
    """One subgraph: tensors, ops in execution order, graph inputs/outputs."""

    tensors: list[Tensor]
    ops: list[Op]
    inputs: list[Tensor]
    outputs: list[Tensor]
    sha256: str = ""
    description: str = ""
