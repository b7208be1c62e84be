"""Read and validate a .tflite file without TensorFlow.

`load_tflite(path)` checks the file is a well-formed, single-subgraph TFLite
flatbuffer and returns a small, read-only view of it (ops, tensors, inputs,
outputs, constant data). Anything wrong becomes a ModelError naming the file
and the fault, never a parser traceback. This is the package's one .tflite
parser: the host checks, the quantize stage, the export metadata and the AOT
compiler's reader (which builds its richer IR on top) all go through
`parse_tflite`, and `layer_from_tensor_name` is the one rule for naming the
Keras layer an op or tensor came from.
"""
from __future__ import annotations

import hashlib
import struct
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..core.errors import ModelError

FILE_IDENTIFIER = b"TFL3"
MIN_BYTES = 16                     # root offset + identifier + a minimal table
MAX_BYTES = 2 ** 31 - 1            # flatbuffers' 32-bit offsets; larger models use external buffers

# TensorType enum values -> (name, bytes per element). INT4/INT2 are packed; size 0 = unknown.
_DTYPES = {
    0: ("FLOAT32", 4), 1: ("FLOAT16", 2), 2: ("INT32", 4), 3: ("UINT8", 1), 4: ("INT64", 8),
    5: ("STRING", 0), 6: ("BOOL", 1), 7: ("INT16", 2), 8: ("COMPLEX64", 8), 9: ("INT8", 1),
    10: ("FLOAT64", 8), 11: ("COMPLEX128", 16), 12: ("UINT64", 8), 13: ("RESOURCE", 0),
    14: ("VARIANT", 0), 15: ("UINT32", 4), 16: ("UINT16", 2), 17: ("INT4", 0), 18: ("BFLOAT16", 2),
}
FLOAT_DTYPES = frozenset({"FLOAT32", "FLOAT16", "FLOAT64", "BFLOAT16"})
# int16 tensors a full-int8 model still has: the integer LSTM's cell state (input 19),
# which the converter always quantizes to int16 (TFLM and the AOT run it so).
INT16_STATE_INPUTS = {"UNIDIRECTIONAL_SEQUENCE_LSTM": frozenset({19})}


def schema():
    from tflite_micro.tensorflow.lite.micro.python import schema_py_generated
    return schema_py_generated


def builtin_names() -> dict[int, str]:
    bo = schema().BuiltinOperator
    return {v: k for k, v in vars(bo).items() if not k.startswith("_") and isinstance(v, int)}


def layer_from_tensor_name(name: str | None) -> str | None:
    """Keras layer name from a converter tensor name.

    "sequential/conv2d/Relu;sequential/conv2d/BiasAdd" -> "conv2d"; the first
    scope is the model, the second the layer. tfmot's QAT wrapper prefix
    "quant_" is dropped so the name matches the user's layer.
    """
    if not name:
        return None
    for part in name.split(";"):
        scopes = [s for s in part.split(":")[0].split("/") if s]
        if len(scopes) >= 3:
            layer = scopes[1]
        elif len(scopes) == 2:
            layer = scopes[0]
        else:
            continue
        return _user_layer(layer)
    return None


def _user_layer(layer: str) -> str:
    """The user's layer name: tfmot's QAT wrapper prefix "quant_" dropped."""
    return layer[6:] if layer.startswith("quant_") and len(layer) > 6 else layer


@dataclass(frozen=True)
class Tensor:
    index: int
    name: str
    shape: tuple[int, ...]
    dtype: str
    scale: np.ndarray            # float32 [k]; empty if not quantized
    zero_point: np.ndarray       # int64 [k]
    quantized_dimension: int
    buffer: int
    is_constant: bool            # has data in the file (weights, biases, shapes)

    @property
    def quantized(self) -> bool:
        return self.scale.size > 0

    @property
    def num_elements(self) -> int:
        return int(np.prod(self.shape)) if self.shape else 1


@dataclass(frozen=True)
class Op:
    index: int
    name: str                    # builtin name, e.g. "CONV_2D", or "CUSTOM:<code>"
    version: int
    inputs: tuple[int, ...]      # tensor indices; -1 = optional input left out
    outputs: tuple[int, ...]
    output_name: str             # name of the first output tensor
    layer: str | None            # Keras layer it came from (best effort)

    def describe(self) -> str:
        where = f" (layer '{self.layer}')" if self.layer else ""
        short = self.output_name.split(";")[0]   # converter names join fused ops with ';'
        return f"op #{self.index} {self.name}, output tensor '{short}'{where}"


@dataclass
class TfliteModel:
    path: Path
    data: bytes
    ops: list[Op]
    tensors: list[Tensor]
    inputs: list[int]
    outputs: list[int]
    description: str = ""
    signature_outputs: dict[int, str] = field(default_factory=dict)   # tensor index -> name
    flatbuffer: Any = field(default=None, repr=False, compare=False)  # schema ModelT (object API)

    @property
    def size(self) -> int:
        return len(self.data)

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.data).hexdigest()

    def tensor_bytes(self, index: int) -> bytes:
        """Raw (little-endian) data of constant tensor `index`; b"" for an activation."""
        t = self.tensors[index]
        if not t.is_constant:
            return b""
        b = self.flatbuffer.buffers[t.buffer]
        if b.offset or b.size:          # stored after the flatbuffer (large-model layout)
            return self.data[b.offset:b.offset + b.size]
        return np.asarray(b.data, np.uint8).tobytes()

    def input_tensor(self, i: int = 0) -> Tensor:
        return self.tensors[self.inputs[i]]

    def output_tensor(self, i: int = 0) -> Tensor:
        return self.tensors[self.outputs[i]]

    def op_names(self) -> list[str]:
        """Distinct op names in first-use order."""
        return list(dict.fromkeys(op.name for op in self.ops))

    def non_int8_reason(self) -> str | None:
        """Why this is not a full-int8 model, or None if it is.

        Full int8: int8 inputs and outputs, int8 activations, no float tensor
        anywhere (int32 is allowed for biases, shapes and index outputs; int16 for
        an LSTM's cell state, INT16_STATE_INPUTS).
        """
        for kind, idxs in (("input", self.inputs), ("output", self.outputs)):
            for i in idxs:
                t = self.tensors[i]
                if t.dtype != "INT8":
                    return f"model {kind} '{t.name}' is {t.dtype}, not INT8"
        # Name the op that computes in float, not the DEQUANTIZE/QUANTIZE around it.
        found = None
        for op in self.ops:
            int16_ok = INT16_STATE_INPUTS.get(op.name, frozenset())
            for pos, i in enumerate(op.inputs + op.outputs):
                if i < 0:
                    continue
                t = self.tensors[i]
                if t.dtype == "INT16" and pos in int16_ok and pos < len(op.inputs):
                    continue
                if t.dtype in FLOAT_DTYPES:
                    why = f"{op.describe()} uses {t.dtype} tensor '{t.name}'"
                elif not t.is_constant and t.dtype not in ("INT8", "INT32", "BOOL"):
                    why = f"{op.describe()} has {t.dtype} activation '{t.name}'"
                else:
                    continue
                if op.name not in ("QUANTIZE", "DEQUANTIZE"):
                    return why
                found = found or why
        return found

    def is_full_int8(self) -> bool:
        return self.non_int8_reason() is None


def _fail(path: Path, what: str, hint: str | None = None) -> ModelError:
    return ModelError(f"{path}: {what}",
                      hint=hint or "give the int8 .tflite written by `tinyml quantize`")


def load_tflite(path: str | Path) -> TfliteModel:
    """Read and validate `path`; raise ModelError naming the file and the fault."""
    path = Path(path)
    if not path.exists():
        raise _fail(path, "file does not exist")
    if not path.is_file():
        raise _fail(path, "is not a regular file")
    try:
        data = path.read_bytes()
    except OSError as e:
        raise _fail(path, f"cannot be read ({e.strerror})") from None
    return parse_tflite(data, path)


def parse_tflite(data: bytes, path: str | Path = "<bytes>") -> TfliteModel:
    path = Path(path)
    n = len(data)
    if n == 0:
        raise _fail(path, "is empty (0 bytes)")
    if n < MIN_BYTES:
        raise _fail(path, f"is only {n} bytes; too short to be a TFLite flatbuffer")
    if n > MAX_BYTES:
        raise _fail(path, f"is {n} bytes; over the 2 GiB flatbuffer limit")
    ident = bytes(data[4:8])
    if ident != FILE_IDENTIFIER:
        raise _fail(path, f"not a TFLite flatbuffer: bytes 4..8 are {ident!r} not {FILE_IDENTIFIER!r}")
    (root,) = struct.unpack_from("<I", data, 0)
    if root < 8 or root + 4 > n:
        raise _fail(path, f"not a TFLite flatbuffer: root table offset {root} is outside the "
                          f"{n}-byte file (truncated?)")
    sch = schema()
    try:
        m = sch.ModelT.InitFromObj(sch.Model.GetRootAs(data, 0))
    except Exception as e:  # the generated parser raises whatever it trips on
        raise _fail(path, f"TFLite flatbuffer is corrupt or truncated ({type(e).__name__}: {e})") from None
    return _build(m, data, path)


def _build(m, data: bytes, path: Path) -> TfliteModel:
    n = len(data)
    subgraphs = m.subgraphs or []
    if len(subgraphs) != 1:
        raise _fail(path, f"has {len(subgraphs)} subgraphs; only single-subgraph models are supported",
                    hint="control flow (IF/WHILE) and multi-signature models are not supported; "
                         "export one plain Keras model")
    sg = subgraphs[0]
    buffers = m.buffers or []
    codes = m.operatorCodes or []
    names = builtin_names()

    def buffer_len(bi: int) -> int:
        b = buffers[bi]
        if b.offset or b.size:   # data stored after the flatbuffer (large-model layout)
            if b.offset + b.size > n:
                raise _fail(path, f"buffer {bi} spans bytes {b.offset}..{b.offset + b.size}, past the "
                                  f"end of the {n}-byte file (truncated?)")
            return int(b.size)
        return 0 if b.data is None or isinstance(b.data, int) else len(b.data)

    tensors: list[Tensor] = []
    for ti, t in enumerate(sg.tensors or []):
        name = t.name.decode("utf-8", "replace") if isinstance(t.name, bytes) else (t.name or f"tensor_{ti}")
        dtype, width = _DTYPES.get(t.type, (f"TYPE_{t.type}", 0))
        shape = tuple(int(d) for d in (t.shape if t.shape is not None else []))
        if not 0 <= t.buffer < max(len(buffers), 1):
            raise _fail(path, f"tensor {ti} '{name}' refers to buffer {t.buffer}, but the file has "
                              f"{len(buffers)} buffers (corrupt?)")
        blen = buffer_len(t.buffer) if buffers else 0
        elems = int(np.prod(shape)) if shape else 1
        if blen and width and all(d >= 0 for d in shape) and blen != elems * width:
            raise _fail(path, f"tensor {ti} '{name}' {dtype}{list(shape)} needs {elems * width} bytes "
                              f"but its buffer holds {blen} (corrupt or truncated?)")
        q = t.quantization
        scale = np.asarray(q.scale if q is not None and q.scale is not None else [], np.float32).ravel()
        zp = np.asarray(q.zeroPoint if q is not None and q.zeroPoint is not None else [], np.int64).ravel()
        tensors.append(Tensor(ti, name, shape, dtype, scale, zp,
                              int(q.quantizedDimension) if q is not None else 0,
                              int(t.buffer), blen > 0))

    def check_idx(what: str, idxs) -> tuple[int, ...]:
        out = tuple(int(i) for i in (idxs if idxs is not None else []))
        for i in out:
            if not -1 <= i < len(tensors):
                raise _fail(path, f"{what} refers to tensor {i}, but the subgraph has "
                                  f"{len(tensors)} tensors (corrupt?)")
        return out

    inputs = list(check_idx("model input list", sg.inputs))
    outputs = list(check_idx("model output list", sg.outputs))
    if not inputs or not outputs or min(inputs + outputs) < 0:
        raise _fail(path, "has no model inputs or outputs (corrupt?)")

    sig_out: dict[int, str] = {}
    for sig in m.signatureDefs or []:
        for tm in sig.outputs or []:
            nm = tm.name.decode() if isinstance(tm.name, bytes) else tm.name
            if nm:
                sig_out[int(tm.tensorIndex)] = nm

    ops: list[Op] = []
    for oi, o in enumerate(sg.operators or []):
        if not 0 <= o.opcodeIndex < len(codes):
            raise _fail(path, f"op #{oi} uses opcode {o.opcodeIndex}, but the file has "
                              f"{len(codes)} operator codes (corrupt?)")
        oc = codes[o.opcodeIndex]
        code = max(int(oc.builtinCode), int(oc.deprecatedBuiltinCode))
        opname = names.get(code, f"BUILTIN_{code}")
        if opname == "CUSTOM":
            cc = oc.customCode.decode() if isinstance(oc.customCode, bytes) else oc.customCode
            opname = f"CUSTOM:{cc}"
        ins = check_idx(f"op #{oi} {opname} inputs", o.inputs)
        outs = check_idx(f"op #{oi} {opname} outputs", o.outputs)
        out_name = tensors[outs[0]].name if outs and outs[0] >= 0 else ""
        layer = layer_from_tensor_name(out_name)
        if layer is None and outs and outs[0] in sig_out:
            layer = _user_layer(sig_out[outs[0]])   # graph outputs are renamed; the signature keeps the layer
        if layer is None:                     # weights usually carry the layer scope
            for i in ins:
                if i >= 0 and tensors[i].is_constant:
                    layer = layer_from_tensor_name(tensors[i].name)
                    if layer:
                        break
        ops.append(Op(oi, opname, int(oc.version), ins, outs, out_name, layer))

    desc = m.description.decode("utf-8", "replace") if isinstance(m.description, bytes) else (m.description or "")
    return TfliteModel(path, bytes(data), ops, tensors, inputs, outputs, desc, sig_out, flatbuffer=m)
